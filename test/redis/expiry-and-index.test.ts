/** Native cache expiry (PX), remaining TTL for migration, and the bounded per-bucket cache index. */
import { CorruptDataError, parseTimestamp } from '../../src/core/index.js';
import { bucketOf, KeyLayout } from '../../src/backends/redis/keys.js';
import { sleep, useRedisStore } from './helpers.js';
import { waitFor } from './redis-server.js';
import { describeWithService } from '../services.js';

/** A cache key other than `key` that falls in the same bucket. */
function sameBucketKey(key: string): string {
  for (let i = 0; ; i += 1) {
    const candidate = `${key}-neighbour-${i}`;
    if (bucketOf('k', candidate) === bucketOf('k', key)) return candidate;
  }
}

describeWithService('redis')('redis cache expiry and index', () => {
  const ctx = useRedisStore();
  const layout = () => new KeyLayout(ctx.prefix());
  /** Members of every bucket's cache-keys and cache-expiry zsets. */
  const indexed = async () => {
    const members = await Promise.all(
      layout().buckets.flatMap((b) => [
        ctx.raw().zrange(b.cacheKeys, '0', '-1'),
        ctx.raw().zrange(b.cacheExpiry, '0', '-1'),
      ]),
    );
    return members.flat().sort();
  };

  it('lets Redis expire a cache entry itself (PX): it vanishes without a purge', async () => {
    const s = await ctx.open();
    const key = layout().cache('short').key;
    // Long enough to outlast the checks below on a loaded machine (with 0.2 s, a PTTL read two
    // round trips after the write could find the key gone already: -2).
    await s.storeCacheEntry('short', { v: 1 }, 2);
    await s.storeCacheEntry('forever', { v: 2 });
    const pttl = await ctx.raw().pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2000);
    expect(await ctx.raw().pttl(layout().cache('forever').key)).toBe(-1);
    // Redis removes it by itself: wait for that rather than for a fixed time.
    await waitFor('Redis to expire the entry', async () => (await ctx.raw().exists(key)) === 0);
    expect(await s.loadCacheEntry('short')).toBeNull();
    expect(await s.listCacheKeys()).toEqual(['forever']);
    expect((await s.getStorageStats()).cache_entry_count).toBe(1);
  });

  it('reports the expiry through loadCacheRecord, so a copy keeps the remaining TTL', async () => {
    const s = await ctx.open();
    // Bounds by the clock read around each call, not margins a loaded machine can overrun (the
    // PTTL read one round trip after the record's load once differed from it by over 100 ms).
    const beforeStore = Date.now();
    await s.storeCacheEntry('k', { v: 1 }, 30);
    const afterStore = Date.now();
    await sleep(50);
    const record = await s.loadCacheRecord('k');
    const expiresAt = parseTimestamp(record?.expiresAt ?? '') ?? NaN;
    expect(expiresAt).toBeGreaterThanOrEqual(beforeStore + 30_000);
    expect(expiresAt).toBeLessThanOrEqual(afterStore + 30_000);
    // Redis counts the same 30 s from the same write: its PTTL is what is left of them.
    const beforePttl = Date.now();
    const pttl = await ctx.raw().pttl(layout().cache('k').key);
    const afterPttl = Date.now();
    expect(pttl).toBeGreaterThanOrEqual(beforeStore + 30_000 - afterPttl);
    expect(pttl).toBeLessThanOrEqual(afterStore + 30_000 - beforePttl + 1);
  });

  it('drops expired entries from the index without a purge: writes to the same bucket trim it', async () => {
    const s = await ctx.open();
    const short = Array.from({ length: 50 }, (_, i) => `short-${i}`);
    // Long enough that no write of this loop trims an earlier one, even on a loaded machine.
    await Promise.all(short.map((key) => s.storeCacheEntry(key, { v: 1 }, 1.5)));
    expect((await indexed()).length).toBe(100);
    await sleep(1600);
    const neighbours = short.map(sameBucketKey);
    for (const key of neighbours) await s.storeCacheEntry(key, { v: 2 }, 60);
    // Only the live neighbours are left, once in each zset.
    expect(await indexed()).toEqual([...neighbours, ...neighbours].sort());
    expect(await s.purgeExpiredCache()).toBe(0);
  });

  it('keeps the index entries of an expired entry written again, while trimming its expired neighbours', async () => {
    const s = await ctx.open();
    const neighbour = sameBucketKey('again');
    await s.storeCacheEntry('again', { v: 1 }, 0.05);
    await s.storeCacheEntry(neighbour, { v: 1 }, 0.05);
    await sleep(150);
    // The write reads the bucket's expired entries, 'again' among them, before writing it anew.
    await s.storeCacheEntry('again', { v: 2 }, 60);
    expect(await indexed()).toEqual(['again', 'again']);
    expect(await s.listCacheKeys()).toEqual(['again']);
    expect(await s.loadCacheEntry('again')).toEqual({ v: 2 });
    expect(await s.purgeExpiredCache()).toBe(0);
  });

  it("trims a batch's buckets the same way: rewritten keys keep their entries, expired neighbours go", async () => {
    const s = await ctx.open();
    const keys = ['again-1', 'again-2', 'again-3'];
    const neighbours = keys.map(sameBucketKey);
    await s.storeCacheEntries(
      [...keys, ...neighbours].map((key) => ({ key, data: { v: 1 }, ttlSeconds: 0.05 })),
    );
    await sleep(150);
    // Each key twice, one bucket's ZADDs then carrying both writes of a repeated key (the last wins).
    const batch = [...keys, ...keys].map((key, n) => ({ key, data: { v: n }, ttlSeconds: 60 }));
    await s.storeCacheEntries(batch);
    expect(await indexed()).toEqual([...keys, ...keys].sort());
    expect(await s.listCacheKeys()).toEqual(keys);
    expect(await s.loadCacheEntries(keys)).toEqual([{ v: 3 }, { v: 4 }, { v: 5 }]);
    const { cacheExpiry } = layout().cache(keys[0]!).bucket;
    const score = Number(await ctx.raw().zscore(cacheExpiry, keys[0]!));
    expect(score).toBeGreaterThan(Date.now() + 50_000);
    expect(await s.purgeExpiredCache()).toBe(0);
  });

  it('names the value key of a cache batch that holds another type, and writes none of the batch', async () => {
    const s = await ctx.open();
    const keys = Array.from({ length: 8 }, (_, n) => `typed-${n}`);
    const bad = layout().cache(keys[5]!);
    await ctx.raw().rpush(bad.key, 'not a string');
    const error = await s
      .storeCacheEntries(keys.map((key, n) => ({ key, data: { n } })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect(String((error as Error).message)).toContain(bad.key);
    expect(await indexed()).toEqual([]);
    const others = keys.filter((_, n) => n !== 5);
    expect(await s.loadCacheEntries(others)).toEqual(others.map(() => null));
  });

  it('does not let loads write: an expired entry stays indexed until a write or purge', async () => {
    const s = await ctx.open();
    const { bucket } = layout().cache('k');
    await s.storeCacheEntry('k', { v: 1 }, 0.05);
    await sleep(120);
    expect(await s.loadCacheEntry('k')).toBeNull();
    expect(await s.listCacheKeys()).toEqual([]);
    expect((await s.getStorageStats()).cache_entry_count).toBe(0);
    expect(await ctx.raw().zscore(bucket.cacheKeys, 'k')).toBe('0');
    expect(await s.purgeExpiredCache()).toBe(1);
    expect(await ctx.raw().zscore(bucket.cacheKeys, 'k')).toBeNull();
  });

  it('repairs index entries whose value is gone (a crash, an eviction) on purge, and counts them', async () => {
    const s = await ctx.open();
    await s.storeCacheEntry('live', { v: 1 });
    await s.storeCacheEntry('lost', { v: 1 }, 60);
    await s.storeCacheEntry('lost-forever', { v: 1 });
    await ctx.raw().del(layout().cache('lost').key, layout().cache('lost-forever').key);
    expect(await s.purgeExpiredCache()).toBe(2);
    expect(await indexed()).toEqual(['live', 'live']);
    expect(await s.listCacheKeys()).toEqual(['live']);
    expect(await s.purgeExpiredCache()).toBe(0);
  });

  /** Runs `body` with this process's clock `offsetMs` away from the server's (restored afterwards). */
  async function withClockOffset(offsetMs: number, body: () => Promise<void>): Promise<void> {
    const realNow = Date.now.bind(Date);
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
    try {
      await body();
    } finally {
      spy.mockRestore();
    }
  }

  it.each(['purge', 'write', 'batch write'])(
    'takes an entry as expired at its expiresAt instant, as loads do (%s)',
    async (how) => {
      const s = await ctx.open();
      const realNow = Date.now.bind(Date);
      const start = realNow();
      const clock = jest.spyOn(Date, 'now').mockImplementation(() => start);
      try {
        await s.storeCacheEntry('k', { v: 1 }, 60);
        clock.mockImplementation(() => start + 60_000);
        expect(await s.loadCacheEntry('k')).toBeNull();
        expect(await s.listCacheKeys()).toEqual([]);
        expect((await s.getStorageStats()).cache_entry_count).toBe(0);
        const neighbour = sameBucketKey('k');
        if (how === 'purge') expect(await s.purgeExpiredCache()).toBe(1);
        if (how === 'write') await s.storeCacheEntry(neighbour, { v: 2 });
        if (how === 'batch write') await s.storeCacheEntries([{ key: neighbour, data: { v: 2 } }]);
        const left = how === 'purge' ? [] : [neighbour, neighbour];
        expect(await indexed()).toEqual(left);
      } finally {
        clock.mockRestore();
      }
    },
  );

  it('lists, counts and keeps what it loads when the client clock is ahead of the server', async () => {
    const s = await ctx.open();
    await withClockOffset(10 * 60_000, async () => {
      await s.storeCacheEntry('k', { v: 1 }, 60);
      await s.storeCacheEntries([{ key: 'batched', data: { v: 2 }, ttlSeconds: 60 }]);
      expect(await s.loadCacheEntries(['k', 'batched'])).toEqual([{ v: 1 }, { v: 2 }]);
      expect(await s.listCacheKeys()).toEqual(['batched', 'k']);
      expect((await s.getStorageStats()).cache_entry_count).toBe(2);
      expect(await s.purgeExpiredCache()).toBe(0);
      expect(await s.listCacheKeys()).toEqual(['batched', 'k']);
    });
  });

  it('neither lists nor counts an expired entry when the client clock is behind the server', async () => {
    const s = await ctx.open();
    await withClockOffset(-10 * 60_000, async () => {
      await s.storeCacheEntry('k', { v: 1 }, 0.1);
      await s.storeCacheEntries([{ key: 'batched', data: { v: 2 }, ttlSeconds: 0.1 }]);
      await s.storeCacheEntry('forever', { v: 3 });
      await sleep(250);
      expect(await s.loadCacheEntries(['k', 'batched'])).toEqual([null, null]);
      expect(await s.listCacheKeys()).toEqual(['forever']);
      expect((await s.getStorageStats()).cache_entry_count).toBe(1);
      expect(await s.purgeExpiredCache()).toBe(2);
    });
  });

  it('reports stored data that is not JSON as CorruptDataError naming the key', async () => {
    const s = await ctx.open();
    const key = layout().conversation('c1').conversation;
    await ctx.raw().set(key, '{not json');
    const error = await s.loadConversation('c1').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CORRUPT_DATA' });
    expect((error as Error).message).toContain(key);
  });

  it('counts each stale cache index entry once when several clients purge at once', async () => {
    const clients = await Promise.all([ctx.open(), ctx.open(), ctx.open()]);
    const stale = Array.from({ length: 60 }, (_, i) => `gone-${i}`);
    for (const key of stale) {
      const { bucket } = layout().cache(key);
      await ctx.raw().zadd(bucket.cacheKeys, 0, key);
      await ctx.raw().zadd(bucket.cacheExpiry, i(key), key);
    }
    const counts = await Promise.all(clients.map((s) => s.purgeExpiredCache()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(stale.length);
    expect(await indexed()).toEqual([]);
  });
});

/** Half the stale entries look expired, half look live (their value is missing either way). */
function i(key: string): number {
  return Number(key.split('-')[1]) % 2 === 0 ? 1 : Date.now() + 60_000;
}
