/**
 * A file cache batch holds every key's lock at once (see `keyed-batches.ts`, and
 * `keyed-batch-removals.ts` for a delete batch): batches over the same keys in any order, and
 * single writes and deletes of those keys, all finish, and each key ends with one whole write.
 */
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

describe('file cache batch locks', () => {
  it('let batches over the same keys in opposite orders and single writes all finish', async () => {
    const storage = await openStore({ searchIndex: false });
    const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
    const reversed = [...keys].reverse();
    for (let round = 0; round < 5; round += 1) {
      await Promise.all([
        storage.storeCacheEntries(keys.map((key) => ({ key, data: { by: 'forward', round } }))),
        storage.storeCacheEntries(reversed.map((key) => ({ key, data: { by: 'reverse', round } }))),
        storage.storeCacheEntry('k0', { by: 'single', round }),
        storage.storeCacheEntry('k63', { by: 'single', round }),
      ]);
    }
    const loaded = await storage.loadCacheEntries(keys);
    for (const value of loaded) expect(value).toMatchObject({ round: 4 });
    expect(await storage.listCacheKeys()).toEqual([...keys].sort());
  }, 20_000);

  it('let delete batches and write batches over the same keys in opposite orders all finish', async () => {
    const storage = await openStore({ searchIndex: false });
    const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
    const reversed = [...keys].reverse();
    for (let round = 0; round < 5; round += 1) {
      await Promise.all([
        storage.storeCacheEntries(keys.map((key) => ({ key, data: { round } }))),
        storage.deleteCacheEntries(reversed),
        storage.deleteCacheEntry('k0'),
        storage.storeCacheEntry('k63', { round }),
      ]);
    }
    await storage.deleteCacheEntries(keys);
    expect(await storage.listCacheKeys()).toEqual([]);
  }, 20_000);
});
