/** Several RedisStorage instances (several connections) writing one store at once lose nothing. */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { APPEND_CHAINS } from '../../src/backends/redis/chains.js';
import { runScript } from '../../src/backends/redis/scripts.js';
import { useRedisStore } from './helpers.js';
import { describeWithService } from '../services.js';

describeWithService('redis')('redis concurrency across clients', () => {
  const ctx = useRedisStore();

  it('keeps every memory and chain stored concurrently by five clients', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => ctx.open()));
    const memoryIds = Array.from({ length: 200 }, (_, i) => `m${String(i).padStart(3, '0')}`);
    await Promise.all([
      ...memoryIds.map((id, i) => clients[i % 5]!.storeMemory('shared', id, { id })),
      ...memoryIds.map((_, i) => clients[(i + 1) % 5]!.storeReasoningChain('agent', { i })),
      ...memoryIds.map((_, i) => clients[(i + 2) % 5]!.storeConversation(`c${i % 20}`, { i })),
    ]);
    const reader = clients[0]!;
    expect((await reader.loadMemories('shared')).map((m) => m.memory_id).sort()).toEqual(memoryIds);
    const chains = await reader.loadReasoningChains('agent');
    expect(chains.map((c) => Number(c.i)).sort((a, b) => a - b)).toEqual(memoryIds.map((_, i) => i));
    expect(await reader.listConversations()).toHaveLength(20);
    expect(await reader.getStorageStats()).toMatchObject({
      memory_count: 200,
      reasoning_chain_count: 200,
      conversation_count: 20,
    });
  });

  it('upserts one memory id from many clients without duplicating it or moving it', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => ctx.open()));
    await clients[0]!.storeMemory('c', 'first', { v: 0 });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        clients[i % 4]!.storeMemory('c', i % 2 ? 'first' : 'second', { i }),
      ),
    );
    const memories = await clients[1]!.loadMemories('c');
    expect(memories.map((m) => m.memory_id)).toEqual(['first', 'second']);
  });

  it('applies a resent chain append once (the same token twice)', async () => {
    const s = await ctx.open();
    const k = new KeyLayout(ctx.prefix()).agent('a');
    const keys = [k.chains, k.chainAppends, k.agent, k.bucket.agents, k.bucket.counters];
    const record = JSON.stringify({ stored_at: '2025-01-01T00:00:00.000000+00:00', n: 1 });
    // ARGV: token, token TTL, agent id, chains to keep (-1: no limit), search flag ('': leave
    // the index alone) and owner part, record count, records (the script reads the time).
    const args = ['token-1', 60_000, 'a', -1, '', '', 1, record];
    // The reply is the first chain's sequence number, or -1 for a resend.
    expect(await runScript(ctx.raw(), APPEND_CHAINS, keys, args)).toBe(0);
    expect(await runScript(ctx.raw(), APPEND_CHAINS, keys, args)).toBe(-1);
    expect(
      await runScript(ctx.raw(), APPEND_CHAINS, keys, ['token-2', 60_000, 'a', -1, '', '', 1, record]),
    ).toBe(1);
    expect(await s.loadReasoningChains('a')).toHaveLength(2);
    expect(await s.getStorageStats()).toMatchObject({ reasoning_chain_count: 2, agent_count: 1 });
    const ttl = await ctx.raw().pttl(k.chainAppends);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('finishes every call accepted before shutdown(), its index entries included', async () => {
    const s = await ctx.open();
    const calls: Array<Promise<boolean>> = [];
    for (let i = 0; i < 20; i += 1) {
      calls.push(s.storeConversation(`c${i}`, { i }));
      calls.push(s.storeMemory(`m${i}`, 'm', { i }));
      calls.push(s.storeCacheEntry(`k${i}`, { i }, 60));
    }
    const closing = s.shutdown();
    expect((await Promise.allSettled(calls)).filter((r) => r.status === 'rejected')).toEqual([]);
    await closing;
    await expect(s.loadConversation('c0')).rejects.toMatchObject({ code: 'NOT_INITIALIZED' });
    const reader = await ctx.open();
    expect(await reader.listConversations()).toHaveLength(20);
    expect(await reader.listAllConversationIds()).toHaveLength(40);
    expect(await reader.listCacheKeys()).toHaveLength(20);
  });
});
