/**
 * D3, files the reference wrote stay readable: a key whose sanitized name passes 200 bytes is
 * written here under its hashed name, but the reference writes `{sanitized}.json` for it
 * whenever that fits a file name (up to 250 bytes of stem). Until 2026-12-04 such a file was
 * never read, listed or reported as unlisted, so a migration of a Python store dropped it.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { hashedKeyFileName } from '../../src/backends/file/layout.js';
import { filesIn, makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const LONG_CACHE = `chunk:${'c'.repeat(224)}`; // sanitized: 230 bytes
const TWIN_CACHE = `chunk/${'c'.repeat(224)}`; // the same sanitized name, another key
const LONG_STATE = 's'.repeat(240); // plain, but past 200 bytes
const REFERENCE_TIME = '2026-11-24T02:58:57.669712+00:00';

/** Writes files exactly as the Python reference names and fills them. */
async function referenceStore(): Promise<string> {
  const baseDir = await makeTempDir();
  const write = (rel: string, value: object) =>
    fse.outputFile(path.join(baseDir, rel), JSON.stringify(value, null, 2));
  await write(`cache/chunk_${'c'.repeat(224)}.json`, {
    cache_key: LONG_CACHE,
    data: { from: 'python' },
    stored_at: REFERENCE_TIME,
    expires_at: null,
  });
  await write(`system/${LONG_STATE}.json`, {
    state_key: LONG_STATE,
    data: { from: 'python' },
    stored_at: REFERENCE_TIME,
  });
  return baseDir;
}

describe('reference files of keys whose names pass 200 bytes', () => {
  it('are read, listed and counted', async () => {
    const storage = await openStore({ baseDir: await referenceStore() });
    expect(await storage.loadCacheEntry(LONG_CACHE)).toEqual({ from: 'python' });
    expect(await storage.loadCacheEntries([LONG_CACHE])).toEqual([{ from: 'python' }]);
    expect(await storage.loadSystemState(LONG_STATE)).toEqual({ from: 'python' });
    expect(await storage.listCacheKeys()).toEqual([LONG_CACHE]);
    expect(await storage.listSystemStateKeys()).toEqual([LONG_STATE]);
    expect(await storage.getStorageStats()).toMatchObject({ cache_entry_count: 1, system_state_count: 1 });
    expect(await storage.loadCacheEntry(TWIN_CACHE)).toBeNull();
  });

  it('are replaced by the hashed name on the next write, so one key keeps one file', async () => {
    const baseDir = await referenceStore();
    const storage = await openStore({ baseDir });
    await storage.storeCacheEntries([{ key: LONG_CACHE, data: { from: 'ts' } }]); // the batch path
    await storage.storeSystemState(LONG_STATE, { from: 'ts' });
    expect(await filesIn(path.join(baseDir, 'cache'))).toEqual([hashedKeyFileName(LONG_CACHE)]);
    expect((await filesIn(path.join(baseDir, 'system'))).filter((n) => !n.includes('.backup'))).toEqual([
      hashedKeyFileName(LONG_STATE),
    ]);
    expect(await storage.loadCacheEntry(LONG_CACHE)).toEqual({ from: 'ts' });
    expect(await storage.loadSystemState(LONG_STATE)).toEqual({ from: 'ts' });
    // A delete leaves no older copy to come back.
    await storage.deleteCacheEntry(LONG_CACHE);
    await storage.deleteSystemState(LONG_STATE);
    expect(await storage.loadCacheEntry(LONG_CACHE)).toBeNull();
    expect(await storage.loadSystemState(LONG_STATE)).toBeNull();
    expect(await storage.listCacheKeys()).toEqual([]);
    expect(await storage.listSystemStateKeys()).toEqual([]);
  });

  it("leave another key's reference file alone", async () => {
    const baseDir = await referenceStore();
    const storage = await openStore({ baseDir });
    await storage.storeCacheEntry(TWIN_CACHE, { twin: true });
    expect(await storage.loadCacheEntry(LONG_CACHE)).toEqual({ from: 'python' });
    await storage.deleteCacheEntry(TWIN_CACHE);
    expect(await storage.loadCacheEntry(LONG_CACHE)).toEqual({ from: 'python' });
    expect(await storage.listCacheKeys()).toEqual([LONG_CACHE]);
  });
});

describe('backups of a reference file of a key whose name passes 200 bytes', () => {
  it('the overwritten reference version is kept as a backup of the hashed name, and pruned with them', async () => {
    const baseDir = await referenceStore();
    const storage = await openStore({ baseDir, maxBackupFiles: 2 });
    const system = path.join(baseDir, 'system');
    const hashed = hashedKeyFileName(LONG_STATE);
    const stem = hashed.slice(0, -'.json'.length);
    const backups = async () =>
      (await filesIn(system)).filter((name) => name.startsWith(`${stem}.`) && name.endsWith('.backup.json'));
    await storage.storeSystemState(LONG_STATE, { from: 'ts', n: 1 });
    // Like any overwrite of an existing file: the version replaced is backed up.
    const made = await backups();
    expect(made).toHaveLength(1);
    const first = made[0] as string;
    expect(await fse.readJson(path.join(system, first))).toMatchObject({
      state_key: LONG_STATE,
      data: { from: 'python' },
    });
    // It counts among the hashed file's backups: pruned to `maxBackupFiles` with them.
    for (let n = 2; n <= 4; n += 1) await storage.storeSystemState(LONG_STATE, { from: 'ts', n });
    const kept = await backups();
    expect(kept).toHaveLength(2);
    expect(kept).not.toContain(first);
    expect(await storage.loadSystemState(LONG_STATE)).toEqual({ from: 'ts', n: 4 });
    expect(await storage.listSystemStateKeys()).toEqual([LONG_STATE]);
  });
});
