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
    // A new memory checks only the counters it bumps (its fast path reads no others).
    await ctx.raw().hset(bucket.counters, 'conversations', 'many', 'memories', 'many');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const error = await s.storeConversation('c1', { a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(bucket.counters);
    expect((error as Error).message).toContain('c1');
    await expect(s.storeMemory('c1', 'm1', { a: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.storeRawMessages('c1', [1])).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.deleteConversation('c1')).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.deleteMemory('c1', 'm1')).rejects.toBeInstanceOf(CorruptDataError);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
  });

  it('refuses a write whose bucket counters are not a hash, naming them, before writing anything', async () => {
    const s = await ctx.open();
    const { bucket } = new KeyLayout(ctx.prefix()).conversation('c1');
    await ctx.raw().set(bucket.counters, 'not a hash');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const error = await s.storeConversation('c1', { a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`${bucket.counters} is a string, expected a hash`);
    await expect(s.storeChunkInfo('c1', { a: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.storeMemory('c1', 'm1', { a: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    expect(await ctx.raw().get(bucket.counters)).toBe('not a hash');
  });

  it('refuses a conversation whose second index is not a zset, leaving the first index as it was', async () => {
    const s = await ctx.open();
    const { bucket } = new KeyLayout(ctx.prefix()).conversation('c1');
    await ctx.raw().set(bucket.conversationIds, 'not a zset');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const error = await s.storeConversation('c1', { a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`${bucket.conversationIds} is a string, expected a zset`);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    // A member already in the first index stays there.
    await ctx.raw().zadd(bucket.conversations, 0, 'c1');
    await expect(s.storeConversation('c1', { a: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    expect(await ctx.raw().zrange(bucket.conversations, '0', '-1')).toEqual(['c1']);
  });

  it('counts a string record once and its bytes exactly, whether new or replaced', async () => {
    const s = await ctx.open({ searchIndex: false });
    const k = new KeyLayout(ctx.prefix()).conversation('c1');
    await s.storeConversation('c1', { text: 'a much longer first version' });
    await s.storeConversation('c1', { text: 'short' });
    await s.storeChunkInfo('c1', { chunks: [1, 2, 3] });
    const bytes = (await ctx.raw().strlen(k.conversation)) + (await ctx.raw().strlen(k.chunks));
    expect(
      await ctx.raw().hmget(k.bucket.counters, 'conversations', 'chunk_infos', 'bytes', 'search_stale'),
    ).toEqual(['1', '1', String(bytes), '1']);
    await s.deleteConversation('c1');
    expect(await ctx.raw().hmget(k.bucket.counters, 'conversations', 'chunk_infos', 'bytes')).toEqual([
      '0',
      '0',
      '0',
    ]);
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
    await expect(s.deleteReasoningChains('a1')).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.storeCacheEntry('k1', { v: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    await expect(s.storeSystemState('s1', { v: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    expect(await ctx.raw().hgetall(agent.bucket.counters)).toEqual({});
  });

  it.each([
    ['chains', 'list'],
    ['chainAppends', 'zset'],
    ['agent', 'hash'],
  ] as const)(
    'refuses a chain append whose %s key is not a %s, naming it, before writing anything',
    async (name, type) => {
      const s = await ctx.open();
      const agent = new KeyLayout(ctx.prefix()).agent('a1');
      await ctx.raw().set(agent[name], `not a ${type}`);
      const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
      const error = await s.storeReasoningChain('a1', { n: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain(`${agent[name]} is a string, expected a ${type}`);
      expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
      expect(await ctx.raw().get(agent[name])).toBe(`not a ${type}`);
      expect(await ctx.raw().hgetall(agent.bucket.counters)).toEqual({});
    },
  );

  it('refuses a chain append whose sequence counter is not an integer, and takes back the agent it listed', async () => {
    const s = await ctx.open();
    const agent = new KeyLayout(ctx.prefix()).agent('a1');
    await ctx.raw().hset(agent.agent, 'next', 'many');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const error = await s.storeReasoningChain('a1', { n: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`${agent.agent} field next is not an integer`);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    expect(await ctx.raw().zscore(agent.bucket.agents, 'a1')).toBeNull();
    expect(await ctx.raw().hgetall(agent.bucket.counters)).toEqual({});
  });

  it('refuses a cache write whose keys index is not a zset, naming it, before writing anything', async () => {
    const s = await ctx.open();
    const cache = new KeyLayout(ctx.prefix()).cache('k1');
    await ctx.raw().set(cache.bucket.cacheKeys, 'not a zset');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const error = await s.storeCacheEntry('k1', { v: 1 }, 60).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`${cache.bucket.cacheKeys} is a string, expected a zset`);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    expect(await ctx.raw().get(cache.bucket.cacheKeys)).toBe('not a zset');
  });

  it('refuses a cache write whose value key is not a string, naming it, before writing anything', async () => {
    const s = await ctx.open();
    const cache = new KeyLayout(ctx.prefix()).cache('k1');
    await ctx.raw().rpush(cache.key, 'not a string');
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const error = await s.storeCacheEntry('k1', { v: 1 }, 60).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`${cache.key} is a list`);
    await expect(s.storeCacheEntry('k1', { v: 1 })).rejects.toBeInstanceOf(CorruptDataError);
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    expect(await ctx.raw().lrange(cache.key, 0, -1)).toEqual(['not a string']);
  });

  it('keeps a counter exact beyond the integers a Lua number holds', async () => {
    const s = await ctx.open();
    const { bucket, memoryData } = new KeyLayout(ctx.prefix()).conversation('c1');
    const big = 2n ** 53n + 1n;
    await ctx.raw().hset(bucket.counters, 'bytes', String(big), 'memories', '999999999999999');
    await s.storeMemory('c1', 'm1', { a: 1 });
    const stored = await ctx.raw().hstrlen(memoryData, 'm1');
    expect(await ctx.raw().hmget(bucket.counters, 'bytes', 'memories')).toEqual([
      String(big + BigInt(stored)),
      '1000000000000000',
    ]);
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

  it('keeps counts and bytes exact through a memory batch of new, repeated and replaced ids', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'old', { text: 'old memory' });
    await s.storeMemories('c', [
      { memoryId: 'new', data: { text: 'a' } },
      { memoryId: 'old', data: { text: 'replaced with a longer text' } },
      { memoryId: 'new', data: { text: 'the new one, written twice' } },
    ]);
    const { memoryData, bucket } = new KeyLayout(ctx.prefix()).conversation('c');
    const stored =
      (await ctx.raw().hstrlen(memoryData, 'old')) + (await ctx.raw().hstrlen(memoryData, 'new'));
    expect(await ctx.raw().hmget(bucket.counters, 'bytes', 'memories')).toEqual([String(stored), '2']);
    await s.deleteConversation('c');
    expect(await s.getStorageStats()).toMatchObject({ memory_count: 0, total_bytes: 0 });
  });

  it('keeps counters and indexes exact through memory and chain deletes, repeated or absent', async () => {
    const s = await ctx.open();
    const layout = new KeyLayout(ctx.prefix());
    for (const id of ['m1', 'm2', 'm3']) await s.storeMemory('c', id, { text: `memory ${id}` });
    for (const n of [1, 2, 3]) await s.storeReasoningChain('a', { n });
    await s.storeReasoningChain('b', { n: 'other' });
    await s.deleteMemory('c', 'm2');
    await s.deleteMemory('c', 'm2'); // a resent delete changes nothing
    await s.deleteMemory('c', 'absent');
    await s.deleteReasoningChains('a');
    await s.deleteReasoningChains('a');
    await s.deleteReasoningChains('absent');
    expect(await s.getStorageStats()).toMatchObject({
      memory_count: 2,
      reasoning_chain_count: 1,
      agent_count: 1,
    });
    const c = layout.conversation('c');
    expect(await ctx.raw().lrange(c.memories, 0, -1)).toEqual(['m1', 'm3']);
    expect((await ctx.raw().hkeys(c.memoryCreated)).sort()).toEqual(['m1', 'm3']);
    const a = layout.agent('a');
    expect(await ctx.raw().exists(a.chains)).toBe(0);
    // The agent's sequence counter stays, so a later chain never reuses a number.
    expect(await ctx.raw().hget(a.agent, 'next')).toBe('3');
    await s.deleteMemory('c', 'm1');
    await s.deleteMemory('c', 'm3');
    await s.deleteReasoningChains('b');
    expect(await ctx.raw().zscore(c.bucket.conversationIds, 'c')).toBeNull();
    expect(await s.listAllConversationIds()).toEqual([]);
    expect(await s.listAgents()).toEqual([]);
    const stats = await s.getStorageStats();
    expect(stats).toMatchObject({ memory_count: 0, reasoning_chain_count: 0, agent_count: 0 });
    expect(stats.total_bytes).toBe(0);
  });

  it('keeps counters, bytes and the agent index exact through trims and capped appends', async () => {
    const s = await ctx.open();
    const capped = await ctx.open({ maxReasoningChainsPerAgent: 2 });
    const layout = new KeyLayout(ctx.prefix());
    for (const n of [1, 2, 3, 4, 5]) await s.storeReasoningChain('a', { n, text: 'x'.repeat(n * 10) });
    await capped.storeReasoningChain('b', { n: 1 });
    await capped.storeReasoningChain('b', { n: 2, longer: 'y'.repeat(50) });
    await capped.storeReasoningChain('b', { n: 3 });
    expect(await s.trimReasoningChains('a', 2)).toBe(3);
    expect(await s.trimReasoningChains('a', 2)).toBe(0); // a resent trim changes nothing
    const bytes = async (agentId: string) =>
      (await ctx.raw().lrange(layout.agent(agentId).chains, 0, -1)).reduce(
        (sum, v) => sum + Buffer.byteLength(v),
        0,
      );
    expect(await s.getStorageStats()).toMatchObject({
      reasoning_chain_count: 4,
      agent_count: 2,
      total_bytes: (await bytes('a')) + (await bytes('b')),
    });
    expect(await ctx.raw().hget(layout.agent('a').agent, 'next')).toBe('5');
    expect(await s.trimReasoningChains('a', 0)).toBe(2);
    expect(await s.trimReasoningChains('b', 0)).toBe(2);
    expect(await ctx.raw().zcard(layout.agent('a').bucket.agents)).toBe(0);
    const stats = await s.getStorageStats();
    expect(stats).toMatchObject({ reasoning_chain_count: 0, agent_count: 0 });
    expect(stats.total_bytes).toBe(0);
  });

  it('keeps a conversation indexed when its last memory goes but another kind stays', async () => {
    const s = await ctx.open();
    await s.storeRawMessages('c', [1]);
    await s.storeMemory('c', 'm1', { a: 1 });
    await s.deleteMemory('c', 'm1');
    expect(await s.listAllConversationIds()).toEqual(['c']);
    expect(await s.getStorageStats()).toMatchObject({ memory_count: 0, raw_message_count: 1 });
  });
});
