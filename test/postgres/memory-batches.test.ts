/**
 * Memory batches where some records choose their `created_at` and some do not: each replace
 * finds its row's choice without a per-row scan of the batch, and gets it right for every id.
 */
import { buildBulkSql } from '../../src/backends/postgres/bulk-writes.js';
import type { MemoryBatchItem } from '../../src/index.js';
import { describeWithService } from '../services.js';
import { usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres mixed memory batches', () => {
  const ctx = usePostgresStore();

  it('plans the mixed upsert without a subplan run per row', async () => {
    await ctx.open();
    const text = buildBulkSql(ctx.schema()).upsertMemories.text;
    // The six row columns, the lock namespace and conversation ids, the choices.
    const params = ['[]', '[]', '[]', '[]', '[]', '[]', 'lock', [], '{}'];
    const { rows } = await ctx.raw().query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params);
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    // A correlated subquery (a "SubPlan") runs once per replaced row: the lookup of each row's
    // choice in the batch made a re-store of 20,000 memories quadratic (28 s). An uncorrelated
    // one is an "InitPlan", run once.
    expect(plan).not.toMatch(/SubPlan/);
    expect(plan).toMatch(/InitPlan/);
  });

  it('keeps or sets created_at per conversation and memory id, whatever the ids', async () => {
    const s = await ctx.open();
    const ids = ['__proto__', 'a"b', 'x y', '\u00e9', 'constructor', '0'];
    const conversations = ['c1', '__proto__'];
    const first = ids.map((memoryId) => ({ memoryId, data: { v: 1, created_at: 'old' } }));
    await s.storeConversationBatch(
      conversations.map((conversationId) => ({ conversationId, memories: first })),
    );
    // The same memory ids in both conversations, each choosing in one and not in the other,
    // and new memories between the replaces.
    const again = (conversation: number): MemoryBatchItem[] =>
      ids.flatMap((memoryId, n): MemoryBatchItem[] => [
        (n + conversation) % 2 === 0
          ? { memoryId, data: { v: 2, created_at: `new ${memoryId}` } }
          : { memoryId, data: { v: 2 } },
        { memoryId: `added ${n}`, data: { v: 3 } },
      ]);
    await s.storeConversationBatch(
      conversations.map((conversationId, c) => ({ conversationId, memories: again(c) })),
    );
    for (const [c, conversationId] of conversations.entries()) {
      const loaded = await s.loadMemories(conversationId);
      expect(loaded.map((memory) => memory.memory_id)).toEqual([...ids, ...ids.map((_, n) => `added ${n}`)]);
      for (const [n, memoryId] of ids.entries()) {
        const expected = (n + c) % 2 === 0 ? `new ${memoryId}` : 'old';
        expect(loaded[n]).toEqual({ memory_id: memoryId, created_at: expected, v: 2 });
      }
    }
  });
});
