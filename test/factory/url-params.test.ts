/**
 * Redis and PostgreSQL URL parameters through every entry point of the library (not only the
 * CLI): `createStorage(type, { url })` and the `CONNECTOME_STORAGE_*_URL` variables refuse a
 * parameter the driver does not read, before any I/O, with a ConfigError naming it.
 */
import { ConfigError } from '../../src/core/index.js';
import { redactUrl } from '../../src/core/redact.js';
import { checkUrlParams } from '../../src/core/url-params.js';
import { createStorage, createStorageFromEnv } from '../../src/factory/index.js';
import { thrown } from './support.js';

describe('URL parameters of the network backends', () => {
  it.each([
    ['redis', 'redis://127.0.0.1:1/0?keyPrefix=other:', /Unknown parameter keyPrefix .*db, family/],
    ['redis', 'redis://127.0.0.1:1?db=1&connectTimeout=5', /Unknown parameter connectTimeout /],
    ['postgres', 'postgres://127.0.0.1:1/db?serachIndex=false', /Unknown parameter serachIndex .*sslmode/],
    ['postgres', 'postgres://127.0.0.1:1/db?statement_timeout=0', /give statementTimeoutMillis instead/],
  ])("createStorage('%s', { url: %s }) refuses it before any I/O", (type, url, message) => {
    const error = thrown(() => createStorage(type, { url }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('url');
    expect(error.message).toMatch(message);
  });

  it.each([
    ['-c statement_timeout=1234', 'statement_timeout'],
    ['-c search_path=foo -c idle_in_transaction_session_timeout=5', 'idle_in_transaction_session_timeout'],
    ['--statement-timeout=5', 'statement_timeout'],
    ['-cStatement_Timeout=5', 'statement_timeout'],
    ['-c IDLE-IN-TRANSACTION-SESSION-TIMEOUT=0', 'idle_in_transaction_session_timeout'],
  ])('refuses a PostgreSQL ?options= that sets a timeout the library sets (%s)', (options, name) => {
    // The pool's own statement_timeout startup parameter won over the URL's: until 2026-12-06
    // the session ran with statementTimeoutMillis (60 s), the URL's value dropped silently.
    for (const encoded of [
      encodeURIComponent(options),
      options.replaceAll(' ', '+').replaceAll('=', '%3D'),
    ]) {
      const url = `postgres://127.0.0.1:1/db?options=${encoded}`;
      const error = thrown(() => createStorage('postgres', { url }));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe('url');
      expect(error.message).toMatch(
        new RegExp(
          `^Parameter options of .* sets ${name}, which is set by the library: give statementTimeoutMillis instead$`,
        ),
      );
    }
  });

  it.each([
    ['redis', 'CONNECTOME_STORAGE_REDIS_URL', 'redis://:pw-9@127.0.0.1:1/0?keyPrefix=x:', /keyPrefix/],
    [
      'postgres',
      'CONNECTOME_STORAGE_POSTGRES_URL',
      'postgres://u:pw-9@127.0.0.1:1/db?sslmod=require',
      /sslmod/,
    ],
    [
      'postgres',
      'CONNECTOME_STORAGE_POSTGRES_URL',
      'postgres://u:pw-9@127.0.0.1:1/db?options=-c%20statement_timeout%3D5',
      /sets statement_timeout, .* give statementTimeoutMillis/,
    ],
  ])('the %s URL variable refuses it, naming the variable without the password', (type, name, url, param) => {
    const error = thrown(() => createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: type, [name]: url }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(name);
    expect(error.message).toContain(name);
    expect(error.message).toMatch(param);
    expect(error.message).not.toContain('pw-9');
  });

  it.each([
    // pg would connect to the last host (the same-store check reads the first), ioredis would
    // make the database an array.
    ['postgres', 'postgres://127.0.0.1:1/db?host=elsewhere&host=127.0.0.1', 'host'],
    ['postgres', 'postgres://127.0.0.1:1/db?options=-c%20a%3D1&options=-c%20b%3D2', 'options'],
    ['redis', 'redis://127.0.0.1:1?db=1&db=2', 'db'],
  ])("createStorage('%s', { url: %s }) refuses a driver parameter given twice", (type, url, param) => {
    const error = thrown(() => createStorage(type, { url }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('url');
    expect(error.message).toContain(`Parameter ${param} is given more than once`);
  });

  it.each([
    // pg read these with parseInt and handed NaN or the number to the socket, which threw
    // inside its pool: initialize() never settled (the pool's end() waited for that client).
    ['postgres', 'postgres://127.0.0.1:1/db?port=abc', /Parameter port "abc" .* is not a port/],
    ['postgres', 'postgres://127.0.0.1:1/db?port=-1', /Parameter port "-1" /],
    ['postgres', 'postgres://127.0.0.1:1/db?port=65536', /Parameter port "65536" /],
    ['postgres', 'postgres://127.0.0.1:1/db?port=0', /Parameter port "0" /],
    // pg kept any other ssl text, which turned TLS on; an unknown sslmode meant verify-full.
    ['postgres', 'postgres://127.0.0.1:1/db?ssl=false', /Parameter ssl "false" .* write ssl=true, 1 or 0/],
    ['postgres', 'postgres://127.0.0.1:1/db?sslmode=allow', /Parameter sslmode "allow" .*disable, prefer/],
    // ioredis selected no database (or only logged the refusal): the store used database 0.
    ['redis', 'redis://127.0.0.1:1/abc', /Database "abc" .* is not a database number/],
    ['redis', 'redis://127.0.0.1:1?db=-1', /Database "-1" /],
    // ioredis used the path's database and ignored ?db= (until 2026-12-04).
    [
      'redis',
      'redis://127.0.0.1:1/2?db=3',
      /Parameter db "3" .* names another database than the path's 2: give one$/,
    ],
    ['redis', 'redis://127.0.0.1:1/2?db=x', /Database "x" /],
    // Node's socket threw at connect time: an unavailable server, not a bad URL.
    ['redis', 'redis://localhost:1?family=7', /Parameter family "7" .* write 4, 6 or 0/],
    ['redis', 'redis://localhost:1?family=ipv4', /Parameter family "ipv4" /],
    // ioredis takes any text but a profile name as TLS options: ?tls=false turned TLS on.
    ['redis', 'redis://127.0.0.1:1?tls=false', /Parameter tls "false" .*RedisCloudFixed.*write rediss:\/\//],
  ])("createStorage('%s', { url: %s }) refuses a value the driver misreads", (type, url, message) => {
    const error = thrown(() => createStorage(type, { url }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('url');
    expect(error.message).toMatch(message);
  });

  it.each([
    // ioredis rejected initialize() with a TypeError, "Invalid URL".
    ['redis', ' redis://127.0.0.1:1/0'],
    // pg connected to the host "base", and read "db " as the database.
    ['postgres', ' postgres://127.0.0.1:1/db'],
    ['postgres', 'postgres://127.0.0.1:1/db '],
    ['redis', 'redis://127.0.0.1:1/0\n'],
  ])("createStorage('%s', { url: %j }) refuses spaces around the URL", (type, url) => {
    const error = thrown(() => createStorage(type, { url }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('url');
    expect(error.message).toMatch(/has spaces or control characters before or after it: remove them$/);
  });

  it.each(['redis://:%E0%A4%Apw-9@127.0.0.1:1/0', 'redis://us%ZZer:pw-9@127.0.0.1:1/0'])(
    'refuses a Redis user or password with a malformed escape (ioredis threw a URIError), without the password',
    (url) => {
      const error = thrown(() => createStorage('redis', { url }));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe('url');
      expect(error.message).toContain('holds a malformed %-escape: write % as %25');
      expect(error.message).not.toContain('pw-9');
    },
  );

  it('the URL variable refuses such a number naming the variable', () => {
    const url = 'postgres://u:pw-9@127.0.0.1:1/db?port=5432x';
    const name = 'CONNECTOME_STORAGE_POSTGRES_URL';
    const error = thrown(() => createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'postgres', [name]: url }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(name);
    expect(error.message).toMatch(/Parameter port "5432x"/);
    expect(error.message).not.toContain('pw-9');
  });

  it.each([
    ['redis', 'CONNECTOME_STORAGE_REDIS_URL', 'redis:/default:pw-9@127.0.0.1:1'],
    ['redis', 'CONNECTOME_STORAGE_REDIS_URL', 'default:pw-9@127.0.0.1:1'],
    ['postgres', 'CONNECTOME_STORAGE_POSTGRES_URL', 'postgres:/u:pw-9@127.0.0.1:1/db'],
    ['postgres', 'CONNECTOME_STORAGE_POSTGRES_URL', 'app:pw-9@127.0.0.1:1/db'],
  ])(
    'refuses a %s URL without its // (user info read as a path) naming the variable, without the password',
    (type, name, url) => {
      // Until 2026-12-06 the message quoted the URL whole, and a Redis one's path as its database.
      const error = thrown(() => createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: type, [name]: url }));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe(name);
      expect(error.message).not.toContain('pw-9');
      if (type !== 'redis') return;
      // The CLI's env files check the URL's values first: its path was refused as a database.
      const where = `the URL ${redactUrl(url)} of app.env`;
      const values = thrown(() => checkUrlParams('redis', url, { where, hint: 'the options' }));
      expect(values.message).toBe(`${where} names no host: write redis://host:6379`);
      expect(values.message).not.toContain('pw-9');
    },
  );

  it('takes the parameters the drivers read', () => {
    const redis = 'redis://127.0.0.1:1/0?family=4';
    // A path and ?db= that name one database agree: ioredis uses it.
    expect(createStorage('redis', { url: 'redis://127.0.0.1:1/2?db=02' }).storageType).toBe('redis');
    // Node's socket reads IPv4 and IPv6 as 4 and 6 (refused from 2026-12-04 to the fix).
    for (const family of ['IPv4', 'IPv6', '0', '6']) {
      expect(createStorage('redis', { url: `redis://127.0.0.1:1/0?family=${family}` }).storageType).toBe(
        'redis',
      );
    }
    const postgres = 'postgres://127.0.0.1:1/db?sslmode=disable&ssl=0&application_name=a&user=u&port=65535';
    // Constructing opens nothing: the config is checked and kept.
    expect(createStorage('redis', { url: redis }).storageType).toBe('redis');
    expect(createStorage('postgres', { url: postgres }).storageType).toBe('postgres');
    // Session settings the library does not set stay the URL's (an escaped space is no new switch).
    for (const options of [
      '-c lock_timeout=777 -c search_path=foo',
      '-c application_name=a\\ -c\\ statement_timeout=5',
    ]) {
      const url = `postgres://127.0.0.1:1/db?options=${encodeURIComponent(options)}`;
      expect(createStorage('postgres', { url }).storageType).toBe('postgres');
    }
  });
});
