/**
 * A database file of several hard links: SQLite names a database's journal, WAL and WAL index
 * after the name it is opened by, so two names of one file get two logs of it. Refused with a
 * `ConfigError` naming the path, before anything is written, instead of a bare "disk I/O error".
 */
import { linkSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { ConfigError } from '../../src/core/index.js';
import { useTempDir } from './helpers.js';

/** Opens `path` with the driver alone (another program), in WAL mode, and stores one row. */
function writeThroughDriver(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path, (openError) => {
      if (openError) return reject(openError);
      db.exec('PRAGMA journal_mode = WAL; CREATE TABLE extra (x); INSERT INTO extra VALUES (1)', (error) =>
        db.close(() => (error ? reject(error) : resolve())),
      );
    });
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

function expectHardLinkError(error: unknown, path: string): void {
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).key).toBe('dbPath');
  expect((error as Error).message).toContain(path);
  expect((error as Error).message).toMatch(/has 2 hard links/);
}

describe('SQLite: a database file of several hard links', () => {
  const dir = useTempDir();

  async function storedDatabase(): Promise<string> {
    const dbPath = join(dir(), 'store.db');
    const store = new SQLiteStorage({ dbPath });
    await store.initialize();
    await store.storeMemory('conv', 'm1', { text: 'kept' });
    await store.shutdown();
    return dbPath;
  }

  it.each([
    ['the first name', false, false],
    ['the other name', true, false],
    ['the first name, read-only', false, true],
    ['the other name, read-only', true, true],
  ])('refuses to open it through %s, writing nothing', async (_, other, readOnly) => {
    const dbPath = await storedDatabase();
    const linkPath = join(dir(), 'other.db');
    linkSync(dbPath, linkPath);
    const bytes = readFileSync(dbPath);
    const files = readdirSync(dir()).sort();
    const opened = other ? linkPath : dbPath;
    const store = new SQLiteStorage({ dbPath: opened, readOnly });
    expectHardLinkError(await rejectionOf(store.initialize()), opened);
    expect(readFileSync(dbPath).equals(bytes)).toBe(true);
    expect(readdirSync(dir()).sort()).toEqual(files);
  });

  it('names the hard links when a link made after the open breaks a later call', async () => {
    // Opened through one name; another connection in this process then writes through a second
    // name: both share SQLite's WAL index (one per file) but keep two WAL files (one per name),
    // so the store's next read found frames its WAL lacks, a bare "disk I/O error".
    const dbPath = await storedDatabase();
    const store = new SQLiteStorage({ dbPath });
    await store.initialize();
    try {
      expect(await store.loadMemories('conv')).toHaveLength(1);
      const linkPath = join(dir(), 'other.db');
      linkSync(dbPath, linkPath);
      const failure = await rejectionOf(writeThroughDriver(linkPath));
      const read = await rejectionOf(store.loadMemories('conv'));
      // Which side SQLite fails depends on who reads the broken index first; ours must say why.
      expect(failure ?? read).toBeDefined();
      if (read !== undefined) expectHardLinkError(read, dbPath);
    } finally {
      await store.shutdown().catch(() => undefined);
    }
  });
});
