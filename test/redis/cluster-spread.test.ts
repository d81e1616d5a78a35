/**
 * Layout v2 on a 3-master cluster: writes spread over every master, each write is one slot, and
 * a cache batch (a write or a delete) is one script per bucket, so a failing bucket leaves the
 * others written (or deleted).
 */
import Redis from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { BatchPartiallyAppliedError, ConfigError, CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useClusterStores } from './cluster-hooks.js';
import { deleteKeysWithPrefix, scanKeysWithPrefix } from './redis-server.js';

describeWithService('redis')('redis layout v2 on a cluster', () => {
  const ctx = useClusterStores({ clientOptions: { enableAutoPipelining: true } });
  const client = ctx.client;

  it('lands writes to many conversations, agents and cache keys on all three masters', async () => {
    const keyPrefix = ctx.prefix();
    const s = await ctx.open();
    const ids = Array.from({ length: 200 }, (_, i) => `conversation-${i}`);
    await Promise.all(
      ids.map(async (id, i) => {
        await s.storeConversation(id, { i });
        await s.storeMemory(id, 'm', { i });
        await s.storeReasoningChain(`agent-${i % 50}`, { i });
        await s.storeCacheEntry(`cache-${i}`, { i }, 60);
      }),
    );
    const perMaster = await Promise.all(
      ctx.processes.servers.map(async (server) => {
        const node = new Redis(server.port, '127.0.0.1');
        try {
          const keys = await scanKeysWithPrefix(node, keyPrefix);
          return {
            conversations: keys.filter((k) => k.endsWith(':conversation')).length,
            counters: keys.filter((k) => k.endsWith(':counters')).length,
            cache: keys.filter((k) => k.endsWith(':cache')).length,
          };
        } finally {
          node.disconnect();
        }
      }),
    );
    for (const counts of perMaster) {
      // 200 conversations over 3 masters: each holds a fair share, with its buckets' counters.
      expect(counts.conversations).toBeGreaterThan(30);
      expect(counts.counters).toBeGreaterThan(5);
      expect(counts.cache).toBeGreaterThan(30);
    }
    expect(perMaster.reduce((sum, c) => sum + c.conversations, 0)).toBe(200);
    expect(await s.listConversations()).toEqual([...ids].sort());
    expect(await s.getStorageStats()).toMatchObject({
      conversation_count: 200,
      memory_count: 200,
      reasoning_chain_count: 200,
      agent_count: 50,
      cache_entry_count: 200,
    });
    expect(await s.purgeExpiredCache()).toBe(0);
  });

  it('reports the cache items of the other buckets as written when one bucket fails', async () => {
    const keyPrefix = ctx.prefix();
    const s = await ctx.open();
    const layout = new KeyLayout(keyPrefix);
    const keys = Array.from({ length: 12 }, (_, n) => `entry-${n}`);
    const bad = layout.cache(keys[3]!).bucket;
    await client().set(bad.cacheExpiry, 'not a zset');
    const failed = keys.flatMap((key, i) => (layout.cache(key).bucket.counters === bad.counters ? [i] : []));
    const written = keys.map((_, i) => i).filter((i) => !failed.includes(i));
    expect(written.length).toBeGreaterThan(0);

    const error = await s
      .storeCacheEntries(keys.map((key, n) => ({ key, data: { n } })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    const partial = error as BatchPartiallyAppliedError;
    expect(partial).toMatchObject({ method: 'storeCacheEntries', total: 12, appliedItems: written });
    expect(partial.cause).toBeInstanceOf(CorruptDataError);
    expect(String((partial.cause as Error).message)).toContain(bad.cacheExpiry);
    const loaded = await s.loadCacheEntries(keys);
    expect(loaded.map((value, i) => [i, value !== null])).toEqual(
      keys.map((_, i) => [i, written.includes(i)]),
    );
    await client().del(bad.cacheExpiry);
  });

  it('reports the cache items of the other buckets as deleted when one bucket fails a delete batch', async () => {
    const keyPrefix = ctx.prefix();
    const s = await ctx.open();
    const layout = new KeyLayout(keyPrefix);
    const keys = Array.from({ length: 12 }, (_, n) => `entry-${n}`);
    await s.storeCacheEntries(keys.map((key, n) => ({ key, data: { n } })));
    const bad = layout.cache(keys[3]!).bucket;
    await client().del(bad.cacheKeys);
    await client().set(bad.cacheKeys, 'not a zset');
    const failed = keys.flatMap((key, i) => (layout.cache(key).bucket.counters === bad.counters ? [i] : []));
    // The batch names keys[0] twice and an absent key: each item of a bucket that succeeded counts.
    const batch = [...keys, keys[0]!, 'absent'];
    const failedItems = batch.flatMap((key, i) =>
      layout.cache(key).bucket.counters === bad.counters ? [i] : [],
    );
    const deleted = batch.map((_, i) => i).filter((i) => !failedItems.includes(i));

    const error = await s.deleteCacheEntries(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    const partial = error as BatchPartiallyAppliedError;
    expect(partial).toMatchObject({ method: 'deleteCacheEntries', total: 14, appliedItems: deleted });
    expect(partial.cause).toBeInstanceOf(CorruptDataError);
    expect(String((partial.cause as Error).message)).toContain(bad.cacheKeys);
    const loaded = await s.loadCacheEntries(keys);
    expect(loaded.map((value, i) => [i, value !== null])).toEqual(
      keys.map((_, i) => [i, failed.includes(i)]),
    );
    await client().del(bad.cacheKeys);
  });

  it('refuses a key prefix whose first brace opens an empty hash tag, before any I/O', async () => {
    // `{}` is no hash tag to a cluster: each whole key is hashed, so a record's keys (and its
    // bucket's) would land in different slots and every write script would fail (CROSSSLOT).
    const keyPrefix = `${ctx.prefix()}{}`;
    const open = async () => {
      const s = new RedisStorage({ client: client(), keyPrefix });
      try {
        await s.initialize();
        await s.storeConversation('c', { a: 1 });
      } finally {
        await s.shutdown();
      }
    };
    const error = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ key: 'keyPrefix' });
    // Nothing was written (and nothing is left behind by a refused open).
    expect(await deleteKeysWithPrefix(client(), keyPrefix)).toBe(0);
  });
});
