/**
 * The schema version kept in `PRAGMA user_version`: a reference database (version 0) is
 * adopted and upgraded in place without losing rows, a newer version is refused, and a
 * file whose tables are not ours is refused rather than silently misread.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SQLITE_SCHEMA_VERSION, SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { ConfigError, CorruptDataError } from '../../src/core/index.js';
import { copyReferenceDb, REFERENCE_TABLE_NAMES, type RawDb, useTempDir, withRawDb } from './helpers.js';

const userVersion = async (db: RawDb): Promise<number> =>
  Number((await db.all('PRAGMA user_version'))[0]?.user_version);

async function rowCounts(dbPath: string): Promise<Record<string, number>> {
  return withRawDb(dbPath, async (db) => {
    const counts: Record<string, number> = {};
    for (const table of REFERENCE_TABLE_NAMES) {
      counts[table] = Number((await db.all(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n);
    }
    return counts;
  });
}

describe('SQLite: schema versioning', () => {
  const dir = useTempDir();

  it('upgrades a reference database (user_version 0) in place, keeping every row', async () => {
    const dbPath = await copyReferenceDb(dir());
    expect(await withRawDb(dbPath, userVersion)).toBe(0);
    const before = await rowCounts(dbPath);
    expect(before.memories).toBe(7);

    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storage.shutdown();

    expect(await withRawDb(dbPath, userVersion)).toBe(SQLITE_SCHEMA_VERSION);
    expect(await rowCounts(dbPath)).toEqual(before);

    // Opening an up-to-date file again changes nothing.
    const again = new SQLiteStorage({ dbPath });
    await again.initialize();
    expect(await again.loadMemories('conv_001')).toHaveLength(3);
    await again.shutdown();
  });

  it('upgrades a version-1 file (reference schema only) in place, adding the library indexes', async () => {
    const dbPath = join(dir(), 'v1.db');
    const first = new SQLiteStorage({ dbPath });
    await first.initialize();
    for (let i = 0; i < 5; i += 1) await first.storeReasoningChain('agent', { i });
    await first.storeMemory('c', 'm', { kept: true });
    await first.shutdown();
    // What version 1 of this library left behind: no library index, user_version 1.
    await withRawDb(dbPath, async (db) => {
      await db.run('DROP INDEX idx_reasoning_chains_agent_order');
      await db.run('DROP INDEX idx_cache_entries_other_expiry');
      await db.run('PRAGMA user_version = 1');
    });
    const before = await rowCounts(dbPath);

    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    expect((await storage.loadReasoningChains('agent', 2)).map((c) => c.i)).toEqual([3, 4]);
    await storage.shutdown();
    expect(await withRawDb(dbPath, userVersion)).toBe(SQLITE_SCHEMA_VERSION);
    expect(await rowCounts(dbPath)).toEqual(before);
    const indexes = await withRawDb(dbPath, (db) => db.schema());
    expect(indexes.map((e) => e.name)).toEqual(
      expect.arrayContaining(['idx_reasoning_chains_agent_order', 'idx_cache_entries_other_expiry']),
    );
  });

  it('stamps a new database with the current version', async () => {
    const dbPath = join(dir(), 'nested', 'folders', 'new.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storage.shutdown();
    expect(await withRawDb(dbPath, userVersion)).toBe(SQLITE_SCHEMA_VERSION);
  });

  it('adopts a version-0 file that holds other tables, leaving them alone', async () => {
    const dbPath = join(dir(), 'shared.db');
    await withRawDb(dbPath, async (db) => {
      await db.run('CREATE TABLE app_settings (k TEXT PRIMARY KEY, v TEXT)');
      await db.run("INSERT INTO app_settings VALUES ('theme', 'dark')");
    });
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storage.storeConversation('c', { ok: true });
    await storage.shutdown();
    expect(await withRawDb(dbPath, (db) => db.all('SELECT * FROM app_settings'))).toEqual([
      { k: 'theme', v: 'dark' },
    ]);
  });

  it('refuses a database written by a newer schema version, naming both versions', async () => {
    const dbPath = await copyReferenceDb(dir());
    await withRawDb(dbPath, (db) => db.run(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 41}`));
    const storage = new SQLiteStorage({ dbPath });
    const error = await storage.initialize().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`schema version ${SQLITE_SCHEMA_VERSION + 41}`);
    expect((error as Error).message).toContain(`supports (${SQLITE_SCHEMA_VERSION})`);
    expect((error as Error).message).toContain(dbPath);
    expect(storage.isInitialized).toBe(false);
    // Nothing was changed.
    expect(await withRawDb(dbPath, userVersion)).toBe(SQLITE_SCHEMA_VERSION + 41);
  });

  it('refuses a table with our name but without our columns, and changes nothing', async () => {
    const dbPath = join(dir(), 'foreign.db');
    await withRawDb(dbPath, (db) => db.run('CREATE TABLE memories (id INTEGER PRIMARY KEY, body TEXT)'));
    const error = await new SQLiteStorage({ dbPath }).initialize().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toMatch(
      /table memories.*missing column\(s\) conversation_id, memory_id/,
    );
    await withRawDb(dbPath, async (db) => {
      expect(await userVersion(db)).toBe(0);
      expect((await db.schema()).map((e) => e.name)).toEqual(['memories']);
    });
  });

  it.each([
    ['a newer schema version', 'PRAGMA user_version = 99', ConfigError],
    [
      'a foreign table of our name',
      'CREATE TABLE memories (id INTEGER PRIMARY KEY, body TEXT)',
      CorruptDataError,
    ],
  ])('leaves the journal mode of a file it refuses (%s) as it was', async (_, setup, refusal) => {
    // Switching to WAL rewrites the file header and makes -wal and -shm files beside it: not
    // something to do to a database that is then refused (another program's, or a newer
    // version's that chose the rollback journal).
    const dbPath = join(dir(), 'refused.db');
    await withRawDb(dbPath, (db) => db.run(setup));
    const error = await new SQLiteStorage({ dbPath }).initialize().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(refusal);
    expect(await withRawDb(dbPath, (db) => db.all('PRAGMA journal_mode'))).toEqual([
      { journal_mode: 'delete' },
    ]);
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
  });

  it('reports a file that is not a database as corrupt, with its path', async () => {
    const dbPath = join(dir(), 'not-a-db.db');
    await writeFile(dbPath, 'this is not a database, just text'.repeat(200));
    const error = await new SQLiteStorage({ dbPath }).initialize().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(dbPath);
  });
});
