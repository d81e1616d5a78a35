/**
 * Read-only opens of SQLite files change nothing on disk: not the bytes, not `user_version`,
 * not the journal mode; a reference database opens and reports that it needs an upgrade.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { BackendUnavailableError, ConfigError, StoreNotFoundError } from '../../src/core/index.js';
import { copyReferenceDb, referenceExpectations, useTempDir, withRawDb } from './helpers.js';

/** Everything about a database file a read-only open must leave alone. */
async function fileState(dbPath: string) {
  const bytes = await readFile(dbPath);
  const pragmas = await withRawDb(dbPath, async (db) => ({
    userVersion: (await db.all('PRAGMA user_version'))[0]?.user_version,
    journalMode: (await db.all('PRAGMA journal_mode'))[0]?.journal_mode,
    schema: await db.schema(),
  }));
  return { bytes, ...pragmas };
}

describe('SQLite: read-only opens', () => {
  const opened: SQLiteStorage[] = [];
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
  });
  // After the stores close: jest runs afterEach hooks in the order they were registered.
  const dir = useTempDir();
  const open = async (dbPath: string) => {
    const storage = new SQLiteStorage({ dbPath, readOnly: true });
    opened.push(storage);
    await storage.initialize();
    return storage;
  };

  it('refuses an unrelated SQLite file without adding tables, user_version or WAL', async () => {
    const dbPath = join(dir(), 'other.db');
    await withRawDb(dbPath, (db) => db.run('CREATE TABLE notes (body TEXT)'));
    const before = await fileState(dbPath);
    expect(before.journalMode).toBe('delete');
    await expect(open(dbPath)).rejects.toThrow(StoreNotFoundError);
    await expect(open(dbPath)).rejects.toMatchObject({
      code: 'STORE_NOT_FOUND',
      message: expect.stringContaining('has no conversations table'),
    });
    expect(await fileState(dbPath)).toEqual(before);
    // No journal, WAL or shared-memory file either.
    expect(await readdir(dir())).toEqual(['other.db']);
  });

  it('refuses a missing file without creating it or its folder', async () => {
    const dbPath = join(dir(), 'typo', 'connectome.db');
    await expect(open(dbPath)).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    expect(existsSync(join(dir(), 'typo'))).toBe(false);
  });

  it('reads a reference database as it is and reports that it needs an upgrade', async () => {
    const dbPath = await copyReferenceDb(dir());
    const before = await fileState(dbPath);
    expect(before.userVersion).toBe(0);
    const storage = await open(dbPath);
    const expected = referenceExpectations().sqlite;
    for (const [id, value] of Object.entries(expected.conversations)) {
      expect(await storage.loadConversation(id)).toEqual(value);
    }
    for (const [id, value] of Object.entries(expected.memories)) {
      expect(await storage.loadMemories(id)).toEqual(value);
    }
    const upgrade = { schema_version: 0, supported_schema_version: 2, needs_upgrade: true };
    expect(await storage.healthCheck()).toMatchObject({ status: 'healthy', read_only: true, ...upgrade });
    expect(await storage.getStorageStats()).toMatchObject({ read_only: true, ...upgrade });
    await storage.shutdown();
    expect(await fileState(dbPath)).toEqual(before);
  });

  it('leaves a WAL database in WAL mode and its user_version as it is', async () => {
    const dbPath = join(dir(), 'wal.db');
    const writer = new SQLiteStorage({ dbPath });
    await writer.initialize();
    await writer.storeConversation('c', { title: 'x' });
    await writer.shutdown();
    const before = await fileState(dbPath);
    expect(before.journalMode).toBe('wal');
    const storage = await open(dbPath);
    expect(await storage.loadConversation('c')).toEqual({ title: 'x' });
    expect(await storage.healthCheck()).toMatchObject({ journal_mode: 'wal', needs_upgrade: false });
    await storage.shutdown();
    expect(await fileState(dbPath)).toEqual(before);
  });

  it('still refuses a newer schema version', async () => {
    const dbPath = await copyReferenceDb(dir());
    await withRawDb(dbPath, (db) => db.run('PRAGMA user_version = 99'));
    await expect(open(dbPath)).rejects.toThrow(ConfigError);
  });

  it('refuses a file a killed writer left a rollback journal beside as an outage naming it, until a writable open', async () => {
    // enableWalMode: false, and a writer killed inside a transaction that spilled into the file.
    const dbPath = join(dir(), 'journal.db');
    const writer = new SQLiteStorage({ dbPath, enableWalMode: false });
    await writer.initialize();
    const kept = Array.from({ length: 20 }, (_, i) => ({ memoryId: `m${i}`, data: { text: `kept ${i}` } }));
    await writer.storeMemories('c', kept);
    await writer.shutdown();
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('sqlite3').Database)(${JSON.stringify(dbPath)});
        db.exec("PRAGMA cache_size = 1; BEGIN IMMEDIATE; UPDATE memories SET memory_data = json_object('pad', hex(randomblob(4000)));",
          (error) => { if (error) { console.error(error); process.exit(1); } console.log('ready'); });
        setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    expect(existsSync(`${dbPath}-journal`)).toBe(true);

    // Until 2026-12-06 a plain StorageError: "attempt to write a readonly database".
    const reader = new SQLiteStorage({ dbPath, readOnly: true });
    const refused = reader.initialize();
    await expect(refused).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(refused).rejects.toThrow(`left its rollback journal ${dbPath}-journal`);
    // A writable open rolls the journal back; then read-only opens read the store as it was.
    const recovering = new SQLiteStorage({ dbPath, enableWalMode: false });
    await recovering.initialize();
    await recovering.shutdown();
    const memories = await (await open(dbPath)).loadMemories('c');
    expect(memories.map((m) => [m.memory_id, m.text])).toEqual(kept.map((m) => [m.memoryId, m.data.text]));
  });

  it('refuses :memory:, which is always empty', async () => {
    await expect(open(':memory:')).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
  });
});
