/**
 * Config validation before any I/O, unreachable servers and timeouts reported as
 * BackendUnavailableError without the password, a given pool left open, health and stats.
 */
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { BackendUnavailableError, ConfigError, redactUrl, StorageError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { ident, POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

const PASSWORD = 's3cret-Pw_42';

/** The error `fn` throws (synchronously or not), or a failure when it does not. */
async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('postgres config', () => {
  const pool = new pg.Pool({ connectionString: 'postgres://127.0.0.1:1/none' });
  afterAll(() => pool.end());

  it.each([
    ['an unknown key', { urll: 'postgres://x' }, 'urll'],
    ['a non-postgres URL', { url: 'mysql://127.0.0.1/db' }, 'url'],
    // Its user info parses as a path, no host: until 2026-12-06 pg got it, and its default host.
    ['a URL without its //', { url: 'postgres:/u:s3cret@127.0.0.1:5432/test' }, 'url'],
    ['a URL that is not a string', { url: 42 }, 'url'],
    ['an empty schema', { schema: '' }, 'schema'],
    ['a reserved schema', { schema: 'pg_mine' }, 'schema'],
    ['a schema over 63 bytes', { schema: 'ü'.repeat(32) }, 'schema'],
    ['a schema with NUL', { schema: 'a\u0000b' }, 'schema'],
    ['a zero connect timeout', { connectionTimeoutMillis: 0 }, 'connectionTimeoutMillis'],
    ['a fractional statement timeout', { statementTimeoutMillis: 1.5 }, 'statementTimeoutMillis'],
    ['a zero pool size', { max: 0 }, 'max'],
    ['a pool that is not a pg.Pool', { pool: { query: () => 1 } }, 'pool'],
    ['both pool and url', { pool, url: 'postgres://127.0.0.1/db' }, 'url'],
    ['both pool and max', { pool, max: 3 }, 'max'],
    ['a URL parameter pg does not read', { url: 'postgres://127.0.0.1/db?sslmod=require' }, 'url'],
    ['a URL timeout the library sets', { url: 'postgres://127.0.0.1/db?statement_timeout=0' }, 'url'],
    // pg decodes %00 and sends every part as a C string: the server refused the startup packet,
    // which read as an unreachable server (BackendUnavailableError: worth retrying) after I/O.
    ['a URL with a NUL in the database', { url: 'postgres://127.0.0.1/db%00x' }, 'url'],
    ['a URL with a raw NUL', { url: 'postgres://127.0.0.1/db\u0000x' }, 'url'],
    ['a URL with a NUL in the user', { url: 'postgres://me%00x@127.0.0.1/db' }, 'url'],
    ['a URL with a NUL in a parameter', { url: 'postgres://127.0.0.1/db?application_name=a%00b' }, 'url'],
  ])('refuses %s with a ConfigError naming the key, before any I/O', async (_, config, key) => {
    const error = await errorOf(() => new PostgresStorage(config as never));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
  });

  it('refuses a PGPORT that is not a port, for a URL naming none, with a ConfigError before any I/O', async () => {
    // pg read it with parseInt; the socket threw on NaN inside pg's pool, which then never
    // ended: initialize() never settled.
    const saved = process.env.PGPORT;
    process.env.PGPORT = 'five';
    try {
      const storage = new PostgresStorage({ url: `postgres://u:${PASSWORD}@127.0.0.1/db`, readOnly: true });
      const error = await errorOf(() => storage.initialize());
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ key: 'PGPORT' });
      expect(error.message).toMatch(
        /^PGPORT="five", which pg reads for postgres:\/\/u:\*\*\*@127\.0\.0\.1\/db/,
      );
      expect(storage.isInitialized).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.PGPORT;
      else process.env.PGPORT = saved;
    }
  });

  it('refuses every URL parameter but the ones pg reads, naming them and the option to give', async () => {
    const typo = await errorOf(
      () => new PostgresStorage({ url: `postgres://h/db?password=${PASSWORD}&sslmod=require&schema=s` }),
    );
    expect(typo).toBeInstanceOf(ConfigError);
    expect(typo.message).toMatch(
      /^Unknown parameters sslmod, schema in postgres storage config "url" .*for its driver: user, .*sslmode/,
    );
    expect(typo.message).not.toContain(PASSWORD);
    const timeout = await errorOf(() => new PostgresStorage({ url: 'postgres://h/db?connect_timeout=5' }));
    expect(timeout.message).toMatch(
      /Parameter connect_timeout .* is set by the library: give connectionTimeoutMillis/,
    );
    const accepted =
      'postgres://h/db?user=u&password=p&host=h2&port=5433&sslmode=disable&application_name=a&options=-c+x%3D1';
    expect(new PostgresStorage({ url: accepted }).config.url).toBe(accepted);
  });

  it('never echoes a password from a bad URL', async () => {
    const error = await errorOf(() => new PostgresStorage({ url: `ftp://user:${PASSWORD}@host` }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).not.toContain(PASSWORD);
    expect(JSON.stringify(error.cause ?? null)).not.toContain(PASSWORD);
  });

  it('fills in the defaults and accepts a pg.Pool', () => {
    expect(new PostgresStorage().config).toMatchObject({
      url: 'postgres://127.0.0.1:5432/postgres',
      schema: 'connectome',
      max: 10,
      connectionTimeoutMillis: 10_000,
      statementTimeoutMillis: 60_000,
    });
    expect(new PostgresStorage({ pool, schema: 'x' }).schema).toBe('x');
    expect(new PostgresStorage().storageType).toBe('postgres');
    expect(typeof PostgresStorage.description).toBe('string');
  });

  it('reports a missing pg package as BackendUnavailableError naming the install command', async () => {
    jest.resetModules();
    jest.doMock('pg', () => {
      throw new Error("Cannot find module 'pg'");
    });
    try {
      const isolated = await import('../../src/backends/postgres/index.js');
      const core = await import('../../src/core/index.js');
      const error = await new isolated.PostgresStorage().initialize().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(core.BackendUnavailableError);
      expect((error as Error).message).toContain('npm install pg');
    } finally {
      jest.dontMock('pg');
      jest.resetModules();
    }
  });
});

describe('postgres unreachable server', () => {
  const sockets: Socket[] = [];
  let silent: Server | undefined;
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  });

  it('fails fast on a closed port with BackendUnavailableError, without the password', async () => {
    const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${await closedPort()}/test`;
    const started = Date.now();
    const error = await errorOf(() =>
      new PostgresStorage({ url, connectionTimeoutMillis: 30_000 }).initialize(),
    );
    // Refused at once, not after the connection timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toContain('postgres://postgres:***@127.0.0.1');
    expect(error.message).not.toContain(PASSWORD);
  });

  it('gives up after connectionTimeoutMillis on a server that never answers', async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/test`;
    const started = Date.now();
    const error = await errorOf(() =>
      new PostgresStorage({ url, connectionTimeoutMillis: 300 }).initialize(),
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).not.toContain(PASSWORD);
  });
});

describeWithService('postgres')('postgres server behaviour', () => {
  const ctx = usePostgresStore();

  it.each([
    ['a writable store', '-c statement_timeout=1', false, 'statement_timeout'],
    [
      'a read-only store',
      '--Idle-In-Transaction-Session-Timeout=1',
      true,
      'idle_in_transaction_session_timeout',
    ],
  ])(
    'warns of a PGOPTIONS setting what the library sets (%s), whose value does not apply',
    async (_, options, readOnly, name) => {
      // pg sends PGOPTIONS when the URL gives no options; the pool's own startup parameter wins
      // over it, so until 2026-12-06 the variable's value was ignored silently.
      if (readOnly) await (await ctx.open()).storeConversation('c', { v: 1 });
      const warnings: string[] = [];
      const logger = { warn: (message: string) => void warnings.push(message) };
      const saved = process.env.PGOPTIONS;
      process.env.PGOPTIONS = options;
      try {
        const s = await ctx.open({ readOnly, logger });
        // At 1 ms the open's statements (or the read's transaction) would fail: the library's value applies.
        if (readOnly) expect(await s.loadConversation('c')).toEqual({ v: 1 });
        else await s.storeConversation('c', { v: 1 });
        expect(warnings).toEqual([
          `postgres storage: PGOPTIONS=${JSON.stringify(options)}, which pg reads for ${redactUrl(POSTGRES_TEST_URL)} ` +
            `(it gives no options), sets ${name}, which the library sets itself: the library's value ` +
            'applies (give statementTimeoutMillis to change it)',
        ]);
      } finally {
        if (saved === undefined) delete process.env.PGOPTIONS;
        else process.env.PGOPTIONS = saved;
      }
    },
  );

  it('cancels a statement after statementTimeoutMillis (a write blocked by a lock)', async () => {
    // 1 s, not 300 ms: the open's DDL and the first write run under it too (and under its idle
    // in transaction bound) on the shared server, which a loaded machine can hold up 300 ms.
    // Still a tenth of the bound below: a timeout ten times too long fails the test.
    const s = await ctx.open({ statementTimeoutMillis: 1000 });
    await s.storeConversation('c', { v: 1 });
    const locker = await ctx.raw().connect();
    try {
      await locker.query('BEGIN');
      await locker.query(
        `SELECT 1 FROM ${ident(ctx.schema())}.conversations WHERE conversation_id = 'c' FOR UPDATE`,
      );
      const started = Date.now();
      const error = await errorOf(() => s.storeConversation('c', { v: 2 }));
      expect(Date.now() - started).toBeLessThan(10_000); // the default would wait 60 s
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toContain('"c"');
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect(await s.loadConversation('c')).toEqual({ v: 1 });
  });

  it.each([
    ['a URL', 'repeatable read'],
    ['a given pool', 'serializable'],
  ])(
    'refuses a writable open whose sessions (set by %s) run at %s, before creating anything; a read-only open reads',
    async (by, level) => {
      // A role's or database's default_transaction_isolation does the same. At these levels the
      // schema's functions read the snapshot from before their lock wait: until 2026-12-06 a
      // delete batch that waited for a memory batch left its new rows in place.
      const options = `-c default_transaction_isolation=${level.replace(' ', '\\ ')}`;
      const pool = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 2, options });
      try {
        const config =
          by === 'a URL' ? { url: `${POSTGRES_TEST_URL}?options=${encodeURIComponent(options)}` } : { pool };
        const error = await errorOf(() => ctx.open(config));
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).key).toBe('default_transaction_isolation');
        expect(error.message).toContain(`"${level}"`);
        expect(error.message).toContain('read committed');
        const schemas = await ctx
          .raw()
          .query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [ctx.schema()]);
        expect(schemas.rows).toEqual([]);
        // Reads need no lock: a read-only open of a schema a writable open made works there.
        await (await ctx.open()).storeMemory('c', 'm', { v: 1 });
        const reader = await ctx.open({ ...config, readOnly: true });
        expect(await reader.loadMemories('c')).toEqual([expect.objectContaining({ memory_id: 'm', v: 1 })]);
      } finally {
        await pool.end();
      }
    },
  );

  it('uses a given pool and leaves it open after shutdown', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 3 });
    try {
      const s = await ctx.open({ pool });
      await s.storeMemory('c', 'm', { v: 1 });
      expect((await s.healthCheck()).postgres_url).toBe('given pg.Pool');
      await s.shutdown();
      expect(pool.ended).toBe(false);
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${ident(ctx.schema())}.memories`);
      expect(rows[0]).toEqual({ n: 1 });
    } finally {
      await pool.end();
    }
  });

  it('reports health with server details and a redacted URL', async () => {
    const s = await ctx.open();
    const health = await s.healthCheck();
    expect(health).toMatchObject({
      status: 'healthy',
      storage_type: 'postgres',
      database: 'test',
      schema: ctx.schema(),
      postgres_url: redactUrl(POSTGRES_TEST_URL),
    });
    expect(String(health.server_version)).toMatch(/^\d+/);
    expect(typeof health.pool_total_count).toBe('number');
  });

  it('reports stats with table sizes, total_bytes their sum', async () => {
    const s = await ctx.open();
    await s.storeConversation('c', { v: 'x'.repeat(10_000) });
    const stats = await s.getStorageStats();
    const tables = stats.table_bytes as Record<string, number>;
    expect(Object.keys(tables)).toContain('conversations');
    expect(stats.total_bytes).toBe(Object.values(tables).reduce((a, b) => a + b, 0));
    expect(stats.total_bytes).toBeGreaterThan(0);
    expect(stats.schema).toBe(ctx.schema());
  });

  it('names the failing operation and keeps driver errors typed', async () => {
    const s = await ctx.open();
    await ctx.raw().query(`DROP TABLE ${ident(ctx.schema())}.system_state`);
    const error = await errorOf(() => s.storeSystemState('k', { v: 1 }));
    expect(error).toBeInstanceOf(StorageError);
    expect(error).not.toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toContain('store system state "k"');
    expect(error.message).toContain('42P01');
  });

  it('names the count and the first key of a failing cache batch', async () => {
    const s = await ctx.open();
    await ctx.raw().query(`DROP TABLE ${ident(ctx.schema())}.cache_entries`);
    const entries = ['zeta', 'alpha'].map((key) => ({ key, data: { key } }));
    const error = await errorOf(() => s.storeCacheEntries(entries));
    expect(error).toBeInstanceOf(StorageError);
    expect(error.message).toContain('store 2 cache entries from "zeta"');
  });
});
