/**
 * Recovering an unreadable state value by overwriting it: the bad bytes are kept in a backup
 * marked as one of an unreadable file, which the stats, `listUnlistedFiles()` and a migration do
 * not take for a key's data; a real key whose file looks like a backup is still reported.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { filesIn, makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const BAD = '{"state_key": "runtime", "da'; // cut off mid-write
const STAMP = String.raw`\d{8}_\d{6}_\d{6}`;

/** The reference's pruning glob `{stem}.*.backup.json`, as a regular expression. */
const referenceGlob = (stem: string) => new RegExp(`^${stem.replace(/\./g, '\\.')}\\..*\\.backup\\.json$`);

async function copyIntoSqlite(source: Awaited<ReturnType<typeof openStore>>): Promise<SQLiteStorage> {
  const target = new SQLiteStorage({ dbPath: path.join(await makeTempDir(), 'copy.db') });
  await target.initialize();
  try {
    expect(await migrateStorage(source, target)).toMatchObject({ ok: true });
  } catch (error) {
    await target.shutdown();
    throw error;
  }
  return target;
}

describe('overwriting an unreadable system state value', () => {
  it('keeps the bad bytes in a marked backup that stats, listUnlistedFiles and migration do not report', async () => {
    const storage = await openStore();
    const system = path.join(storage.baseDir, 'system');
    await storage.storeSystemState('runtime', { v: 1 });
    await fse.writeFile(path.join(system, 'runtime.json'), BAD);
    expect(await storage.listUnlistedFiles()).toEqual(['system/runtime.json']);

    await storage.storeSystemState('runtime', { v: 2 });
    expect(await storage.loadSystemState('runtime')).toEqual({ v: 2 });
    const backups = (await filesIn(system)).filter((name) => name !== 'runtime.json');
    expect(backups).toHaveLength(1);
    const [backup] = backups as [string];
    expect(backup).toMatch(new RegExp(`^runtime\\.${STAMP}~unreadable\\.backup\\.json$`));
    expect(backup).toMatch(referenceGlob('runtime')); // the reference prunes it as a backup
    expect(await fse.readFile(path.join(system, backup), 'utf8')).toBe(BAD);

    expect((await storage.getStorageStats()).corrupt_files).toEqual([]);
    expect(await storage.listUnlistedFiles()).toEqual([]);
    expect(await storage.listSystemStateKeys()).toEqual(['runtime']);
    const target = await copyIntoSqlite(storage);
    try {
      expect(await target.loadSystemState('runtime')).toEqual({ v: 2 });
    } finally {
      await target.shutdown();
    }

    // Deleting the key afterwards leaves no corruption reported either.
    await storage.deleteSystemState('runtime');
    expect((await storage.getStorageStats()).corrupt_files).toEqual([]);
  });

  it('marks the backup of an unreadable file at a hashed name, and prunes marked backups as any other', async () => {
    const storage = await openStore({ maxBackupFiles: 1 });
    const system = path.join(storage.baseDir, 'system');
    await storage.storeSystemState('a:b', { owner: 'a:b' }); // takes a_b.json
    await storage.storeSystemState('a/b', { v: 1 }); // its hashed name
    const hashed = (await filesIn(system)).find((name) => name.includes('~')) as string;
    await fse.writeFile(path.join(system, hashed), BAD);

    await storage.storeSystemState('a/b', { v: 2 });
    const stem = hashed.slice(0, -'.json'.length);
    const marked = (await filesIn(system)).filter((name) => name.endsWith('~unreadable.backup.json'));
    expect(marked).toHaveLength(1);
    expect(marked[0]?.startsWith(`${stem}.`)).toBe(true);
    expect(await storage.listUnlistedFiles()).toEqual([]);

    // The next overwrite backs up the readable value and prunes the marked backup (keep 1).
    await storage.storeSystemState('a/b', { v: 3 });
    const left = (await filesIn(system)).filter((name) => name.startsWith(`${stem}.`) && name !== hashed);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(new RegExp(`\\.${STAMP}\\.backup\\.json$`));
    expect(await storage.loadSystemState('a/b')).toEqual({ v: 3 });
    expect(await storage.loadSystemState('a:b')).toEqual({ owner: 'a:b' });
  });

  it("still reports an unreadable file at a key's own name that looks like a backup, and never prunes a key's data", async () => {
    const storage = await openStore({ maxBackupFiles: 1 });
    const system = path.join(storage.baseDir, 'system');
    // A plain key named like a reference backup of "runtime": its file is its data.
    const lookAlike = 'runtime.20250306_101500.backup';
    await storage.storeSystemState(lookAlike, { mine: true });
    await fse.writeFile(path.join(system, `${lookAlike}.json`), BAD);
    // A key named like a marked backup: not plain (`~`), so stored under a name without it.
    const markedLike = 'runtime.20250306_101500_000000~unreadable.backup';
    await storage.storeSystemState(markedLike, { marked: true });

    for (const v of [1, 2, 3]) await storage.storeSystemState('runtime', { v });
    await fse.writeFile(path.join(system, 'runtime.json'), BAD);
    await storage.storeSystemState('runtime', { v: 4 });
    await storage.storeSystemState('runtime', { v: 5 }); // prunes runtime's backups to one

    expect(await storage.listUnlistedFiles()).toEqual([`system/${lookAlike}.json`]);
    expect((await storage.getStorageStats()).corrupt_files).toEqual([`system/${lookAlike}.json`]);
    expect(await fse.readFile(path.join(system, `${lookAlike}.json`), 'utf8')).toBe(BAD);
    expect(await storage.loadSystemState(markedLike)).toEqual({ marked: true });
    expect((await storage.listSystemStateKeys()).sort()).toEqual(['runtime', markedLike]);
    // The look-alike key recovers the same way: overwritten, its bad bytes go to a marked backup.
    await storage.storeSystemState(lookAlike, { mine: 2 });
    expect(await storage.listUnlistedFiles()).toEqual([]);
    expect(await storage.loadSystemState(lookAlike)).toEqual({ mine: 2 });
  });
});

describe('overwriting an unreadable cache entry', () => {
  it('replaces it (the cache keeps no backups), so nothing is left to report', async () => {
    const storage = await openStore();
    await storage.storeCacheEntry('entry', { v: 1 });
    await fse.writeFile(path.join(storage.baseDir, 'cache', 'entry.json'), '{"cache_key": "entry", "da');
    await storage.storeCacheEntry('entry', { v: 2 });
    expect(await filesIn(path.join(storage.baseDir, 'cache'))).toEqual(['entry.json']);
    expect(await storage.listUnlistedFiles()).toEqual([]);
    expect((await storage.getStorageStats()).corrupt_files).toEqual([]);
  });
});
