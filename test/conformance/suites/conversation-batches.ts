/**
 * Conformance: `storeConversationBatch` (whole conversations per call). Each batch is compared
 * with the same single calls in a loop on a second fresh store; the batch's records are
 * searchable at once, and a batch that fails validation writes nothing. `loadConversationBatch`
 * returns what the four single loads return per id.
 */
import {
  type ConversationBatchItem,
  type SearchHit,
  type StorageInterface,
  StorageError,
  ValidationError,
} from '../../../src/core/index.js';
import { oddValue, withoutClock } from './value-helpers.js';
import type { SuiteContext } from '../context.js';

/**
 * Everything the stores hold for `ids`, and the listings and counts; with `scope`, only the
 * listed ids that start with it, and no counts (so that one test's runs can share a store).
 */
export async function contents(
  s: StorageInterface,
  ids: readonly string[],
  scope?: string,
): Promise<unknown> {
  const perId = await Promise.all(
    ids.map(async (id) => [
      await s.loadConversation(id),
      await s.loadRawMessages(id),
      withoutClock(await s.loadMemories(id)),
      await s.loadChunkInfo(id),
    ]),
  );
  const listed = (list: string[]) => list.filter((id) => scope === undefined || id.startsWith(scope)).sort();
  const listings = {
    perId,
    ids: listed(await s.listAllConversationIds()),
    conversations: listed(await s.listConversations()),
  };
  if (scope !== undefined) return listings;
  const stats = await s.getStorageStats();
  return { ...listings, memories: stats.memory_count, rawMessages: stats.raw_message_count };
}

/** A hit's kind and owner id. */
function owner(hit: SearchHit): [string, string] {
  return [hit.kind, 'conversationId' in hit ? hit.conversationId : hit.agentId];
}

/** Applies `item` with the single calls, in the batch's order of parts. */
export async function storeSingly(s: StorageInterface, item: ConversationBatchItem): Promise<void> {
  const id = item.conversationId;
  if (item.conversation !== undefined) await s.storeConversation(id, item.conversation);
  if (item.rawMessages !== undefined) await s.storeRawMessages(id, item.rawMessages);
  for (const memory of item.memories ?? []) await s.storeMemory(id, memory.memoryId, memory.data);
  if (item.chunkInfo !== undefined) await s.storeChunkInfo(id, item.chunkInfo);
}

/** Registers the conversation batch tests. */
export function conversationBatchTests(ctx: SuiteContext): void {
  describe('storeConversationBatch', () => {
    it('takes a batch of its own bulkCopyDefaults size, what a migration into it sends', async () => {
      const s = ctx.storage();
      const { conversationBatchSize, concurrency } = s.bulkCopyDefaults;
      expect(Number.isSafeInteger(concurrency) && concurrency >= 1).toBe(true);
      expect(Number.isSafeInteger(conversationBatchSize) && conversationBatchSize >= 1).toBe(true);
      const items = Array.from({ length: conversationBatchSize }, (_, i) => ({
        conversationId: `sized-${String(i).padStart(4, '0')}`,
        conversation: { i },
        rawMessages: [{ content: `message ${i}` }],
      }));
      expect(await s.storeConversationBatch(items)).toBe(conversationBatchSize);
      const loaded = await s.loadConversationBatch(items.map((item) => item.conversationId));
      expect(loaded.map((c) => [c.conversation?.i, c.rawMessages])).toEqual(
        items.map((item) => [item.conversation.i, item.rawMessages]),
      );
    });

    it('equals the single calls in a loop: replaces, upserts in place, order, partial items', async () => {
      const [batch, single] = [ctx.storage(), await (await ctx.newStore()).open()];
      for (const s of [batch, single]) {
        await s.storeConversation('held', { title: 'old' });
        await s.storeRawMessages('held', [{ content: 'old 1' }, { content: 'old 2' }, { content: 'old 3' }]);
        await s.storeMemory('held', 'm1', { v: 'old', created_at: '2001-01-01T00:00:00+00:00' });
        await s.storeMemory('held', 'm2', { v: 'old 2' });
        await s.storeChunkInfo('held', { chunks: [1] });
      }
      const items: ConversationBatchItem[] = [
        {
          conversationId: 'held',
          conversation: { title: 'new', nested: { list: [1, 'two', null] } },
          rawMessages: [{ content: 'replaced with one' }],
          memories: [
            { memoryId: 'm3', data: { v: 'appended' } },
            { memoryId: 'm1', data: { v: 'replaced in place, keeps its created_at' } },
            { memoryId: 'm3', data: { v: 'appended, then replaced' } },
          ],
        },
        {
          conversationId: 'fresh',
          conversation: { title: 'fresh' },
          rawMessages: [{ role: 'user', content: 'zebra crossing' }, 'a plain string', 7],
          memories: [
            { memoryId: 'b', data: { summary: 'second by time', created_at: '2001-03-06T10:00:05+00:00' } },
            { memoryId: 'a', data: { summary: 'first by time', created_at: '2001-03-06T10:00:01+00:00' } },
          ],
          chunkInfo: { chunks: [0, 1], boundary: 'x' },
        },
        { conversationId: 'raw-only', rawMessages: [{ content: 'no conversation object' }] },
        { conversationId: 'memory-only', memories: [{ memoryId: 'x', data: { v: 1 } }] },
        { conversationId: 'chunk-only', chunkInfo: { chunks: [] } },
      ];
      await expect(batch.storeConversationBatch(items)).resolves.toBe(items.length);
      for (const item of items) await storeSingly(single, item);
      const ids = items.map((item) => item.conversationId);
      expect(await contents(batch, ids)).toEqual(await contents(single, ids));
      expect((await batch.loadMemories('held')).map((m) => [m.memory_id, m.v])).toEqual([
        ['m1', 'replaced in place, keeps its created_at'],
        ['m2', 'old 2'],
        ['m3', 'appended, then replaced'],
      ]);
      expect((await batch.loadMemories('fresh')).map((m) => m.memory_id)).toEqual(['b', 'a']);
      await expect(batch.storeConversationBatch([])).resolves.toBe(0);
    });

    it('stores any value the single calls store: NUL, lone surrogates, escapes, scalars, key order', async () => {
      const [batch, single] = [ctx.storage(), await (await ctx.newStore()).open()];
      const odd = oddValue();
      const items: ConversationBatchItem[] = [
        {
          conversationId: 'odd',
          conversation: { b: 1, a: odd },
          rawMessages: [null, 'plain "quoted"', 42, true, [odd], odd],
          memories: [{ memoryId: 'm', data: { ...odd, created_at: '2001-01-01T00:00:00+00:00' } }],
          chunkInfo: { chunks: [odd] },
        },
        // A plain neighbour in the same batch, written in the same statements.
        { conversationId: 'plain', conversation: { title: 'narwhal' }, rawMessages: [{ content: 'x' }] },
      ];
      await batch.storeConversationBatch(items);
      for (const item of items) await storeSingly(single, item);
      const ids = items.map((item) => item.conversationId);
      // Compared as JSON text too: the key order (and `__proto__` as an own key) must survive.
      const [got, want] = [await contents(batch, ids), await contents(single, ids)];
      expect(got).toEqual(want);
      expect(JSON.stringify(got)).toBe(JSON.stringify(want));
      const kinds = ['conversations', 'raw_messages', 'memories', 'chunk_info'] as const;
      const hits = await batch.search({ text: 'walrus tusk', match: 'all', kinds, limit: 50 });
      expect([...new Set(hits.map((hit) => owner(hit).join(' ')))].sort()).toEqual([
        'chunk_info odd',
        'conversations odd',
        'memories odd',
        'raw_messages odd',
      ]);
    });

    it('keeps the search index current: the records are found, replaced ones are not', async () => {
      const s = ctx.storage();
      await s.storeRawMessages('c1', [{ content: 'walrus ballad' }]);
      await s.storeConversationBatch([
        { conversationId: 'c1', rawMessages: [{ content: 'narwhal sonata' }] },
        { conversationId: 'c2', memories: [{ memoryId: 'm', data: { summary: 'narwhal walrus' } }] },
      ]);
      const hits = await s.search({ text: 'narwhal walrus', match: 'any' });
      const found = hits.map(owner).sort();
      expect(found).toEqual([
        ['memories', 'c2'],
        ['raw_messages', 'c1'],
      ]);
      const walrus = await s.search({ text: 'walrus', match: 'any' });
      expect(walrus.map(owner)).toEqual([['memories', 'c2']]);
    });

    it('validates every item before any I/O: a bad or repeated item writes nothing', async () => {
      const s = ctx.storage();
      const good: ConversationBatchItem = { conversationId: 'ok', conversation: { title: 'ok' } };
      const bad: unknown[] = [
        [good, { conversationId: 'ok', chunkInfo: { chunks: 1 } }],
        [good, { conversationId: '', conversation: {} }],
        [good, { conversationId: 'x', memories: [{ memoryId: 'm', data: 'not an object' }] }],
        [good, { conversationId: 'x', rawMessages: 'not a list' }],
        [good, { conversationId: 'x', conversation: { _storage_metadata: {} } }],
        [good, { conversationId: 'x', chunkInfo: { _metadata: {} } }],
      ];
      for (const items of bad) {
        const error = await s.storeConversationBatch(items as ConversationBatchItem[]).then(
          () => new Error('resolved'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StorageError);
        expect((error as Error).message).toMatch(/^storeConversationBatch\(\) item 1: /);
      }
      expect(await s.listAllConversationIds()).toEqual([]);
    });
  });

  describe('loadConversationBatch', () => {
    it('equals the four single loads per id, in the order given, repeats and unknown ids included', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { title: 'one', nested: { list: [1, 'two', null] } });
      await s.storeRawMessages('c1', [{ content: 'first' }, 'plain', 3, { content: 'last' }]);
      // Stored in this order with their creation times the other way round: loads keep the store order.
      await s.storeMemory('c1', 'late', { v: 1, created_at: '2001-09-01T00:00:00+00:00' });
      await s.storeMemory('c1', 'early', { v: 2, created_at: '2001-01-01T00:00:00+00:00' });
      await s.storeMemory('c1', 'late', { v: 3, created_at: '2001-09-01T00:00:00+00:00' });
      await s.storeChunkInfo('c1', { chunks: [0, 1] });
      await s.storeRawMessages('raw-only', [{ content: 'only raw' }]);
      await s.storeMemory('memory-only', 'm', { v: 'x' });
      await s.storeChunkInfo('chunk-only', { chunks: [] });
      const many = Array.from({ length: 70 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);
      for (const id of many) await s.storeRawMessages(id, [{ n: id }, { n: `${id} again` }]);
      const ids = ['chunk-only', 'c1', 'missing', 'raw-only', 'c1', 'memory-only', ...many];
      const single = await Promise.all(
        ids.map(async (id) => ({
          conversationId: id,
          conversation: await s.loadConversation(id),
          rawMessages: await s.loadRawMessages(id),
          memories: await s.loadMemories(id),
          chunkInfo: await s.loadChunkInfo(id),
        })),
      );
      const batch = await s.loadConversationBatch(ids);
      expect(batch).toEqual(single);
      expect(batch[1]?.memories.map((m) => [m.memory_id, m.v])).toEqual([
        ['late', 3],
        ['early', 2],
      ]);
      expect(batch[2]).toEqual({
        conversationId: 'missing',
        conversation: null,
        rawMessages: [],
        memories: [],
        chunkInfo: null,
      });
      // A repeated id gets objects of its own at each position, as two single loads would: a
      // caller that changes one position's result does not change another's.
      const [first, again] = [batch[1], batch[4]];
      if (first?.conversation && first.chunkInfo && first.memories[0]) {
        first.conversation.title = 'changed';
        first.chunkInfo.chunks = [];
        first.memories[0].v = 'changed';
        first.rawMessages.length = 0;
      }
      expect(again).toEqual(single[4]);
      await expect(s.loadConversationBatch([])).resolves.toEqual([]);
    });

    it('validates every id before any I/O', async () => {
      const s = ctx.storage();
      const refusal = (ids: unknown) =>
        s.loadConversationBatch(ids as string[]).then(
          () => new Error('resolved'),
          (e: unknown) => e,
        );
      for (const ids of [
        ['ok', ''],
        ['ok', 7],
        ['ok', 'a\u0000b'],
      ])
        expect(await refusal(ids)).toBeInstanceOf(StorageError);
      for (const ids of ['not a list', Array.from({ length: 1001 }, () => 'x')])
        expect(await refusal(ids)).toBeInstanceOf(ValidationError);
      const error = await s.loadConversationBatch(['ok', '']).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/^loadConversationBatch\(\) item 1: /);
    });
  });
}
