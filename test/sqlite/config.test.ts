/** SQLite options: validation before any I/O, the reference's snake_case keys, WAL, health. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { SqliteConnection } from '../../src/backends/sqlite/connection.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { BackendUnavailableError, ConfigError } from '../../src/core/index.js';
import { useTempDir } from './helpers.js';

describe('SQLite: configuration', () => {
  const dir = useTempDir();

  it('fills in the reference defaults', () => {
    expect(new SQLiteStorage().config).toEqual({
      dbPath: './storage_data/connectome.db',
      connectionTimeout: 30,
      enableWalMode: true,
      readOnly: false,
      searchIndex: true,
    });
  });

  it('accepts the reference snake_case keys', () => {
    const storage = new SQLiteStorage({ db_path: 'x.db', connection_timeout: 2.5, enable_wal_mode: false });
    expect(storage.config).toEqual({
      dbPath: 'x.db',
      connectionTimeout: 2.5,
      enableWalMode: false,
      readOnly: false,
      searchIndex: true,
    });
  });

  it('prints storage.config with its secrets masked, its values unchanged', () => {
    // A logger a host keeps a token on (until 2026-12-06 printed as it was).
    const logger = { warn: () => undefined, token: 'pw-17', sink: 'https://u:pw-18@logs.example' };
    const storage = new SQLiteStorage({ dbPath: 'x.db', logger });
    for (const shown of [inspect(storage.config, { depth: 10 }), JSON.stringify(storage.config)]) {
      expect(shown).not.toMatch(/pw-1\d/);
      expect(shown).toContain('x.db');
    }
    expect(storage.config.logger).toBe(logger);
  });

  it.each([
    [{ dbPth: 'typo.db' }, 'dbPth'],
    [{ dbPath: '' }, 'dbPath'],
    [{ connectionTimeout: -1 }, 'connectionTimeout'],
    [{ connectionTimeout: '30' }, 'connectionTimeout'],
    [{ enableWalMode: 'yes' }, 'enableWalMode'],
    [{ searchIndex: 'no' }, 'searchIndex'],
  ])('refuses %j with a ConfigError naming %s, before touching the disk', (config, key) => {
    const dbPath = join(dir(), 'never', 'created.db');
    let error: unknown;
    try {
      new SQLiteStorage({ dbPath, ...config } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect((error as Error).message).toContain(key);
    expect(existsSync(join(dir(), 'never'))).toBe(false);
  });

  it.each([
    ['a NUL', 'x\u0000.db'],
    ['a lone surrogate', 'x\ud800.db'],
  ])('refuses a dbPath with %s (the driver would open another file) before touching the disk', (_, name) => {
    // The driver passes the path to SQLite as a C string: `x\0.db` opened the file `x`, so two
    // stores configured with different paths shared one database; a lone surrogate becomes
    // U+FFFD on the way, with the same effect.
    const dbPath = join(dir(), 'never', name);
    expect(() => new SQLiteStorage({ dbPath })).toThrow(ConfigError);
    expect(() => new SQLiteStorage({ dbPath })).toThrow(/dbPath.*without NUL/);
    expect(() => new SQLiteStorage({ dbPath, readOnly: true })).toThrow(ConfigError);
    expect(existsSync(join(dir(), 'never'))).toBe(false);
  });

  it.each(['x.db-wal', 'x.db-shm', 'x.db-journal', 'x.db-WAL'])(
    'refuses the dbPath %s, a name SQLite gives a file of the database beside it, before touching the disk',
    (name) => {
      // A store at `x.db-wal` was taken for the log of a store at `x.db`: that store's next
      // open read it as a log that does not fit and its close deleted it, with all its data.
      const dbPath = join(dir(), 'never', name);
      let error: unknown;
      try {
        new SQLiteStorage({ dbPath });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe('dbPath');
      expect((error as Error).message).toMatch(/dbPath.*must not end in "-wal", "-shm" or "-journal"/);
      expect(() => new SQLiteStorage({ dbPath, readOnly: true })).toThrow(ConfigError);
      expect(existsSync(join(dir(), 'never'))).toBe(false);
    },
  );

  it('opens a database whose name only contains such a word', async () => {
    const storage = new SQLiteStorage({ dbPath: join(dir(), 'x-wal.db') });
    await storage.initialize();
    await storage.storeConversation('c', { v: 1 });
    expect(await storage.loadConversation('c')).toEqual({ v: 1 });
    await storage.shutdown();
  });

  it('uses WAL by default and reports the health keys', async () => {
    const dbPath = join(dir(), 'sub', 'wal.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    const health = await storage.healthCheck();
    expect(health).toMatchObject({
      status: 'healthy',
      storage_type: 'sqlite',
      database_path: dbPath,
      journal_mode: 'wal',
      connection_active: true,
    });
    expect(health.database_size_bytes).toBeGreaterThan(0);
    await storage.shutdown();
    expect(await storage.healthCheck()).toMatchObject({ status: 'error', error: 'shut down' });
  });

  it('syncs every commit to disk (synchronous = FULL), with and without WAL', async () => {
    for (const enableWalMode of [true, false]) {
      const { config } = new SQLiteStorage({
        dbPath: join(dir(), `durable-${enableWalMode}.db`),
        enableWalMode,
      });
      const connection = await SqliteConnection.open(config);
      try {
        const rows = await connection.exclusive('read synchronous', (q) =>
          q.all<{ synchronous: number }>('PRAGMA synchronous'),
        );
        expect(rows).toEqual([{ synchronous: 2 }]);
      } finally {
        await connection.close();
      }
    }
  });

  it.each([
    ['further up', ['sub', 'x.db'], 'sub'],
    // Node's recursive mkdir says EEXIST, "file already exists", for the folder itself: until
    // 2026-12-06 the message said so.
    ['the folder itself', ['x.db'], ''],
  ])(
    'a folder of the path that is a file (%s) fails the open naming the database, then the call and its path',
    async (_, parts, made) => {
      const blocker = join(dir(), 'file');
      writeFileSync(blocker, 'not a folder');
      const dbPath = join(blocker, ...parts);
      const error = await new SQLiteStorage({ dbPath }).initialize().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toBe(
        `SQLite database ${dbPath} cannot be opened: ENOTDIR, not a directory (mkdir ${join(blocker, made)})`,
      );
      expect(readFileSync(blocker, 'utf8')).toBe('not a folder');
    },
  );

  it('leaves the rollback journal when WAL is off', async () => {
    const storage = new SQLiteStorage({ dbPath: join(dir(), 'plain.db'), enableWalMode: false });
    await storage.initialize();
    expect((await storage.healthCheck()).journal_mode).toBe('delete');
    await storage.shutdown();
  });

  it('reports an in-memory database by its page size', async () => {
    const storage = new SQLiteStorage({ dbPath: ':memory:' });
    await storage.initialize();
    const stats = await storage.getStorageStats();
    expect(stats.database_size_bytes).toBe(stats.total_pages_bytes);
    expect(stats.total_bytes).toBe(stats.total_pages_bytes);
    expect((await storage.healthCheck()).journal_mode).toBe('memory');
    await storage.shutdown();
  });
});
