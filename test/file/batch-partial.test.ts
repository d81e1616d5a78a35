/**
 * A file cache batch writes one file per key, in order: when one fails, the error lists the
 * items already written (a prefix), the later items are not written, and no temp file stays.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { BatchPartiallyAppliedError } from '../../src/core/index.js';
import { filesIn, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

describe('file cache batch failures', () => {
  it('reports the prefix written before the failing key and writes nothing after it', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    // A folder where k2's file goes: its atomic replace fails (a rename cannot replace a folder).
    await fse.mkdirp(path.join(cache, 'k2.json'));
    const entries = ['k1', 'k2', 'k3'].map((key, n) => ({ key, data: { n } }));

    const error = await storage.storeCacheEntries(entries).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    expect(error).toMatchObject({ method: 'storeCacheEntries', total: 3, applied: 1, appliedItems: [0] });
    expect((error as Error).message).toContain('k2');
    expect(await storage.loadCacheEntries(['k1', 'k3'])).toEqual([{ n: 0 }, null]);
    expect(await filesIn(cache)).toEqual(['k1.json', 'k2.json']);
  });

  it('throws the plain error when the first item fails, having written nothing', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await fse.mkdirp(path.join(cache, 'k1.json'));
    const error = await storage
      .storeCacheEntries([
        { key: 'k1', data: { n: 0 } },
        { key: 'k2', data: { n: 1 } },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BatchPartiallyAppliedError);
    expect(await storage.loadCacheEntries(['k2'])).toEqual([null]);
    expect(await filesIn(cache)).toEqual(['k1.json']);
  });
});
