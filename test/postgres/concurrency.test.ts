/**
 * Several PostgresStorage instances (separate pools) writing one schema at once lose
 * nothing, never duplicate a memory id, and never mix two raw-message lists.
 */
import { isDeepStrictEqual } from 'node:util';
import { describeWithService } from '../services.js';
import { usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres concurrency across pools', () => {
  const ctx = usePostgresStore();

  it('keeps every memory and chain stored concurrently by two instances', async () => {
    const [a, b] = [await ctx.open(), await ctx.open()];
    const ids = Array.from({ length: 200 }, (_, i) => `m${String(i).padStart(3, '0')}`);
    await Promise.all([
      ...ids.map((id, i) => (i % 2 ? a : b).storeMemory('shared', id, { id })),
      ...ids.map((_, i) => (i % 2 ? b : a).storeReasoningChain('agent', { i })),
      ...ids.map((_, i) => (i % 3 ? a : b).storeConversation(`c${i % 20}`, { i })),
    ]);
    expect((await a.loadMemories('shared')).map((m) => m.memory_id).sort()).toEqual(ids);
    const chains = await b.loadReasoningChains('agent');
    expect(chains.map((c) => Number(c.i)).sort((x, y) => x - y)).toEqual(ids.map((_, i) => i));
    expect(await a.getStorageStats()).toMatchObject({
      memory_count: 200,
      reasoning_chain_count: 200,
      conversation_count: 20,
      agent_count: 1,
    });
  });

  it('upserts the same memory ids from both instances without duplicating or moving them', async () => {
    const [a, b] = [await ctx.open(), await ctx.open()];
    await a.storeMemory('c', 'first', { v: 0 });
    const firstCreated = (await a.loadMemories('c'))[0]?.created_at;
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? a : b).storeMemory('c', ['first', 'second', 'third'][i % 3]!, { i }),
      ),
    );
    const memories = await b.loadMemories('c');
    expect(memories.map((m) => m.memory_id)).toEqual(['first', 'second', 'third']);
    expect(memories[0]?.created_at).toBe(firstCreated);
  });

  it('replaces one raw-message list from both instances at once, leaving one whole list', async () => {
    const [a, b] = [await ctx.open(), await ctx.open()];
    const lists = Array.from({ length: 12 }, (_, n) => Array.from({ length: 50 + n }, (_, i) => ({ n, i })));
    await Promise.all(lists.map((list, n) => (n % 2 ? a : b).storeRawMessages('c', list)));
    const loaded = await a.loadRawMessages('c');
    const winner = (loaded[0] as { n: number }).n;
    expect(loaded).toEqual(lists[winner]);
  });

  it('keeps exactly the newest chains when two instances append under a limit at once', async () => {
    const [a, b] = [
      await ctx.open({ maxReasoningChainsPerAgent: 10 }),
      await ctx.open({ maxReasoningChainsPerAgent: 10 }),
    ];
    await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        i % 5 === 4
          ? (i % 2 ? a : b).appendReasoningChains('agent', [
              { i, part: 0 },
              { i, part: 1 },
            ])
          : (i % 2 ? a : b).storeReasoningChain('agent', { i }),
      ),
    );
    // Every append trimmed after it took the agent's lock, seeing every append committed before:
    // the survivors are the ten highest sequence numbers ever given, in order.
    const kept = await a.loadSequencedReasoningChains('agent');
    expect(kept).toHaveLength(10);
    const { rows } = await ctx
      .raw()
      .query<{ id: string }>(`SELECT id FROM "${ctx.schema()}".reasoning_chains ORDER BY id DESC LIMIT 10`);
    expect(kept.map((c) => c.sequence)).toEqual(rows.map((r) => Number(r.id)).reverse());
    const maxSeq = await ctx
      .raw()
      .query<{ last: string }>(
        `SELECT last_value::text AS last FROM "${ctx.schema()}".reasoning_chains_id_seq`,
      );
    expect(kept.at(-1)?.sequence).toBe(Number(maxSeq.rows[0]?.last));
  });

  it('deletes a conversation with all its kinds while another instance reads', async () => {
    const [a, b] = [await ctx.open(), await ctx.open()];
    await a.storeConversation('c', { v: 1 });
    await a.storeRawMessages('c', [1, 2, 3]);
    await a.storeMemory('c', 'm', { v: 1 });
    await a.storeChunkInfo('c', { v: 1 });
    await Promise.all([b.deleteConversation('c'), a.loadMemories('c')]);
    expect(await a.listAllConversationIds()).toEqual([]);
    expect(await b.getStorageStats()).toMatchObject({
      raw_message_count: 0,
      memory_count: 0,
      chunk_info_count: 0,
    });
  });

  it('runs batches of two instances that lock the same rows in opposite orders, none failing', async () => {
    const [a, b] = [await ctx.open(), await ctx.open()];
    // Each pair of batches locks shared rows in opposite orders: without a retry, the server
    // picks one of each deadlocked pair as its victim (40P01) and the call rejects.
    for (let round = 0; round < 4; round += 1) {
      const keys = Array.from({ length: 200 }, (_, i) => `r${round}-${String(i).padStart(3, '0')}`);
      const reversed = [...keys].reverse();
      const memories = keys.map((memoryId) => ({ memoryId, data: { memoryId } }));
      const results = await Promise.allSettled([
        a.storeCacheEntries(keys.map((key) => ({ key, data: { from: 'a' } }))),
        b.storeCacheEntries(reversed.map((key) => ({ key, data: { from: 'b' } }))),
        a.storeMemories(`c${round}`, memories),
        b.storeMemories(`c${round}`, [...memories].reverse()),
        a.storeConversationBatch(
          keys.slice(0, 60).map((conversationId) => ({ conversationId, conversation: { a: 1 } })),
        ),
        b.storeConversationBatch(
          reversed.slice(140).map((conversationId) => ({ conversationId, conversation: { b: 1 } })),
        ),
      ]);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      // Each batch applied whole, once: the memories keep the positions one batch gave them.
      const order = (await a.loadMemories(`c${round}`)).map((m) => m.memory_id);
      expect([keys, reversed]).toContainEqual(order);
      const cached = await a.loadCacheEntries(keys);
      expect(new Set(cached.map((c) => JSON.stringify(c))).size).toBe(1);
    }
  });

  it('deletes a conversation during a replace of its raw messages: all of it or none, never a part', async () => {
    const [a, b] = [await ctx.open(), await ctx.open()];
    const base = Array.from({ length: 2000 }, (_, i) => ({ role: 'user', content: `message ${i}` }));
    const longer = [
      ...base,
      ...Array.from({ length: 50 }, (_, i) => ({ role: 'assistant', content: `${i}` })),
    ];
    // The replace skips its 2000 unchanged rows; a delete that did not wait for its lock removed
    // those and missed the 50 new ones, leaving a list of 50. The delay slides the delete along.
    const partial: number[] = [];
    for (let round = 0; round < 24; round += 1) {
      const id = `conv${round}`;
      await a.storeConversation(id, { round });
      await a.storeRawMessages(id, base);
      await Promise.all([
        a.storeRawMessages(id, longer),
        new Promise((resolve) => setTimeout(resolve, round % 8)).then(() => b.deleteConversation(id)),
      ]);
      const loaded = await a.loadRawMessages(id);
      if (loaded.length > 0 && !isDeepStrictEqual(loaded, longer)) partial.push(loaded.length);
    }
    expect(partial).toEqual([]);
  });
});
