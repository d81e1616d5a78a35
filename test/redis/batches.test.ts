/**
 * Redis batches are native: a memory or chain batch is one script, a cache batch (a write or a
 * delete) one script (or one `MGET`) on a standalone server, all or nothing. (On a cluster: one per bucket, and a
 * failing bucket's batch reports the other buckets' items written: `cluster-spread.test.ts`.)
 */
import type Redis from 'ioredis';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { BatchPartiallyAppliedError, CorruptDataError } from '../../src/core/index.js';
import { keysWithPrefix, REDIS_TEST_URL, useRedisStore } from './helpers.js';
import { quickClient } from './redis-server.js';
import { describeWithService } from '../services.js';

/** A client that counts the commands sent through it, by name (lower case). */
function countingClient(): { client: Redis; sent: Map<string, number> } {
  const client = quickClient(REDIS_TEST_URL);
  const sent = new Map<string, number>();
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    const name = command.name.toLowerCase();
    sent.set(name, (sent.get(name) ?? 0) + 1);
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  }) as Redis['sendCommand'];
  return { client, sent };
}

describeWithService('redis')('redis batches', () => {
  const ctx = useRedisStore();
  const clients: Redis[] = [];

  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });

  /** The commands `call` sends, by name. */
  async function commandsOf(
    sent: Map<string, number>,
    call: () => Promise<unknown>,
  ): Promise<Record<string, number>> {
    sent.clear();
    await call();
    return Object.fromEntries(sent);
  }

  it('writes a memory, chain or cache batch in one script, and loads a cache batch of stored keys with one MGET', async () => {
    const { client, sent } = countingClient();
    clients.push(client);
    await client.connect();
    const s = await ctx.open({ client, url: undefined });
    // Load the scripts first, so each call below is one EVALSHA per script.
    await s.storeMemories('warm', [{ memoryId: 'm', data: { n: 0 } }]);
    await s.appendReasoningChains('warm', [{ n: 0 }]);
    await s.storeCacheEntries([{ key: 'warm', data: { n: 0 } }]);

    const memories = Array.from({ length: 20 }, (_, n) => ({ memoryId: `m${n}`, data: { n } }));
    expect(await commandsOf(sent, () => s.storeMemories('c1', memories))).toEqual({ evalsha: 1 });
    const chains = Array.from({ length: 20 }, (_, n) => ({ step: n }));
    expect(await commandsOf(sent, () => s.appendReasoningChains('a1', chains))).toEqual({ evalsha: 1 });

    const layout = new KeyLayout(ctx.prefix());
    const keys = Array.from({ length: 50 }, (_, n) => `key-${n}`);
    const buckets = new Set(keys.map((key) => layout.cache(key).bucket.counters)).size;
    expect(buckets).toBeGreaterThan(1);
    const entries = keys.map((key, n) => ({ key, data: { n }, ttlSeconds: 60 }));
    // Keys of every bucket (every slot) go in one script on a standalone server.
    expect(await commandsOf(sent, () => s.storeCacheEntries(entries))).toEqual({ evalsha: 1 });
    let loaded: unknown[] = [];
    expect(await commandsOf(sent, async () => (loaded = await s.loadCacheEntries(keys)))).toEqual({
      mget: 1,
    });
    expect(loaded).toEqual(keys.map((_, n) => ({ n })));
    // A key the MGET misses is asked whether it exists (of another type), in one more command.
    expect(
      await commandsOf(sent, async () => (loaded = await s.loadCacheEntries(['key-0', 'nope']))),
    ).toEqual({
      mget: 1,
      exists: 1,
    });
    expect(loaded).toEqual([{ n: 0 }, null]);
    expect(await s.loadMemories('c1')).toHaveLength(20);
    expect(await s.loadReasoningChains('a1')).toHaveLength(20);
    // A delete batch of every bucket: one script too (until 2026-12-05, one per key), and the
    // index zsets keep exactly the keys left.
    await s.deleteCacheEntries(['warm']); // loads the delete script
    const deleted = [...keys.slice(10), 'never stored', 'key-10'];
    expect(await commandsOf(sent, () => s.deleteCacheEntries(deleted))).toEqual({ evalsha: 1 });
    expect(await s.listCacheKeys()).toEqual(keys.slice(0, 10).sort());
    const indexed = new Set<string>();
    for (const key of keys) {
      const { bucket } = layout.cache(key);
      for (const zset of [bucket.cacheKeys, bucket.cacheExpiry]) {
        for (const member of await ctx.raw().zrange(zset, 0, -1)) indexed.add(member);
      }
    }
    expect([...indexed].sort()).toEqual(keys.slice(0, 10).sort());
    expect(await ctx.raw().exists(...keys.slice(10).map((key) => layout.cache(key).key))).toBe(0);
  });

  it('sends every read of a conversation batch before the first reply comes back (one round trip)', async () => {
    const client = quickClient(REDIS_TEST_URL);
    clients.push(client);
    let sent = 0;
    let sentAfterAReply = 0;
    let replies = 0;
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: { promise: Promise<unknown> }, ...rest: unknown[]) => {
      sent += 1;
      if (replies > 0) sentAfterAReply += 1;
      void command.promise.then(
        () => (replies += 1),
        () => (replies += 1),
      );
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as Redis['sendCommand'];
    await client.connect();
    const s = await ctx.open({ client, url: undefined });
    const ids = Array.from({ length: 24 }, (_, n) => `c${n}`);
    await s.storeConversationBatch(
      ids.map((id, n) => ({
        conversationId: id,
        conversation: { n },
        rawMessages: [{ n }],
        memories: [{ memoryId: 'm', data: { n } }],
        chunkInfo: { n },
      })),
    );
    await s.loadConversationBatch(['c0']); // the read scripts are loaded from here on
    [sent, sentAfterAReply, replies] = [0, 0, 0];
    const loaded = await s.loadConversationBatch(ids);
    expect(sent).toBe(4 * ids.length);
    expect(sentAfterAReply).toBe(0);
    expect(loaded.map((c) => c.chunkInfo)).toEqual(ids.map((_, n) => ({ n })));
    expect(loaded[7]?.memories).toEqual([expect.objectContaining({ memory_id: 'm', n: 7 })]);
  });

  it('rejects a cache batch load with a value key of another type, as the single load does', async () => {
    const s = await ctx.open();
    await s.storeCacheEntries([
      { key: 'a', data: { v: 1 } },
      { key: 'b', data: { v: 2 } },
    ]);
    const valueKey = new KeyLayout(ctx.prefix()).cache('b').key;
    await ctx.raw().del(valueKey);
    await ctx.raw().rpush(valueKey, 'not a string');
    const single = await s.loadCacheEntry('b').catch((e: unknown) => e);
    expect(single).toBeInstanceOf(CorruptDataError);
    for (const load of [() => s.loadCacheEntries(['a', 'missing', 'b']), () => s.loadCacheRecords(['b'])]) {
      const error = await load().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain(`load cache entry "b": WRONGTYPE ${valueKey} is a list`);
      expect((error as CorruptDataError).location).toBe((single as CorruptDataError).location);
    }
  });

  it("takes a value key written between a batch load's MGET and its check for what the MGET saw", async () => {
    const { client, sent } = countingClient();
    clients.push(client);
    await client.connect();
    const s = await ctx.open({ client, url: undefined });
    await s.storeCacheEntries([{ key: 'a', data: { v: 1 } }]);
    const late = new KeyLayout(ctx.prefix()).cache('late').key;
    // Right after the MGET, on the same connection (so before the EXISTS), another write lands.
    const send = client.sendCommand.bind(client);
    let armed = true;
    client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      const reply = (send as (...args: unknown[]) => unknown)(command, ...rest);
      if (armed && command.name.toLowerCase() === 'mget') {
        armed = false;
        void client.set(late, '{}');
      }
      return reply;
    }) as Redis['sendCommand'];
    sent.clear();
    expect(await s.loadCacheEntries(['a', 'late'])).toEqual([{ v: 1 }, null]);
    expect(armed).toBe(false);
    expect(sent.get('type')).toBe(1);
  });

  it('reports a conversation batch item written in part when one of its parts fails', async () => {
    const s = await ctx.open();
    const bad = new KeyLayout(ctx.prefix()).conversation('c1').raw;
    await ctx.raw().set(bad, 'not a list');
    const item = (conversationId: string) => ({
      conversationId,
      conversation: { title: conversationId },
      rawMessages: [{ role: 'user', content: 'hi' }],
      chunkInfo: { n: 1 },
    });
    const error = await s.storeConversationBatch([item('c1'), item('c2')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    // Each part is its own script: c1's conversation and chunk info are written, its raw messages not.
    expect(error).toMatchObject({ appliedItems: [1], partlyAppliedItems: [0] });
    expect((error as Error).cause).toBeInstanceOf(CorruptDataError);
    expect(await s.loadConversation('c1')).toEqual({ title: 'c1' });
    expect(await s.loadChunkInfo('c1')).toEqual({ n: 1 });
    expect(await s.loadRawMessages('c2')).toEqual([{ role: 'user', content: 'hi' }]);

    // c1 alone: no item whole, one in part (not the failure itself, which would say nothing was written).
    const partOnly = await s.storeConversationBatch([item('c1')]).catch((e: unknown) => e);
    expect(partOnly).toBeInstanceOf(BatchPartiallyAppliedError);
    expect(partOnly).toMatchObject({ appliedItems: [], partlyAppliedItems: [0] });

    // Only parts of c1 that fail: nothing written, the failure itself.
    const alone = await s
      .storeConversationBatch([{ conversationId: 'c1', rawMessages: [{ role: 'user', content: 'again' }] }])
      .catch((e: unknown) => e);
    expect(alone).toBeInstanceOf(CorruptDataError);
  });

  it('writes nothing of a cache batch when a value key among stored and new ones has another type', async () => {
    const s = await ctx.open();
    const keys = Array.from({ length: 12 }, (_, n) => `value-${n}`);
    await s.storeCacheEntry(keys[1]!, { stored: true }, 60);
    const bad = new KeyLayout(ctx.prefix()).cache(keys[7]!).key;
    await ctx.raw().rpush(bad, 'not a string');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());

    const error = await s
      .storeCacheEntries(keys.map((key, n) => ({ key, data: { n }, ttlSeconds: n % 2 === 0 ? 60 : null })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect(String((error as Error).message)).toContain(`${bad} is a list`);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    expect(await s.loadCacheEntry(keys[1]!)).toEqual({ stored: true });
  });

  it('writes nothing of a cache batch when one bucket has a key of the wrong type', async () => {
    const s = await ctx.open();
    const layout = new KeyLayout(ctx.prefix());
    const keys = Array.from({ length: 12 }, (_, n) => `entry-${n}`);
    const bad = layout.cache(keys[3]!).bucket;
    await ctx.raw().set(bad.cacheExpiry, 'not a zset');
    expect(new Set(keys.map((key) => layout.cache(key).bucket.counters)).size).toBeGreaterThan(1);

    const error = await s
      .storeCacheEntries(keys.map((key, n) => ({ key, data: { n } })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect(error).not.toBeInstanceOf(BatchPartiallyAppliedError);
    expect(String((error as Error).message)).toContain(bad.cacheExpiry);
    expect(await s.loadCacheEntries(keys)).toEqual(keys.map(() => null));
  });

  it('deletes nothing of a cache delete batch when one bucket has an index key of the wrong type', async () => {
    const s = await ctx.open();
    const layout = new KeyLayout(ctx.prefix());
    const keys = Array.from({ length: 12 }, (_, n) => `entry-${n}`);
    await s.storeCacheEntries(keys.map((key, n) => ({ key, data: { n } })));
    const bad = layout.cache(keys[7]!).bucket;
    await ctx.raw().del(bad.cacheKeys);
    await ctx.raw().set(bad.cacheKeys, 'not a zset');
    const error = await s.deleteCacheEntries(keys).catch((e: unknown) => e);
    // The script checks every bucket first: all or nothing (the default, a delete per key,
    // would have removed the keys before entry-7 and reported them applied).
    expect(error).toBeInstanceOf(CorruptDataError);
    expect(error).not.toBeInstanceOf(BatchPartiallyAppliedError);
    expect(String((error as Error).message)).toContain(bad.cacheKeys);
    expect(await s.loadCacheEntries(keys)).toEqual(keys.map((_, n) => ({ n })));
  });

  it('a cache delete batch removes a value key of another type, as the single delete does', async () => {
    const s = await ctx.open();
    const layout = new KeyLayout(ctx.prefix());
    await s.storeCacheEntries(['k', 'other'].map((key) => ({ key, data: { v: 1 }, ttlSeconds: 3600 })));
    await ctx.raw().del(layout.cache('k').key);
    await ctx.raw().rpush(layout.cache('k').key, 'not a string');
    await expect(s.deleteCacheEntries(['k', 'absent'])).resolves.toBe(2);
    expect(await ctx.raw().exists(layout.cache('k').key)).toBe(0);
    expect(await s.listCacheKeys()).toEqual(['other']);
    expect((await s.getStorageStats()).cache_entry_count).toBe(1);
  });
});
