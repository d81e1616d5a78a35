/** A failing write script is a typed error and leaves no record without its index entry or counters. */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { CorruptDataError } from '../../src/core/index.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';
import { describeWithService } from '../services.js';

describeWithService('redis')('redis write faults', () => {
  const ctx = useRedisStore();

  it('refuses a write whose bucket counters are corrupt, before writing anything', async () => {
    const s = await ctx.open();
    const { bucket } = new KeyLayout(ctx.prefix()).conversation('c1');
    await ctx.raw().hset(bucket.counters, 'conversations', 'many');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const error = await s.storeConversation('c1', { a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(bucket.counters);
    expect((error as Error).message).toContain('c1');
    await expect(s.storeMemory('c1', 'm1', { a: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.storeRawMessages('c1', [1])).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.deleteConversation('c1')).rejects.toBeInstanceOf(CorruptDataError);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
  });

  it('refuses a write whose index has the wrong type, before writing anything', async () => {
    const s = await ctx.open();
    const layout = new KeyLayout(ctx.prefix());
    const agent = layout.agent('a1');
    const cache = layout.cache('k1');
    const state = layout.state('s1');
    await ctx.raw().set(agent.bucket.agents, 'not a zset');
    await ctx.raw().set(cache.bucket.cacheExpiry, 'not a zset');
    await ctx.raw().set(state.bucket.stateKeys, 'not a zset');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    await expect(s.storeReasoningChain('a1', { n: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.storeCacheEntry('k1', { v: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.storeSystemState('s1', { v: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    expect(await ctx.raw().hgetall(agent.bucket.counters)).toEqual({});
  });

  it('keeps counters exact through replaces, deletes and repeated writes', async () => {
    const s = await ctx.open();
    for (let round = 0; round < 3; round += 1) {
      await s.storeConversation('c', { round });
      await s.storeRawMessages(
        'c',
        Array.from({ length: round + 1 }, (_, i) => i),
      );
      await s.storeMemory('c', 'm', { round });
      await s.storeMemory('c', `m-${round}`, { round });
      await s.storeChunkInfo('c', { round });
      await s.storeSystemState('s', { round });
    }
    expect(await s.getStorageStats()).toMatchObject({
      conversation_count: 1,
      raw_message_count: 3,
      memory_count: 4,
      chunk_info_count: 1,
      system_state_count: 1,
    });
    await s.deleteConversation('c');
    await s.deleteSystemState('s');
    const stats = await s.getStorageStats();
    expect(stats).toMatchObject({
      conversation_count: 0,
      raw_message_count: 0,
      memory_count: 0,
      system_state_count: 0,
    });
    expect(stats.total_bytes).toBe(0);
  });
});
