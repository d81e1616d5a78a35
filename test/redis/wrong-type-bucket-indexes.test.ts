/**
 * A bucket's index zsets (`conversations`, `cache-keys`, `cache-expiry`) of another Redis type
 * fail listings and purges with a `CorruptDataError` naming the key, as the unpaged listings,
 * stats and cache writes do (until 2026-12-06 paged listings, `iterate()`, `listCacheKeys()` and
 * `purgeExpiredCache()` gave the server's `WRONGTYPE`, which names no key).
 */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

/** The error `call` rejects with. */
async function failure(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => new Error('did not fail'),
    (error: unknown) => error,
  );
}

/** Reads every id `iterate` gives. */
async function iterateAll(s: RedisStorage, listing: 'conversations' | 'cacheKeys'): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of s.iterate(listing)) ids.push(id);
  return ids;
}

describeWithService('redis')('redis bucket index keys of another type', () => {
  const ctx = useRedisStore();

  it.each([
    ['listConversations({ limit })', (s: RedisStorage) => s.listConversations({ limit: 5 })],
    ["iterate('conversations')", (s: RedisStorage) => iterateAll(s, 'conversations')],
  ])('%s names a conversations zset of another type', async (_name, call) => {
    const s = await ctx.open();
    await s.storeConversation('c1', { v: 1 });
    const key = new KeyLayout(ctx.prefix()).conversation('c1').bucket.conversations;
    await ctx.raw().del(key);
    await ctx.raw().set(key, 'another program');
    const error = await failure(() => call(s));
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(key);
  });

  const cacheCalls = [
    ['listCacheKeys()', (s: RedisStorage) => s.listCacheKeys()],
    ['listCacheKeys({ limit })', (s: RedisStorage) => s.listCacheKeys({ limit: 5 })],
    ["iterate('cacheKeys')", (s: RedisStorage) => iterateAll(s, 'cacheKeys')],
    ['purgeExpiredCache()', (s: RedisStorage) => s.purgeExpiredCache()],
  ] as const;
  it.each(
    (['cacheKeys', 'cacheExpiry'] as const).flatMap((index) => cacheCalls.map((c) => [index, ...c] as const)),
  )('a %s zset of another type: %s names it', async (index, _name, call) => {
    const s = await ctx.open();
    await s.storeCacheEntry('k1', { v: 1 }, 1000);
    const key = new KeyLayout(ctx.prefix()).cache('k1').bucket[index];
    await ctx.raw().del(key);
    await ctx.raw().set(key, 'another program');
    const error = await failure(() => call(s));
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`${key} is a string, expected a zset`);
  });
});
