/**
 * A file cache batch writes one file per key, all at once (temp files, then renames, then one
 * folder fsync): when one fails, the error lists exactly the items written (every other item is
 * still written), and no temp file stays. A write that landed is never reported as failed; keys
 * sharing a reference name in one batch are written one after another, as single writes are.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { BatchPartiallyAppliedError, MAX_BATCH_ITEMS } from '../../src/core/index.js';
import { KEYS_PER_SLICE } from '../../src/backends/file/keyed-batches.js';
import { hashedKeyFileName } from '../../src/backends/file/layout.js';
import { filesIn, openStore, removeTempDirs, shutdownAll } from './helpers.js';
import { clearImmutable, describeImmutable, makeImmutable } from './immutable.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** A folder where `key`'s file goes: its atomic replace fails (a rename cannot replace a folder). */
const block = (cache: string, key: string): Promise<void> => fse.mkdirp(path.join(cache, `${key}.json`));

describe('file cache batch failures', () => {
  it('reports the items written around the failing key, which is not written', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await block(cache, 'k2');
    const entries = ['k1', 'k2', 'k3'].map((key, n) => ({ key, data: { n } }));

    const error = await storage.storeCacheEntries(entries).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    expect(error).toMatchObject({ method: 'storeCacheEntries', total: 3, applied: 2, appliedItems: [0, 2] });
    expect((error as Error).message).toContain('k2');
    expect(await storage.loadCacheEntries(['k1', 'k3'])).toEqual([{ n: 0 }, { n: 2 }]);
    expect(await filesIn(cache)).toEqual(['k1.json', 'k2.json', 'k3.json']);
  });

  it('writes every other item of its slice after a failure, starts no later slice, and lists exactly the items written', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await block(cache, 'k000');
    const total = KEYS_PER_SLICE * 2 + 10;
    const entries = Array.from({ length: total }, (_, n) => ({
      key: `k${String(n).padStart(3, '0')}`,
      data: { n },
    }));

    const error = await storage.storeCacheEntries(entries).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    const applied = (error as BatchPartiallyAppliedError).appliedItems;
    // Every key but the blocked first one (its "file" is a folder, which a load reports).
    const loaded = await storage.loadCacheEntries(entries.slice(1).map((e) => e.key));
    const present = loaded.flatMap((value, index) => (value === null ? [] : [index + 1]));
    expect(applied).toEqual(present);
    // The first slice but the blocked key; none of the later slices.
    expect(applied).toEqual(Array.from({ length: KEYS_PER_SLICE - 1 }, (_, n) => n + 1));
    expect((await filesIn(cache)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('writes a batch of the largest size, slice after slice', async () => {
    const storage = await openStore({ searchIndex: false });
    const entries = Array.from({ length: MAX_BATCH_ITEMS }, (_, n) => ({ key: `b${n}`, data: { n } }));
    expect(await storage.storeCacheEntries(entries)).toBe(MAX_BATCH_ITEMS);
    expect(await storage.loadCacheEntries(entries.map((e) => e.key))).toEqual(entries.map((e) => e.data));
  });

  it('throws the plain error when every item fails, having written nothing', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await block(cache, 'k1');
    await block(cache, 'k2');
    const error = await storage
      .storeCacheEntries([
        { key: 'k1', data: { n: 0 } },
        { key: 'k2', data: { n: 1 } },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BatchPartiallyAppliedError);
    expect(await filesIn(cache)).toEqual(['k1.json', 'k2.json']);
  });
});

describe('file cache delete batch failures', () => {
  it('reports the items removed around a key that cannot be removed, which keeps its file', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await storage.storeCacheEntries(['k1', 'k3'].map((key, n) => ({ key, data: { n } })));
    await block(cache, 'k2'); // its probe reads a folder: the single delete fails too
    await expect(storage.deleteCacheEntry('k2')).rejects.toThrow(/k2/);

    const error = await storage
      .deleteCacheEntries(['k1', 'k2', 'absent', 'k3', 'k1'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    expect(error).toMatchObject({ method: 'deleteCacheEntries', total: 5, appliedItems: [0, 2, 3, 4] });
    expect(await storage.loadCacheEntries(['k1', 'k3'])).toEqual([null, null]);
    expect(await filesIn(cache)).toEqual(['k2.json']);
  });

  it('removes a batch of the largest size, slice after slice', async () => {
    const storage = await openStore({ searchIndex: false });
    const keys = Array.from({ length: MAX_BATCH_ITEMS }, (_, n) => `b${n}`);
    await storage.storeCacheEntries(keys.map((key, n) => ({ key, data: { n } })));
    expect(await storage.deleteCacheEntries(keys)).toBe(MAX_BATCH_ITEMS);
    expect(await filesIn(path.join(storage.baseDir, 'cache'))).toEqual([]);
  });
});

describeImmutable('file cache writes that landed', () => {
  it('a delete that cannot remove a stale copy leaves the current value, never the stale one', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await storage.storeCacheEntry('x_y', { plain: true });
    await storage.storeCacheEntry('x:y', { v: 'old' }); // `x_y.json` is taken: the hashed name
    await storage.deleteCacheEntry('x_y');
    const hashed = path.join(cache, hashedKeyFileName('x:y'));
    makeImmutable(hashed); // the stale copy stays: its unlink fails (EPERM)
    await storage.storeCacheEntry('x:y', { v: 'new' }); // under the reference name now
    expect(await fse.pathExists(path.join(cache, 'x_y.json'))).toBe(true);
    // The stale copy goes first, so the failed delete changed nothing (until 2026-12-04 the
    // current file went first, and the stale value came back).
    await expect(storage.deleteCacheEntry('x:y')).rejects.toThrow(/EPERM/);
    expect(await storage.loadCacheEntry('x:y')).toEqual({ v: 'new' });
    clearImmutable();
    expect(await storage.deleteCacheEntry('x:y')).toBe(true);
    expect(await storage.loadCacheEntry('x:y')).toBeNull();
    expect(await storage.listCacheKeys()).toEqual([]);
  });

  it('a key moved back to its reference name is written even when its old hashed copy cannot be removed', async () => {
    const warn = jest.fn();
    const storage = await openStore({ logger: { warn } });
    const cache = path.join(storage.baseDir, 'cache');
    await storage.storeCacheEntry('x_y', { plain: true });
    await storage.storeCacheEntry('x:y', { v: 'old' }); // `x_y.json` is taken: the hashed name
    await storage.deleteCacheEntry('x_y'); // the reference name is free again
    const hashed = path.join(cache, hashedKeyFileName('x:y'));
    expect(await fse.pathExists(hashed)).toBe(true);
    makeImmutable(hashed); // its unlink fails: EPERM

    // Neither rejects: both writes landed.
    await storage.storeCacheEntries([
      { key: 'e', data: { n: 0 } },
      { key: 'x:y', data: { v: 'new' } },
    ]);
    expect(await storage.loadCacheEntry('x:y')).toEqual({ v: 'new' });
    await storage.storeCacheEntry('x:y', { v: 'newer' });
    // The new file is under the reference name, which reads and listings try first.
    expect(await storage.loadCacheEntry('x:y')).toEqual({ v: 'newer' });
    expect(await storage.loadCacheEntries(['e', 'x:y'])).toEqual([{ n: 0 }, { v: 'newer' }]);
    expect(await storage.listCacheKeys()).toEqual(['e', 'x:y']);
    expect(await fse.pathExists(hashed)).toBe(true);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('could not remove the old copy'),
      expect.objectContaining({ path: hashed, error: expect.stringContaining('EPERM') as unknown }),
    );

    // The key's next write removes the copy.
    clearImmutable();
    await storage.storeCacheEntry('x:y', { v: 'last' });
    expect(await fse.pathExists(hashed)).toBe(false);
    expect(await storage.loadCacheEntry('x:y')).toEqual({ v: 'last' });
  });
});

describe('file cache batches of keys sharing a reference name', () => {
  it('writes them one after another: a key moving back to its name, then the plain key taking it', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await storage.storeCacheEntry('x_y', { plain: 0 });
    await storage.storeCacheEntry('x:y', { v: 0 }); // `x_y.json` is taken: the hashed name
    await storage.deleteCacheEntry('x_y'); // the reference name is free again
    // `x:y` moves back to `x_y.json` (its hashed copy to be removed), then `x_y` moves it aside
    // to that hashed name again: the removal must come before the move, or it removes the new copy.
    await storage.storeCacheEntries([
      { key: 'x:y', data: { v: 1 } },
      { key: 'x_y', data: { plain: 1 } },
    ]);
    expect(await storage.loadCacheEntries(['x:y', 'x_y'])).toEqual([{ v: 1 }, { plain: 1 }]);
    expect(await filesIn(cache)).toEqual([hashedKeyFileName('x:y'), 'x_y.json'].sort());

    await storage.storeCacheEntries([
      { key: 'x_y', data: { plain: 2 } },
      { key: 'x:y', data: { v: 2 } },
    ]);
    expect(await storage.loadCacheEntries(['x:y', 'x_y'])).toEqual([{ v: 2 }, { plain: 2 }]);
    expect(await storage.listCacheKeys()).toEqual(['x:y', 'x_y']);
  });
});
