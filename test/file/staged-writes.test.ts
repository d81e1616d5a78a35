/**
 * A write's temp file is written and synced while its lock is still being taken (the fsync
 * overlaps the wait), yet nothing becomes visible before the lock is held, and a write that never
 * gets its lock leaves no temp file behind.
 */
import path from 'node:path';
import fse from 'fs-extra';
import lockfile from 'proper-lockfile';
import { StorageError } from '../../src/index.js';
import { isTempEntryName } from '../../src/backends/file/temp-files.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Temp files in `dir` whose content is complete JSON (a staged write that finished). */
async function completeTempFiles(dir: string): Promise<unknown[]> {
  const found: unknown[] = [];
  for (const name of (await fse.readdir(dir)).filter(isTempEntryName)) {
    try {
      found.push(JSON.parse(await fse.readFile(path.join(dir, name), 'utf8')));
    } catch {
      // still being written, or renamed meanwhile
    }
  }
  return found;
}

/** Makes every cross-process lock wait until the returned function is called. */
function holdLocks(): () => void {
  const take = lockfile.lock.bind(lockfile);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  jest.spyOn(lockfile, 'lock').mockImplementation(async (...args: Parameters<typeof lockfile.lock>) => {
    await gate;
    return take(...args);
  });
  return open;
}

const KINDS: Array<[string, string, (s: FileStorage, key: string, data: { n: number }) => Promise<unknown>]> =
  [
    ['cache entry', 'cache', (s, key, data) => s.storeCacheEntry(key, data, 3600)],
    ['system state', 'system', (s, key, data) => s.storeSystemState(key, data)],
  ];

describe('a cache or state write waiting for its lock', () => {
  it.each(KINDS)(
    'has its %s written to a temp file meanwhile, visible only once locked',
    async (_kind, folder, store) => {
      const storage = await openStore();
      const dir = path.join(storage.baseDir, folder);
      const release = holdLocks();
      const write = store(storage, 'k1', { n: 1 });
      const deadline = Date.now() + 10_000;
      let staged: unknown[] = [];
      while (staged.length === 0 && Date.now() < deadline) {
        await sleep(5);
        staged = await completeTempFiles(dir);
      }
      expect(staged).toEqual([expect.objectContaining({ data: { n: 1 } })]);
      expect(await fse.pathExists(path.join(dir, 'k1.json'))).toBe(false);
      release();
      await write;
      expect((await fse.readdir(dir)).filter(isTempEntryName)).toEqual([]);
      const loaded =
        folder === 'cache' ? await storage.loadCacheEntry('k1') : await storage.loadSystemState('k1');
      expect(loaded).toEqual({ n: 1 });
    },
  );

  it.each(KINDS)('leaves no temp file when the lock cannot be had (%s)', async (_kind, folder, store) => {
    const storage = await openStore();
    const dir = path.join(storage.baseDir, folder);
    jest
      .spyOn(lockfile, 'lock')
      .mockRejectedValue(Object.assign(new Error('no permission'), { code: 'EACCES' }));
    await expect(store(storage, 'k1', { n: 1 })).rejects.toThrow(StorageError);
    expect(await fse.readdir(dir)).toEqual([]);
  });
});
