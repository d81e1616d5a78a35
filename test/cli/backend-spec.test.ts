/** Backend spec parsing: every form, options, identities, redaction, env files. */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBackendSpec, sameStore } from '../../src/cli/backend-spec.js';
import { specFromEnvFile } from '../../src/cli/env-file-spec.js';
import { ConfigError } from '../../src/core/index.js';
import { cli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-spec-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('parseBackendSpec', () => {
  it('reads file and sqlite paths, relative or absolute, with options', () => {
    expect(parseBackendSpec('file:./storage_data', dir)).toEqual({
      type: 'file',
      config: { baseDir: './storage_data' },
      display: 'file:./storage_data',
      identity: `file:${join(dir, 'storage_data')}`,
      localPath: join(dir, 'storage_data'),
    });
    expect(parseBackendSpec('file:///srv/data', dir)).toMatchObject({ config: { baseDir: '/srv/data' } });
    expect(
      parseBackendSpec('file:/abs/x?createBackups=no&max_backup_files=2&prettyPrintJson=off', dir).config,
    ).toEqual({ baseDir: '/abs/x', createBackups: false, maxBackupFiles: 2, prettyPrintJson: false });
    expect(parseBackendSpec('sqlite:./x.db?connectionTimeout=2.5&enableWalMode=0', dir)).toMatchObject({
      type: 'sqlite',
      config: { dbPath: './x.db', connectionTimeout: 2.5, enableWalMode: false },
      identity: `sqlite:${join(dir, 'x.db')}`,
    });
    const memory = parseBackendSpec('sqlite::memory:', dir);
    expect(memory.config).toEqual({ dbPath: ':memory:' });
    expect(parseBackendSpec('sqlite::memory:', dir).identity).not.toBe(memory.identity);
  });

  it('refuses a file URL it cannot read whole, naming it, and reads %23 as #', () => {
    // `file:///tmp/a#b` named the folder /tmp/a: the URL parser drops a fragment silently, so
    // the command went to another store. Other malformed file URLs threw a TypeError or a
    // URIError (not a ConfigError) from the URL parser.
    const refused: [string, RegExp][] = [
      ['file:///tmp/a#b', /fragment.*%23/],
      ['file:///tmp/a?createBackups=false#b', /fragment.*%23/],
      ['file:///tmp/a#', /fragment.*%23/],
      ['file://elsewhere/tmp/a', /host/],
      ['file:///tmp/a%2Fb', /encoded \//],
      ['file:///tmp/a%ED%A0%80', /malformed|well-formed/],
      ['file:///tmp/a%00b', /NUL/],
    ];
    for (const [spec, message] of refused) {
      let error: unknown;
      try {
        parseBackendSpec(spec, dir);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(JSON.stringify(spec));
      expect((error as Error).message).toMatch(message);
    }
    expect(parseBackendSpec('file:///tmp/a%23b', dir).config).toEqual({ baseDir: '/tmp/a#b' });
    expect(parseBackendSpec('file://localhost/tmp/a', dir).config).toEqual({ baseDir: '/tmp/a' });
    // Not a URL: a path as written, `#` included.
    expect(parseBackendSpec('file:./a#b', dir).config).toEqual({ baseDir: './a#b' });
    expect(parseBackendSpec('sqlite:/tmp/a#b.db', dir).config).toEqual({ dbPath: '/tmp/a#b.db' });
  });

  it('gives one identity to paths that name the same place', async () => {
    await symlink(dir, join(dir, 'link'));
    const a = parseBackendSpec(`file:${dir}/data`, '/');
    expect(parseBackendSpec('file:./link/./data/', dir).identity).toBe(a.identity);
    expect(parseBackendSpec(`file:${dir}/data/../data`, '/').identity).toBe(a.identity);
    expect(parseBackendSpec(`sqlite:${dir}/data`, '/').identity).not.toBe(a.identity);
    await writeFile(join(dir, 'x.db'), '');
    await symlink(join(dir, 'x.db'), join(dir, 'y.db'));
    expect(parseBackendSpec('sqlite:./link/y.db', dir).identity).toBe(`sqlite:${join(dir, 'x.db')}`);
  });

  it('reads redis and postgres URLs, takes out their options and redacts passwords', () => {
    const redis = parseBackendSpec('redis://:s3cret@Cache.local/2?prefix=app:&commandTimeout=500');
    expect(redis).toEqual({
      type: 'redis',
      config: { url: 'redis://:s3cret@Cache.local/2', keyPrefix: 'app:', commandTimeout: 500 },
      display: 'redis://:***@Cache.local/2 (prefix "app:")',
      identity: 'redis://cache.local:6379/2#app:',
    });
    expect(parseBackendSpec('rediss://127.0.0.1:6380').identity).toBe('redis://localhost:6380/0#connectome:');
    const pg = parseBackendSpec('postgresql://u:p%40ss@db:5433/app?sslmode=require&schema=s1&max=3');
    expect(pg.type).toBe('postgres');
    expect(pg.config).toEqual({
      url: 'postgresql://u:p%40ss@db:5433/app?sslmode=require',
      schema: 's1',
      max: 3,
    });
    expect(pg.identity).toBe('postgres://db:5433/app#s1');
    expect(pg.display).toBe('postgresql://u:***@db:5433/app?sslmode=require (schema "s1")');
  });

  it("gives a Redis URL's ?db=N the identity of /N (ioredis reads either)", () => {
    expect(parseBackendSpec('redis://h:6379?db=3').identity).toBe(
      parseBackendSpec('redis://h:6379/3').identity,
    );
    expect(parseBackendSpec('redis://h:6379?db=3').identity).not.toBe(
      parseBackendSpec('redis://h:6379').identity,
    );
    expect(parseBackendSpec('redis://h/2?db=3').identity).toBe(parseBackendSpec('redis://h/2').identity);
    // ioredis reads the database as a number (parseInt).
    const same = (a: string, b: string) => sameStore(parseBackendSpec(a), parseBackendSpec(b));
    expect(same('redis://h/01', 'redis://h/1')).toBe(true);
    expect(same('redis://h?db=02', 'redis://h/2')).toBe(true);
    expect(same('redis://h/00', 'redis://h')).toBe(true);
    expect(same('redis://h/01', 'redis://h/10')).toBe(false);
  });

  it('counts loopback host names as one host in the same-store check, and nothing else', () => {
    const same = (a: string, b: string) => sameStore(parseBackendSpec(a), parseBackendSpec(b));
    for (const host of ['127.0.0.1', '[::1]', 'LocalHost', 'localhost.', '127.1', '[0:0:0:0:0:0:0:1]']) {
      expect(same('redis://localhost:6379', `redis://${host}:6379`)).toBe(true);
      expect(same(`redis://${host}`, 'redis://127.0.0.1:6379/0?prefix=connectome:')).toBe(true);
      expect(same('postgres://u@localhost/app', `postgresql://u:pw@${host}:5432/app`)).toBe(true);
    }
    // A loopback host on another port, database, prefix or schema is another store.
    expect(same('redis://localhost:6379', 'redis://127.0.0.1:6380')).toBe(false);
    expect(same('redis://localhost:6379', 'redis://127.0.0.1:6379/1')).toBe(false);
    expect(same('redis://localhost?prefix=a:', 'redis://127.0.0.1?prefix=b:')).toBe(false);
    expect(same('postgres://localhost/app', 'postgres://[::1]/app?schema=s2')).toBe(false);
    // Only loopback names: other hosts are never looked up, and 127.0.0.2 is another address.
    expect(same('redis://localhost', 'redis://127.0.0.2')).toBe(false);
    expect(same('redis://localhost', 'redis://myhost')).toBe(false);
    expect(same('redis://1.2.3.4.5', 'redis://1.2.3.4.5:6379')).toBe(true);
    expect(same('redis://localhost', 'postgres://localhost:6379/0')).toBe(false);
    expect(same('redis://cache.local', 'redis://Cache.Local:6379')).toBe(true);
    // The identity (written into a target's resume marker) is canonical: one for every loopback spelling.
    for (const host of ['127.0.0.1', '[::1]', 'LocalHost', '127.1']) {
      expect(parseBackendSpec(`redis://${host}`).identity).toBe('redis://localhost:6379/0#connectome:');
    }
  });

  it("gives pg's ?host= and ?port= the identity of the same host and port written in the URL", () => {
    const same = (a: string, b: string) => sameStore(parseBackendSpec(a), parseBackendSpec(b));
    expect(same('postgres://ignored/app?host=::1&port=5433', 'postgres://[::1]:5433/app')).toBe(true);
    expect(same('postgres://x/app?host=LOCALHOST', 'postgres://127.0.0.1/app')).toBe(true);
    expect(same('postgres://x/app?host=%3A%3Affff%3A127.0.0.1', 'postgres://localhost/app')).toBe(true);
    expect(same('postgres://x/app?host=::2', 'postgres://[::1]/app')).toBe(false);
    expect(parseBackendSpec('postgres://x/app?host=::1').identity).toBe(
      'postgres://localhost:5432/app#connectome',
    );
    expect(parseBackendSpec('postgres://x/app?host=fe80::A').identity).toBe(
      'postgres://[fe80::a]:5432/app#connectome',
    );
  });

  it("reads a PostgreSQL URL's percent-encoded host and database and its ?port= as pg does", () => {
    const same = (a: string, b: string) => sameStore(parseBackendSpec(a), parseBackendSpec(b));
    // pg decodes the host (a socket folder may be written %2F...) and the database (decodeURI).
    expect(
      same('postgres://%2Fvar%2Frun%2Fpostgresql/app', 'postgres://x/app?host=/var/run/postgresql'),
    ).toBe(true);
    expect(same('postgres://h/te%73t', 'postgres://h/test')).toBe(true);
    expect(same('postgres://h/donn%c3%a9es', 'postgres://h/données')).toBe(true);
    expect(same('postgres://h/%75', 'postgres://u@h/')).toBe(true);
    // pg reads ?port= as a number.
    expect(same('postgres://h/app?port=05432', 'postgres://h:5432/app')).toBe(true);
    // decodeURI keeps an escaped reserved character: pg connects to a database named a%2Fb.
    expect(same('postgres://h/a%2Fb', 'postgres://h/a/b')).toBe(false);
    expect(same('postgres://h/app', 'postgres://h/apq')).toBe(false);
    expect(parseBackendSpec('postgres://%2Ftmp%2Fpg/te%73t').identity).toBe(
      'postgres:///tmp/pg:5432/test#connectome',
    );
  });

  it('decodes a host or database once, as pg does, however often the identity is compared', () => {
    const same = (a: string, b: string) => sameStore(parseBackendSpec(a), parseBackendSpec(b));
    // pg connects to a database named a%41 (decodeURI of /a%2541), not to aA.
    expect(same('postgres://h/a%2541', 'postgres://h/aA')).toBe(false);
    expect(same('postgres://h/a%2541', 'postgres://h/a%2541')).toBe(true);
    // ?host= is decoded by the URL's query already: /tmp/a%41 is a socket folder of its own.
    expect(same('postgres://h/app?host=/tmp/a%2541', 'postgres://h/app?host=/tmp/aA')).toBe(false);
    expect(same('postgres://%2Ftmp%2Fa%2541/app', 'postgres://h/app?host=/tmp/a%2541')).toBe(true);
    // A database pg takes from the user (no path) is a name, not URL-encoded.
    expect(same('postgres://a%2541@h/', 'postgres://h/a%2541')).toBe(true);
    expect(same('postgres://a%2541@h/', 'postgres://h/aA')).toBe(false);
  });

  it('keeps the case of a socket folder, which a host name does not have', () => {
    const same = (a: string, b: string) => sameStore(parseBackendSpec(a), parseBackendSpec(b));
    // Paths are case-sensitive: /tmp/A and /tmp/a are two socket folders, two servers.
    expect(same('postgres:///app?host=/tmp/A', 'postgres:///app?host=/tmp/a')).toBe(false);
    expect(same('postgres://%2Ftmp%2FA/app', 'postgres://%2Ftmp%2Fa/app')).toBe(false);
    expect(same('postgres://%2Ftmp%2FA/app', 'postgres:///app?host=/tmp/A')).toBe(true);
    expect(parseBackendSpec('postgres:///app?host=/Tmp/PG').identity).toBe(
      'postgres:///Tmp/PG:5432/app#connectome',
    );
    // Host names stay case-insensitive.
    expect(same('postgres://DB.Example/app', 'postgres://db.example/app')).toBe(true);
    expect(same('postgres://x/app?host=DB.Example', 'postgres://db.example/app')).toBe(true);
  });

  it('takes a PostgreSQL URL without a host when its ?host= gives one, as pg and libpq do', () => {
    const same = (a: string, b: string) => sameStore(parseBackendSpec(a), parseBackendSpec(b));
    const socket = parseBackendSpec('postgres:///app?host=/var/run/postgresql&schema=s');
    expect(socket.config).toMatchObject({ schema: 's' });
    expect(new URL(socket.config.url as string).searchParams.get('host')).toBe('/var/run/postgresql');
    expect(socket.identity).toBe('postgres:///var/run/postgresql:5432/app#s');
    expect(same('postgres:///app?host=/var/run/postgresql', 'postgres://%2Fvar%2Frun%2Fpostgresql/app')).toBe(
      true,
    );
    expect(same('postgresql:///app?host=::1&port=5433', 'postgres://localhost:5433/app')).toBe(true);
    // Without a host anywhere it is still refused.
    expect(() => parseBackendSpec('postgres:///app')).toThrow(/a host is needed/);
    expect(() => parseBackendSpec('postgres:///app?host=')).toThrow(/a host is needed/);
    expect(() => parseBackendSpec('redis:///0?host=h')).toThrow(/a host is needed/);
  });

  it('reads maxReasoningChainsPerAgent as an integer for every built-in backend', () => {
    for (const spec of ['file:./d', 'sqlite:./x.db', 'redis://h:6379/0', 'postgres://h/db']) {
      const sep = spec.includes('?') ? '&' : '?';
      const parsed = parseBackendSpec(`${spec}${sep}maxReasoningChainsPerAgent=100`, dir);
      expect(parsed.config.maxReasoningChainsPerAgent).toBe(100);
      expect(String(parsed.config.url ?? '')).not.toContain('maxReasoningChainsPerAgent');
    }
    expect(() => parseBackendSpec('sqlite:./x.db?maxReasoningChainsPerAgent=many', dir)).toThrow(ConfigError);
  });

  it('passes other backends their options', () => {
    expect(parseBackendSpec('mine:?label=x&size=3')).toMatchObject({
      type: 'mine',
      config: { label: 'x', size: '3' },
    });
  });

  it('keeps secret-looking option values out of identities and displays', () => {
    // The identity is written into the target's resume marker and shown in refusals.
    const mine = parseBackendSpec('mine:?label=x&apiToken=t0ken-s3cret&password=pw-s3cret');
    expect(mine.identity).toBe('mine:{"apiToken":"***","label":"x","password":"***"}');
    expect(mine.display).toBe('mine:');
    expect(parseBackendSpec('mine:?label=y').identity).not.toBe(mine.identity);
    const pg = parseBackendSpec('postgres://db/app?password=q-s3cret&sslmode=require');
    expect(pg.display + pg.identity).not.toContain('q-s3cret');
  });

  it.each([
    ['file:./x?token=t0ken-s3cret', /Unknown option token in "file:\.\/x\?token=\*\*\*"/],
    [
      'sqlite:./x.db?password=pw-s3cret&mode=1',
      /Unknown option password in "sqlite:\.\/x\.db\?password=\*\*\*&mode=1"/,
    ],
    ['mine:somewhere?apiKey=k3y-s3cret', /"mine:somewhere\?apiKey=\*\*\*"/],
  ])(
    'masks the secret-looking values of %s in its refusal (a spec that is not a scheme:// URL)',
    (spec, message) => {
      // Until 2026-12-06 such a spec was quoted as typed: the CLI masks only scheme:// URLs.
      expect(() => parseBackendSpec(spec)).toThrow(message);
      expect(() => parseBackendSpec(spec)).not.toThrow(/s3cret/);
    },
  );

  it.each([
    ['./storage_data', /Invalid backend spec/],
    ['file:', /path is missing/],
    ['file:./x?createBackups=maybe', /createBackups.*true\/false/],
    ['file:./x?createBackups=1&create_backups=0', /given twice/],
    ['redis://', /Invalid redis URL/],
    ['mine:somewhere', /takes options only/],
  ])('refuses %s', (spec, message) => {
    expect(() => parseBackendSpec(spec)).toThrow(ConfigError);
    expect(() => parseBackendSpec(spec)).toThrow(message);
  });
});

describe('specFromEnvFile', () => {
  it('reads the CONNECTOME_STORAGE_* variables of an env file only', async () => {
    const path = join(dir, 'target.env');
    await writeFile(
      path,
      'CONNECTOME_STORAGE_TYPE=sqlite\nCONNECTOME_STORAGE_DB_PATH=./t.db\nCONNECTOME_STORAGE_WAL_MODE=no\n',
    );
    process.env.CONNECTOME_STORAGE_TYPE = 'redis';
    try {
      expect(specFromEnvFile(path, dir)).toMatchObject({
        type: 'sqlite',
        config: { dbPath: './t.db', enableWalMode: false },
        display: `sqlite:./t.db (from ${path})`,
        identity: `sqlite:${join(dir, 't.db')}`,
      });
    } finally {
      delete process.env.CONNECTOME_STORAGE_TYPE;
    }
    const redis = join(dir, 'redis.env');
    await writeFile(redis, 'CONNECTOME_STORAGE_TYPE=redis\nCONNECTOME_STORAGE_REDIS_URL=redis://:pw@h:1\n');
    expect(specFromEnvFile(redis, dir)).toMatchObject({
      identity: 'redis://h:1/0#connectome:',
      display: `redis://:***@h:1 (prefix "connectome:") (from ${redis})`,
    });
    const empty = join(dir, 'empty.env');
    await writeFile(empty, '# nothing\n');
    expect(specFromEnvFile(empty, dir)).toMatchObject({
      type: 'file',
      identity: `file:${join(dir, 'storage_data')}`,
    });
  });

  it('refuses a missing file, an unknown type and a bad value, naming them', async () => {
    expect(() => specFromEnvFile(join(dir, 'none.env'))).toThrow(/Cannot read env file/);
    // The path once (resolved, then the given one when it differs), then the cause's words.
    const missing = join(dir, 'none.env');
    const messageOf = (given: string, cwd?: string): string => {
      try {
        specFromEnvFile(given, cwd);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error(`${given} was read`);
    };
    expect(messageOf(missing)).toBe(
      `Cannot read env file ${missing}: ENOENT, no such file or directory (open)`,
    );
    expect(messageOf('none.env', dir)).toBe(
      `Cannot read env file ${missing} (given as none.env): ENOENT, no such file or directory (open)`,
    );
    const bad = join(dir, 'bad.env');
    await writeFile(bad, 'CONNECTOME_STORAGE_TYPE=mongo\n');
    expect(() => specFromEnvFile(bad)).toThrow(/Unsupported storage type 'mongo'/);
    // Names of Object's members: until 2026-12-06 found on the table's prototype.
    for (const type of ['constructor', '__proto__', 'toString']) {
      await writeFile(bad, `CONNECTOME_STORAGE_TYPE=${type}\n`);
      expect(() => specFromEnvFile(bad)).toThrow(
        `Unsupported storage type '${type}' in CONNECTOME_STORAGE_TYPE of`,
      );
    }
    await writeFile(bad, 'CONNECTOME_STORAGE_TYPE=file\nCONNECTOME_STORAGE_CREATE_BACKUPS=maybe\n');
    expect(() => specFromEnvFile(bad)).toThrow(/CONNECTOME_STORAGE_CREATE_BACKUPS/);
  });

  it('refuses a library variable the chosen backend and semantic search do not read, naming it', async () => {
    const typo = join(dir, 'typo.env');
    await writeFile(typo, 'CONNECTOME_STORAGE_TYPE=sqlite\nCONNECTOME_STORAGE_SQLITE_PATH=./t.db\n');
    expect(() => specFromEnvFile(typo, dir)).toThrow(ConfigError);
    expect(() => specFromEnvFile(typo, dir)).toThrow(
      /Unknown variable CONNECTOME_STORAGE_SQLITE_PATH in .*typo\.env.*CONNECTOME_STORAGE_DB_PATH/,
    );
    // Another backend's variable, and misspelled semantic ones, are refused too.
    for (const line of [
      'CONNECTOME_STORAGE_TYPE=file\nCONNECTOME_STORAGE_DB_PATH=./t.db',
      'CONNECTOME_STORAGE_TYPE=file\nCONNECTOME_SEMANTICS=1',
      'CONNECTOME_EMBEDDER_TYPE=hashing\nCONNECTOME_EMBEDDER_DIMENSION=8',
      'CONNECTOME_VECTOR_TYPE=file\nCONNECTOME_VECTOR_DB_PATH=./v.db',
    ]) {
      await writeFile(typo, `${line}\n`);
      expect(() => specFromEnvFile(typo, dir)).toThrow(/Unknown variable CONNECTOME_/);
    }
    // What the file's choices read, and other applications' variables, are fine.
    await writeFile(
      typo,
      'CONNECTOME_STORAGE_TYPE=sqlite\nCONNECTOME_STORAGE_DB_PATH=./t.db\nCONNECTOME_SEMANTIC=0\n' +
        'CONNECTOME_SEMANTIC_MAX_INPUT_CHARS=100\n' +
        'CONNECTOME_EMBEDDER_TYPE=openai\nCONNECTOME_EMBEDDER_MODEL=m\nCONNECTOME_VECTOR_TYPE=sqlite-vec\n' +
        'CONNECTOME_VECTOR_DB_PATH=./v.db\nOTHER_APP_SETTING=1\n',
    );
    expect(specFromEnvFile(typo, dir).config).toEqual({ dbPath: './t.db' });
    // The CLI exits 2 naming it (a dry run would otherwise count into the default location).
    await writeFile(typo, 'CONNECTOME_STORAGE_TYPE=sqlite\nCONNECTOME_STORAGE_SQLITE_PATH=./t.db\n');
    await writeFile(join(dir, 'src.env'), `CONNECTOME_STORAGE_BASE_DIR=${dir}\n`);
    const result = await cli('migrate', '--from-env', join(dir, 'src.env'), '--to-env', typo, '--dry-run');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown variable CONNECTOME_STORAGE_SQLITE_PATH/);
  });

  it('refuses a URL parameter its driver does not read (every one goes to the driver there), naming it', async () => {
    const path = join(dir, 'url.env');
    for (const [line, message] of [
      [
        'REDIS_URL=redis://:pw@h/0?keyPrefix=x:',
        /Unknown parameter keyPrefix in the URL redis:\/\/:\*\*\*@h\/0\?keyPrefix=x: of .*url\.env; the redis options are CONNECTOME_STORAGE_\* variables there; and for its driver: db,/,
      ],
      ['POSTGRES_URL=postgres://h/db?sslmod=require', /Unknown parameter sslmod /],
      [
        'POSTGRES_URL=postgres://h/db?statement_timeout=0',
        /statement_timeout .* give statementTimeoutMillis/,
      ],
    ] as const) {
      const type = line.startsWith('REDIS') ? 'redis' : 'postgres';
      await writeFile(path, `CONNECTOME_STORAGE_TYPE=${type}\nCONNECTOME_STORAGE_${line}\n`);
      expect(() => specFromEnvFile(path, dir)).toThrow(ConfigError);
      expect(() => specFromEnvFile(path, dir)).toThrow(message);
    }
    await writeFile(
      path,
      'CONNECTOME_STORAGE_TYPE=postgres\nCONNECTOME_STORAGE_POSTGRES_URL=postgres://h/db?sslmode=require&user=u\n',
    );
    expect(specFromEnvFile(path, dir).config).toEqual({ url: 'postgres://h/db?sslmode=require&user=u' });
  });
});
