/**
 * Backend spec options: every config key a built-in backend reads from its environment
 * variables is taken (parsed, and out of a URL before the driver sees it); an unknown key or one
 * that the path already gives is refused, naming the key.
 */
import { FILE_CONFIG_KEYS } from '../../src/backends/file/config.js';
import { FileStorage } from '../../src/backends/file/index.js';
import { POSTGRES_CONFIG_KEYS } from '../../src/backends/postgres/config.js';
import { REDIS_CONFIG_KEYS } from '../../src/backends/redis/config.js';
import { SQLITE_CONFIG_KEYS } from '../../src/backends/sqlite/config.js';
import { parseBackendSpec } from '../../src/cli/backend-spec.js';
import { OBJECT_KEYS, optionKinds } from '../../src/cli/spec-options.js';
import { ConfigError } from '../../src/core/index.js';
import { BUILTIN_BACKENDS } from '../../src/factory/builtins.js';
import {
  dropSchema,
  POSTGRES_TEST_URL,
  uniqueTestSchema,
  withPgClient,
} from '../conformance/harness-postgres.js';
import { populate } from '../migration/support.js';
import { describeWithService } from '../services.js';
import { cli } from './run-cli.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The schema keys of each built-in backend, as its config module lists them. */
const SCHEMA_KEYS: Readonly<Record<string, readonly string[]>> = {
  file: FILE_CONFIG_KEYS,
  sqlite: SQLITE_CONFIG_KEYS,
  redis: REDIS_CONFIG_KEYS,
  postgres: POSTGRES_CONFIG_KEYS,
};

describe('backend spec options', () => {
  it('reach every config key of every built-in backend: by an env variable, a spec option or as an object', () => {
    expect(Object.keys(SCHEMA_KEYS).sort()).toEqual(Object.keys(BUILTIN_BACKENDS).sort());
    for (const [type, keys] of Object.entries(SCHEMA_KEYS)) {
      const byEnv = Object.values(BUILTIN_BACKENDS[type]?.env ?? {}).map((spec) => spec.key);
      const reachable = new Set([...byEnv, ...Object.keys(optionKinds(type) ?? {}), ...OBJECT_KEYS]);
      const missing = keys.filter((key) => !reachable.has(key));
      expect({ type, missing }).toEqual({ type, missing: [] });
    }
  });

  it('takes the keys a backend declares without a variable, parsed', () => {
    expect(parseBackendSpec('redis://h?connectTimeout=5&commandTimeout=6').config).toEqual({
      url: 'redis://h',
      connectTimeout: 5,
      commandTimeout: 6,
    });
    expect(
      parseBackendSpec('postgres://h/db?max=3&connectionTimeoutMillis=4&statementTimeoutMillis=5').config,
    ).toEqual({
      url: 'postgres://h/db',
      max: 3,
      connectionTimeoutMillis: 4,
      statementTimeoutMillis: 5,
    });
  });

  it('parses every option of the environment tables, in paths and URLs', () => {
    expect(parseBackendSpec('file:./d?searchIndex=false&readOnly=1', '/').config).toEqual({
      baseDir: './d',
      searchIndex: false,
      readOnly: true,
    });
    expect(parseBackendSpec('sqlite:./x.db?search_index=off', '/').config).toEqual({
      dbPath: './x.db',
      searchIndex: false,
    });
    const pg = parseBackendSpec(
      'postgres://u:p@db/app?schema=s&searchIndex=false&preparedStatements=false&statsSizeMaxAgeMillis=5&sslmode=require',
    );
    expect(pg.config).toEqual({
      url: 'postgres://u:p@db/app?sslmode=require',
      schema: 's',
      searchIndex: false,
      preparedStatements: false,
      statsSizeMaxAgeMillis: 5,
    });
    expect(parseBackendSpec('redis://h/1?searchIndex=no&family=6').config).toEqual({
      url: 'redis://h/1?family=6',
      searchIndex: false,
    });
  });

  it("passes on the URL parameters the driver reads, and counts pg's host, port and user in the identity", () => {
    const redis = 'redis://h/1?db=2&family=6&username=u&password=p&tls=RedisCloudFixed';
    expect(parseBackendSpec(`${redis}&prefix=a:`).config).toEqual({ url: redis, keyPrefix: 'a:' });
    const pg =
      'postgres://h/db?user=u&password=p&host=h2&port=5433&ssl=true&sslmode=require&sslnegotiation=postgres' +
      '&uselibpqcompat=true&application_name=a&fallback_application_name=b&client_encoding=UTF8' +
      '&options=-c+x%3D1&lock_timeout=1&query_timeout=2';
    expect(parseBackendSpec(`${pg}&schema=s`).config).toEqual({ url: pg, schema: 's' });
    expect(parseBackendSpec('postgres://h?host=h2&port=5433&user=u').identity).toBe(
      'postgres://h2:5433/u#connectome',
    );
  });

  it.each([
    ['file:./d?baseDir=./other', /Option baseDir .* conflicts with its path/],
    ['sqlite:a.db?dbPath=b.db', /Option dbPath .* conflicts with its path/],
    ['sqlite:a.db?db_path=b.db', /Option db_path .* conflicts with its path/],
    ['redis://h?url=redis://other', /Option url .* conflicts with its URL/],
    [
      'sqlite:a.db?statsSizeMaxAgeMillis=5',
      /Unknown option statsSizeMaxAgeMillis .*sqlite takes: .*searchIndex/,
    ],
    ['file:./d?createBackup=false', /Unknown option createBackup /],
    ['file:./d?searchIndex=maybe', /option searchIndex="maybe": expected true\/false/],
    ['postgres://h/db?preparedStatements=perhaps', /option preparedStatements="perhaps"/],
    ['file:./d?semantic=1', /Option semantic .* cannot be given in a spec/],
    // A URL parameter that is neither the library's nor one its driver reads.
    [
      'redis://h?serachIndex=false',
      /Unknown parameter serachIndex in redis:\/\/h\?serachIndex=false; redis takes: .*searchIndex.*; and for its driver: db, family, username, password, tls$/,
    ],
    ['redis://h/0?enableOfflineQueue=true', /Unknown parameter enableOfflineQueue .*for its driver: db,/],
    [
      'postgres://h/db?prepared_statements=false',
      /Unknown parameter prepared_statements .*preparedStatements.*sslmode/,
    ],
    ['postgres://h/db?sslmod=require', /Unknown parameter sslmod /],
    [
      'postgres://h/db?statement_timeout=0',
      /Parameter statement_timeout .* is set by the library: give statementTimeoutMillis/,
    ],
    ['postgres://h/db?connect_timeout=5', /Parameter connect_timeout .* give connectionTimeoutMillis/],
    // A driver's parameter given twice: pg reads the last, the same-store check the first.
    ['postgres://x/db?host=h1&host=localhost', /Parameter host is given more than once in postgres:/],
  ])('refuses %s, naming the key', (spec, message) => {
    expect(() => parseBackendSpec(spec, '/')).toThrow(ConfigError);
    expect(() => parseBackendSpec(spec, '/')).toThrow(message);
  });

  it('exits 2 for a conflicting path option, writing nothing', async () => {
    const result = await cli('stats', 'file:./d?baseDir=./other');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Option baseDir .* conflicts with its path/);
  });
});

describeWithService('postgres')('backend spec options reach PostgreSQL', () => {
  const schema = uniqueTestSchema();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connectome-spec-options-'));
    const source = new FileStorage({ baseDir: join(dir, 'src') });
    await source.initialize();
    await populate(source);
    await source.shutdown();
  });
  afterAll(async () => {
    await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  });

  it('migrates with searchIndex=false and preparedStatements=false: no index entries are written', async () => {
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('schema', schema);
    url.searchParams.set('searchIndex', 'false');
    url.searchParams.set('preparedStatements', 'false');
    const result = await cli('migrate', '--from', `file:${join(dir, 'src')}`, '--to', url.href, '--json');
    expect(result.code).toBe(0);
    const indexed = await withPgClient((client) =>
      client.query(
        `SELECT count(*)::int AS n FROM "${schema}".conversations WHERE search_length IS NOT NULL`,
      ),
    );
    const total = await withPgClient((client) =>
      client.query(`SELECT count(*)::int AS n FROM "${schema}".conversations`),
    );
    expect(total.rows[0].n).toBeGreaterThan(0);
    expect(indexed.rows[0].n).toBe(0);
  });
});
