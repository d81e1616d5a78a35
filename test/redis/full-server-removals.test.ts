/**
 * A server out of memory under `noeviction` (the policy the README recommends) refuses writes;
 * deletes must still work, since deleting is how a caller makes room. Each removal script
 * declares `allow-oom`: before, the ones whose first write may grow memory (an index mark, a
 * counter) were refused whole with the server's OOM error.
 */
import type Redis from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { describeWithService } from '../services.js';
import { quickClient, usePrivateRedisServer } from './redis-server.js';

describeWithService('redis')('redis removals on a server out of memory', () => {
  let storage: RedisStorage | undefined;
  let raw: Redis | undefined;
  const server = usePrivateRedisServer(async () => {
    await storage?.shutdown();
    raw?.disconnect();
  });

  beforeAll(async () => {
    storage = new RedisStorage({ url: server().url, keyPrefix: 'full:' });
    await storage.initialize();
    raw = quickClient(server().url);
    await raw.connect();
  });

  it('deletes and trims every kind while writes are refused, and counts and search follow', async () => {
    const s = storage!;
    for (const id of ['c1', 'c2']) {
      await s.storeConversation(id, { title: `walrus ${id}` });
      await s.storeRawMessages(id, [{ role: 'user', content: `narwhal ${id}` }]);
      await s.storeMemories(id, [
        { memoryId: 'm1', data: { text: `octopus ${id}` } },
        { memoryId: 'm2', data: { text: `squid ${id}` } },
        { memoryId: 'm3', data: { text: `crab ${id}` } },
      ]);
      await s.storeChunkInfo(id, { chunks: 1 });
    }
    for (const agent of ['a1', 'a2']) {
      for (let n = 0; n < 3; n += 1) await s.storeReasoningChain(agent, { step: `lobster ${agent} ${n}` });
    }
    await s.storeCacheEntries(['k1', 'k2', 'k3'].map((key) => ({ key, data: { v: 1 }, ttlSeconds: 3600 })));
    await s.storeSystemState('s1', { v: 1 });

    expect(await raw!.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    await raw!.config('SET', 'maxmemory', '1');
    try {
      await expect(s.storeConversation('c3', { v: 1 })).rejects.toThrow(/OOM command not allowed/);
      expect(await s.deleteMemory('c2', 'm1')).toBe(true);
      expect(await s.deleteMemories('c2', ['m3', 'absent', 'm3'])).toBe(3);
      expect(await s.trimReasoningChains('a2', 1)).toBe(2);
      expect(await s.deleteReasoningChains('a1')).toBe(true);
      expect(await s.deleteConversation('c1')).toBe(true);
      expect(await s.deleteCacheEntry('k1')).toBe(true);
      expect(await s.deleteCacheEntries(['k2', 'k3', 'absent'])).toBe(3);
      expect(await s.deleteSystemState('s1')).toBe(true);
    } finally {
      await raw!.config('SET', 'maxmemory', '0');
    }

    expect(await s.loadConversation('c1')).toBeNull();
    expect(await s.loadRawMessages('c1')).toEqual([]);
    expect(await s.loadMemories('c2')).toEqual([expect.objectContaining({ memory_id: 'm2' })]);
    expect(await s.loadReasoningChains('a1')).toEqual([]);
    expect(await s.loadReasoningChains('a2')).toEqual([expect.objectContaining({ step: 'lobster a2 2' })]);
    expect(await s.loadCacheEntries(['k1', 'k2', 'k3'])).toEqual([null, null, null]);
    expect(await s.loadSystemState('s1')).toBeNull();
    expect(await s.listConversations()).toEqual(['c2']);
    const stats = await s.getStorageStats();
    expect(stats).toMatchObject({
      conversation_count: 1,
      memory_count: 1,
      reasoning_chain_count: 1,
      cache_entry_count: 0,
      system_state_count: 0,
    });
    // The index lost the removed records with them.
    const found = async (text: string) =>
      (await s.search({ text, match: 'all', kinds: ['raw_messages', 'memories', 'reasoning_chains'] }))
        .length;
    expect(await found('narwhal c1')).toBe(0);
    expect(await found('octopus')).toBe(0);
    expect(await found('crab')).toBe(0);
    expect(await found('squid c2')).toBeGreaterThan(0);
    expect(await found('lobster a1')).toBe(0);
    expect(await found('lobster a2 0')).toBe(0);
    expect(await found('lobster a2 2')).toBe(1);
  });
});
