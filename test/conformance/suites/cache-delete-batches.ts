/**
 * Conformance: `deleteCacheEntries`, the cache's batch delete. A batch equals `deleteCacheEntry`
 * in a loop (compared with a second fresh store where the singles ran), absent and repeated
 * keys included; a bad key anywhere is refused before any I/O and deletes nothing.
 */
import {
  formatEpochMs,
  InvalidIdError,
  MAX_BATCH_ITEMS,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { ttlOf } from './value-helpers.js';

/** What a cache delete changes: every key's record (its TTL), the listing and the count. */
async function cacheState(s: StorageInterface, keys: readonly string[]): Promise<unknown> {
  const records = await Promise.all(keys.map(async (key) => ttlOf(await s.loadCacheRecord(key))));
  const stats = await s.getStorageStats();
  return { records, listed: await s.listCacheKeys(), count: stats.cache_entry_count };
}

/** Stores the same entries on each store: with and without a TTL, and one already expired. */
async function seed(stores: readonly StorageInterface[], keys: readonly string[]): Promise<void> {
  const past = { storedAt: '2020-01-01T00:00:00+00:00', expiresAt: '2020-01-02T00:00:00+00:00' };
  for (const s of stores) {
    await s.storeCacheEntries(
      keys.map((key, i) => ({ key, data: { key }, ttlSeconds: [60, null, 3600, undefined][i % 4] })),
    );
    await s.storeCacheRecords([{ key: 'expired', data: { v: 'old' }, ...past }]);
  }
}

/** Registers the cache delete batch tests (inside the `batches` group). */
export function cacheDeleteBatchTests(ctx: SuiteContext): void {
  /** The test's store, and a second fresh one for the single calls. */
  async function pair(): Promise<[StorageInterface, StorageInterface]> {
    return [ctx.storage(), await (await ctx.newStore()).open()];
  }

  it('deleteCacheEntries equals deleteCacheEntry in a loop: TTLs, no TTL, absent and repeated keys', async () => {
    const [batch, single] = await pair();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'kept'];
    await seed([batch, single], keys);
    const deleted = ['a', 'missing', 'b', 'a', 'expired', 'd', 'f', 'never stored', 'd'];
    await expect(batch.deleteCacheEntries(deleted)).resolves.toBe(deleted.length);
    for (const key of deleted) await expect(single.deleteCacheEntry(key)).resolves.toBe(true);
    const all = [...keys, 'expired', 'missing'];
    const state = await cacheState(batch, all);
    expect(state).toEqual(await cacheState(single, all));
    expect(state).toMatchObject({ listed: ['c', 'e', 'kept'], count: 3 });
    // Nothing of a deleted entry is left behind (its index entries on Redis): a purge finds
    // the same on both, and a key stored again is listed and counted once.
    expect(await batch.purgeExpiredCache()).toBe(await single.purgeExpiredCache());
    for (const s of [batch, single]) await s.storeCacheEntry('a', { again: true }, 60);
    expect(await cacheState(batch, all)).toEqual(await cacheState(single, all));
    expect(await batch.listCacheKeys()).toEqual(['a', 'c', 'e', 'kept']);
  });

  it('deleteCacheEntries removes only its own keys among keys that share a reference file name', async () => {
    // On the file backend `a b`, `a:b`, `a_b` and `A_B` map to one reference name (D3) and
    // share a lock: the batch removes them one after another, each only its own file.
    const [batch, single] = await pair();
    const keys = ['a b', 'a:b', 'a_b', 'A_B', 'a?b', 'plain'];
    await seed([batch, single], keys);
    const deleted = ['a:b', 'A_B', 'plain', 'a:b'];
    await batch.deleteCacheEntries(deleted);
    for (const key of deleted) await single.deleteCacheEntry(key);
    expect(await cacheState(batch, keys)).toEqual(await cacheState(single, keys));
    expect(await batch.loadCacheEntries(keys)).toEqual([
      { key: 'a b' },
      null,
      { key: 'a_b' },
      null,
      { key: 'a?b' },
      null,
    ]);
  });

  it('deleteCacheEntries of a full batch over every bucket leaves the rest exact', async () => {
    const s = ctx.storage();
    const keys = Array.from({ length: MAX_BATCH_ITEMS }, (_, i) => `key-${String(i).padStart(4, '0')}`);
    await s.storeCacheEntries(
      keys.map((key, i) => ({ key, data: { i }, ttlSeconds: i % 2 === 0 ? 600 : null })),
    );
    const odd = keys.filter((_, i) => i % 2 === 1);
    await expect(s.deleteCacheEntries(odd)).resolves.toBe(odd.length);
    const even = keys.filter((_, i) => i % 2 === 0);
    expect(await s.listCacheKeys()).toEqual(even);
    expect((await s.getStorageStats()).cache_entry_count).toBe(even.length);
    await expect(s.deleteCacheEntries(keys)).resolves.toBe(keys.length);
    expect(await s.loadCacheEntries(keys)).toEqual(keys.map(() => null));
    expect(await s.listCacheKeys()).toEqual([]);
    expect((await s.getStorageStats()).cache_entry_count).toBe(0);
  });

  it('deleteCacheEntries of an empty batch is a no-op that returns 0', async () => {
    const s = ctx.storage();
    await s.storeCacheEntry('k1', { v: 1 }, 60);
    await expect(s.deleteCacheEntries([])).resolves.toBe(0);
    expect(await s.loadCacheEntries(['k1'])).toEqual([{ v: 1 }]);
  });

  const BAD: ReadonlyArray<[string, new (...args: never[]) => Error, RegExp, unknown]> = [
    ['an empty key', InvalidIdError, /deleteCacheEntries\(\) item 2: Invalid cacheKey ""/, ['k1', 'k2', '']],
    [
      'a key with NUL',
      InvalidIdError,
      /deleteCacheEntries\(\) item 1: Invalid cacheKey/,
      ['k1', 'nul\u0000', 'k2'],
    ],
    [
      'a key that is not a string',
      InvalidIdError,
      /deleteCacheEntries\(\) item 0: Invalid cacheKey/,
      [7, 'k1'],
    ],
    ['no array', ValidationError, /deleteCacheEntries\(\) takes an array/, 'k1'],
    [
      'one key more than the limit',
      ValidationError,
      new RegExp(`deleteCacheEntries\\(\\) takes at most ${MAX_BATCH_ITEMS} items`),
      ['k1', ...Array.from({ length: MAX_BATCH_ITEMS }, (_, i) => `x${i}`)],
    ],
  ];

  it.each(BAD.map(([name, errorClass, message, keys]) => ({ name, errorClass, message, keys })))(
    'deleteCacheEntries with $name is refused, naming the item, and deletes nothing',
    async ({ errorClass, message, keys }) => {
      const s = ctx.storage();
      const expiresAt = formatEpochMs(Date.now() + 60_000);
      await s.storeCacheEntry('k1', { v: 1 });
      await s.storeCacheRecord('k2', { data: { v: 2 }, storedAt: formatEpochMs(Date.now()), expiresAt });
      const error = await s.deleteCacheEntries(keys as string[]).then(
        () => new Error('the batch resolved'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(message);
      expect(await s.loadCacheEntries(['k1', 'k2'])).toEqual([{ v: 1 }, { v: 2 }]);
      expect((await s.getStorageStats()).cache_entry_count).toBe(2);
    },
  );
}
