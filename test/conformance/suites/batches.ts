/**
 * Conformance: batch writes and reads. Each batch is compared with the same single calls on a
 * second fresh store (timestamps the clock sets are ignored, those the caller sets are not).
 */
import { formatEpochMs, type JsonObject, type StorageInterface } from '../../../src/core/index.js';
import { CALLER_YEAR, oddValue, ttlOf, withoutClock } from './value-helpers.js';
import type { SuiteContext } from '../context.js';
import { batchValidationTests } from './batch-validation.js';
import { cacheDeleteBatchTests } from './cache-delete-batches.js';
import { memoryDeleteBatchTests } from './memory-delete-batches.js';

/** Counts of stats that batches change. */
async function counts(s: StorageInterface): Promise<Record<string, unknown>> {
  const stats = await s.getStorageStats();
  return {
    memories: stats.memory_count,
    chains: stats.reasoning_chain_count,
    agents: stats.agent_count,
    cache: stats.cache_entry_count,
    ids: await s.listAllConversationIds(),
    agentIds: await s.listAgents(),
    cacheKeys: await s.listCacheKeys(),
  };
}

/** Registers the batch tests. */
export function batchTests(ctx: SuiteContext): void {
  /** The test's store, and a second fresh one for the single calls. */
  async function pair(): Promise<[StorageInterface, StorageInterface]> {
    return [ctx.storage(), await (await ctx.newStore()).open()];
  }

  describe('batches', () => {
    it('storeMemories equals storeMemory in a loop: order, upserts in place, duplicates, created_at', async () => {
      const [batch, single] = await pair();
      const before: Array<{ memoryId: string; data: JsonObject }> = [
        { memoryId: 'old-1', data: { v: 'old 1' } },
        { memoryId: 'old-2', data: { v: 'old 2', created_at: `${CALLER_YEAR}01-01T00:00:00+00:00` } },
      ];
      const items: Array<{ memoryId: string; data: JsonObject }> = [
        { memoryId: 'new-1', data: { v: 'n1' } },
        { memoryId: 'old-2', data: { v: 'replaced, keeps its created_at' } },
        { memoryId: 'new-2', data: { v: 'n2', created_at: `${CALLER_YEAR}02-02T00:00:00+00:00` } },
        { memoryId: 'new-1', data: { v: 'n1 again', memory_id: 'ignored' } },
        {
          memoryId: 'old-1',
          data: { v: 'old 1 with a date', created_at: `${CALLER_YEAR}03-03T00:00:00+00:00` },
        },
        { memoryId: 'new-2', data: { v: 'n2 again, keeps the caller date' } },
        { memoryId: 'new-3', data: { v: 'n3', created_at: 7 } },
      ];
      for (const s of [batch, single]) {
        for (const m of before) await s.storeMemory('c1', m.memoryId, m.data);
      }
      await expect(batch.storeMemories('c1', items)).resolves.toBe(items.length);
      for (const m of items) await single.storeMemory('c1', m.memoryId, m.data);
      const loaded = withoutClock(await batch.loadMemories('c1'));
      expect(loaded).toEqual(withoutClock(await single.loadMemories('c1')));
      expect(loaded.map((m) => m.memory_id)).toEqual(['old-1', 'old-2', 'new-1', 'new-2', 'new-3']);
      expect(loaded[1]).toMatchObject({ created_at: `${CALLER_YEAR}01-01T00:00:00+00:00` });
      expect(loaded[3]).toMatchObject({ v: 'n2 again, keeps the caller date' });
      expect(loaded[3]?.created_at).toBe(`${CALLER_YEAR}02-02T00:00:00+00:00`);
      expect(await counts(batch)).toEqual(await counts(single));
    });

    it('storeMemories equals storeMemory in a loop where none or every item chooses its created_at', async () => {
      const [batch, single] = await pair();
      const dated = (month: string) => `${CALLER_YEAR}${month}-01T00:00:00+00:00`;
      const before: Array<{ memoryId: string; data: JsonObject }> = [
        { memoryId: 'a', data: { v: 'a0', created_at: dated('01') } },
        { memoryId: 'b', data: { v: 'b0' } },
      ];
      const none = [
        { memoryId: 'b', data: { v: 'b1' } },
        { memoryId: 'a', data: { v: 'a1, keeps its date' } },
        { memoryId: 'c', data: { v: 'c1' } },
      ];
      const every = [
        { memoryId: 'c', data: { v: 'c2', created_at: dated('02') } },
        { memoryId: 'a', data: { v: 'a2', created_at: dated('03') } },
        { memoryId: 'd', data: { v: 'd2', created_at: dated('04') } },
      ];
      for (const s of [batch, single]) {
        for (const m of before) await s.storeMemory('c1', m.memoryId, m.data);
      }
      await batch.storeMemories('c1', none);
      for (const m of none) await single.storeMemory('c1', m.memoryId, m.data);
      const afterNone = withoutClock(await batch.loadMemories('c1'));
      expect(afterNone).toEqual(withoutClock(await single.loadMemories('c1')));
      expect(afterNone[0]).toMatchObject({ v: 'a1, keeps its date', created_at: dated('01') });
      await batch.storeMemories('c1', every);
      for (const m of every) await single.storeMemory('c1', m.memoryId, m.data);
      const afterEvery = withoutClock(await batch.loadMemories('c1'));
      expect(afterEvery).toEqual(withoutClock(await single.loadMemories('c1')));
      expect(afterEvery.map((m) => [m.memory_id, m.created_at])).toEqual([
        ['a', dated('03')],
        ['b', expect.anything()],
        ['c', dated('02')],
        ['d', dated('04')],
      ]);
    });

    for (const searchIndex of [true, false]) {
      it(`storeMemories of new ids equals storeMemory in a loop, then with a stored id (searchIndex: ${searchIndex})`, async () => {
        // Backends may write a batch of new ids only in fewer statements (SQLite: one insert,
        // from 16 rows its entries straight into FTS5) and fall back to the upsert when an id
        // is stored already.
        const open = async () => (await ctx.newStore()).open({ searchIndex });
        const [batch, single] = [await open(), await open()];
        const first: Array<{ memoryId: string; data: JsonObject }> = [
          { memoryId: 'n1', data: oddValue() },
          { memoryId: 'n2', data: { v: 2, created_at: `${CALLER_YEAR}02-02T00:00:00+00:00` } },
          { memoryId: 'n3', data: { v: 3, created_at: 7 } },
          { memoryId: 'n4', data: { b: 1, memory_id: 'ignored', a: 2 } },
        ];
        const second: Array<{ memoryId: string; data: JsonObject }> = [
          { memoryId: 'n5', data: { v: 5 } },
          { memoryId: 'n2', data: { v: 'replaced, keeps the caller date' } },
          { memoryId: 'n6', data: { v: 6 } },
        ];
        const third = Array.from({ length: 20 }, (_, n) => ({
          memoryId: `b${n}`,
          data: { text: `narwhal ${n}`, n },
        }));
        for (const items of [first, second, third]) {
          await expect(batch.storeMemories('c3', items)).resolves.toBe(items.length);
          for (const m of items) await single.storeMemory('c3', m.memoryId, m.data);
          const [got, want] = [
            withoutClock(await batch.loadMemories('c3')),
            withoutClock(await single.loadMemories('c3')),
          ];
          expect(got).toEqual(want);
          // As JSON text too: the key order (and `__proto__` as an own key) must survive.
          expect(JSON.stringify(got)).toBe(JSON.stringify(want));
        }
        const loaded = await batch.loadMemories('c3');
        expect(loaded.map((m) => m.memory_id)).toEqual([
          ...['n1', 'n2', 'n3', 'n4', 'n5', 'n6'],
          ...third.map((m) => m.memoryId),
        ]);
        const found = async (s: StorageInterface) =>
          (await s.search({ text: 'narwhal', limit: 50 }))
            .map((hit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind))
            .sort();
        expect(await found(batch)).toEqual(await found(single));
        expect(await found(batch)).toHaveLength(20);
        expect(loaded[1]).toMatchObject({
          v: 'replaced, keeps the caller date',
          created_at: `${CALLER_YEAR}02-02T00:00:00+00:00`,
        });
        expect(loaded[2]?.created_at).toBe(7);
        expect(await counts(batch)).toEqual(await counts(single));
      });

      it(`appendReasoningChains equals storeReasoningChain in a loop, any value (searchIndex: ${searchIndex})`, async () => {
        // Backends may append a batch in fewer statements (SQLite: one insert).
        const open = async () => (await ctx.newStore()).open({ searchIndex });
        const [batch, single] = [await open(), await open()];
        const chains: JsonObject[] = [
          { b: 1, a: oddValue() },
          { step: 2, stored_at: `${CALLER_YEAR}02-02T00:00:00+00:00` },
          { step: 3, stored_at: 7 },
        ];
        for (const items of [chains, chains.slice(1)]) {
          await expect(batch.appendReasoningChains('a3', items)).resolves.toBe(items.length);
          for (const chain of items) await single.storeReasoningChain('a3', chain);
        }
        const [got, want] = [
          withoutClock(await batch.loadReasoningChains('a3', 10)),
          withoutClock(await single.loadReasoningChains('a3', 10)),
        ];
        expect(got).toEqual(want);
        expect(JSON.stringify(got)).toBe(JSON.stringify(want));
        expect(got.map((c) => c.step ?? c.b)).toEqual([1, 2, 3, 2, 3]);
        expect(await counts(batch)).toEqual(await counts(single));
      });
    }

    it('storeMemories of a new conversation keeps the clock created_at of a memory given twice', async () => {
      const s = ctx.storage();
      await s.storeMemories('c2', [
        { memoryId: 'm', data: { v: 1 } },
        { memoryId: 'm', data: { v: 2 } },
      ]);
      const [memory] = await s.loadMemories('c2');
      expect(memory).toMatchObject({ memory_id: 'm', v: 2 });
      expect(typeof memory?.created_at).toBe('string');
      expect(Number.isNaN(Date.parse(String(memory?.created_at)))).toBe(false);
    });

    it('appendReasoningChains equals storeReasoningChain in a loop, after existing chains', async () => {
      const [batch, single] = await pair();
      const chains: JsonObject[] = [
        { step: 1 },
        { step: 2, stored_at: `${CALLER_YEAR}01-01T00:00:00+00:00` },
        { step: 3, nested: { list: [1, 'two', null] } },
      ];
      for (const s of [batch, single]) await s.storeReasoningChain('a1', { step: 0 });
      await expect(batch.appendReasoningChains('a1', chains)).resolves.toBe(3);
      for (const chain of chains) await single.storeReasoningChain('a1', chain);
      await batch.appendReasoningChains('a2', [{ only: true }]);
      await single.storeReasoningChain('a2', { only: true });
      for (const limit of [undefined, 2]) {
        expect(withoutClock(await batch.loadReasoningChains('a1', limit))).toEqual(
          withoutClock(await single.loadReasoningChains('a1', limit)),
        );
      }
      expect((await batch.loadReasoningChains('a1')).map((c) => c.step)).toEqual([0, 1, 2, 3]);
      expect(await counts(batch)).toEqual(await counts(single));
    });

    it('appendReasoningChains numbers and trims under maxReasoningChainsPerAgent as single appends', async () => {
      const [batch, single] = await Promise.all(
        [0, 1].map(async () => (await ctx.newStore()).open({ maxReasoningChainsPerAgent: 3 })),
      );
      const chains = [1, 2, 3, 4].map((n) => ({ n }));
      for (const s of [batch!, single!]) await s.storeReasoningChain('a1', { n: 0 });
      await expect(batch!.appendReasoningChains('a1', chains)).resolves.toBe(4);
      for (const chain of chains) await single!.storeReasoningChain('a1', chain);
      const kept = await batch!.loadSequencedReasoningChains('a1');
      expect(kept.map((item) => item.chain.n)).toEqual([2, 3, 4]);
      expect(kept.map((item) => item.sequence)).toEqual(
        (await single!.loadSequencedReasoningChains('a1')).map((item) => item.sequence),
      );
      expect(await counts(batch!)).toEqual(await counts(single!));
      await batch!.appendReasoningChains('a1', [{ n: 5 }]);
      const next = await batch!.loadSequencedReasoningChains('a1');
      expect(next.slice(0, 2)).toEqual(kept.slice(1));
      expect(next[2]!.sequence).toBeGreaterThan(kept[2]!.sequence);
    });

    it('batch writes are found by search, replaced memories by their new text only', async () => {
      const s = ctx.storage();
      const found = async (): Promise<string[]> =>
        (await s.search({ text: 'zebra' })).map((hit) => hit.kind).sort();
      await s.storeMemories('c1', [
        { memoryId: 'm1', data: { summary: 'zebra crossing' } },
        { memoryId: 'm2', data: { summary: 'plain road' } },
      ]);
      await s.appendReasoningChains('a1', [{ thought: 'zebra stripes' }, { thought: 'lions' }]);
      expect(await found()).toEqual(['memories', 'reasoning_chains']);
      await s.storeMemories('c1', [
        { memoryId: 'm1', data: { summary: 'horse' } },
        { memoryId: 'm2', data: { summary: 'zebra herd' } },
        { memoryId: 'm3', data: { summary: 'zebra foal' } },
      ]);
      const memoryIds = (await s.search({ text: 'zebra', kinds: ['memories'] })).map((hit) =>
        hit.kind === 'memories' ? hit.memoryId : null,
      );
      expect(memoryIds.sort()).toEqual(['m2', 'm3']);
      expect((await s.search({ text: 'horse' })).length).toBe(1);
    });

    it('storeCacheEntries equals storeCacheEntry in a loop: TTLs, no TTL, a key given twice', async () => {
      const [batch, single] = await pair();
      const entries = [
        { key: 'a', data: { v: 'a' }, ttlSeconds: 60 },
        { key: 'b', data: { v: 'b' } },
        { key: 'a', data: { v: 'a wins' }, ttlSeconds: 3600 },
        { key: 'c', data: { v: 'c' }, ttlSeconds: null },
        { key: 'short', data: { v: 'short' }, ttlSeconds: 30 },
      ];
      for (const s of [batch, single]) await s.storeCacheEntry('b', { v: 'old b' }, 5);
      await expect(batch.storeCacheEntries(entries)).resolves.toBe(5);
      for (const e of entries) await single.storeCacheEntry(e.key, e.data, e.ttlSeconds);
      const keys = ['a', 'b', 'c', 'short', 'missing'];
      for (const key of keys) {
        expect(ttlOf(await batch.loadCacheRecord(key))).toEqual(ttlOf(await single.loadCacheRecord(key)));
      }
      expect(ttlOf(await batch.loadCacheRecord('a'))).toEqual({ data: { v: 'a wins' }, ttl: 3600 });
      expect(await counts(batch)).toEqual(await counts(single));
      await ctx.passTime(61_000, ['short']);
      expect(await batch.loadCacheEntries(keys)).toEqual([
        { v: 'a wins' },
        { v: 'b' },
        { v: 'c' },
        null,
        null,
      ]);
    });

    it('chain and cache batches store any value the single calls store: NUL, lone surrogates, escapes, key order', async () => {
      const [batch, single] = await pair();
      const odd = oddValue();
      const chains: JsonObject[] = [{ b: 1, a: odd }, { plain: 'narwhal' }, { nested: [odd, null] }];
      const entries = [
        { key: 'odd', data: odd, ttlSeconds: 3600 },
        { key: 'plain', data: { v: 'x' } },
      ];
      await batch.appendReasoningChains('a1', chains);
      await batch.storeCacheEntries(entries);
      for (const chain of chains) await single.storeReasoningChain('a1', chain);
      for (const e of entries) await single.storeCacheEntry(e.key, e.data, e.ttlSeconds);
      const loaded = async (s: StorageInterface) => [
        withoutClock(await s.loadReasoningChains('a1')),
        await s.loadCacheEntries(['odd', 'plain']),
      ];
      const [got, want] = [await loaded(batch), await loaded(single)];
      expect(got).toEqual(want);
      // Compared as JSON text too: the key order (and `__proto__` as an own key) must survive.
      expect(JSON.stringify(got)).toBe(JSON.stringify(want));
      expect((got[1] as JsonObject[])[0]).toEqual(odd);
    });

    it('storeCacheEntries keeps every key of a batch whose keys share a reference file name', async () => {
      // On the file backend `a b`, `a:b` and `a_b` all map to `a_b.json` (D3): the batch writes
      // its files at once, and each key must still end up with its own entry.
      const [batch, single] = await pair();
      const keys = ['a b', 'a:b', 'a_b', 'A_B', 'a?b', 'plain'];
      const entries = keys.map((key, i) => ({ key, data: { key, i }, ttlSeconds: 600 }));
      await expect(batch.storeCacheEntries(entries)).resolves.toBe(keys.length);
      for (const e of entries) await single.storeCacheEntry(e.key, e.data, e.ttlSeconds);
      expect(await batch.loadCacheEntries(keys)).toEqual(entries.map((e) => e.data));
      expect(await batch.listCacheKeys()).toEqual(await single.listCacheKeys());
      expect(await counts(batch)).toEqual(await counts(single));
    });

    it('storeCacheRecords equals storeCacheRecord in a loop, expired records included', async () => {
      const [batch, single] = await pair();
      const future = formatEpochMs(Date.now() + 86_400_000);
      const records = [
        { key: 'kept', data: { v: 1 }, storedAt: `${CALLER_YEAR}01-01T00:00:00+00:00`, expiresAt: future },
        { key: 'never', data: { v: 2 }, storedAt: '2020-01-01T00:00:00Z', expiresAt: null },
        {
          key: 'gone',
          data: { v: 3 },
          storedAt: '2020-01-01T00:00:00+00:00',
          expiresAt: '2020-01-02T00:00:00+00:00',
        },
        { key: 'kept', data: { v: 4 }, storedAt: '2021-01-01T00:00:00+00:00', expiresAt: future },
      ];
      await expect(batch.storeCacheRecords(records)).resolves.toBe(4);
      for (const { key, ...record } of records) await single.storeCacheRecord(key, record);
      const keys = ['kept', 'never', 'gone', 'missing'];
      expect(await batch.loadCacheRecords(keys)).toEqual(await single.loadCacheRecords(keys));
      // Timestamps are written in the reference's format (`canonicalTimestamp`).
      expect(await batch.loadCacheRecords(keys)).toEqual([
        { data: { v: 4 }, storedAt: '2021-01-01T00:00:00.000000+00:00', expiresAt: future },
        { data: { v: 2 }, storedAt: '2020-01-01T00:00:00.000000+00:00', expiresAt: null },
        null,
        null,
      ]);
      expect(await counts(batch)).toEqual(await counts(single));
    });

    it('loadCacheEntries is aligned with its keys, repeats included, and [] for no keys', async () => {
      const s = ctx.storage();
      await s.storeCacheEntry('x', { v: 'x' });
      await s.storeCacheEntry('y', { v: 'y' }, 60);
      const loaded = await s.loadCacheEntries(['y', 'nope', 'x', 'y']);
      expect(loaded).toEqual([{ v: 'y' }, null, { v: 'x' }, { v: 'y' }]);
      // A repeated key gets an object of its own at each position, as two single loads give:
      // a caller that edits one result does not change the other.
      expect(loaded[0]).not.toBe(loaded[3]);
      const records = await s.loadCacheRecords(['y', 'y']);
      expect(records[0]).toEqual(records[1]);
      expect(records[0]).not.toBe(records[1]);
      expect(records[0]?.data).not.toBe(records[1]?.data);
      expect(await s.loadCacheEntries([])).toEqual([]);
    });

    it('a full batch of every kind is written and read back in order', async () => {
      const s = ctx.storage();
      const n = 1000;
      const ids = Array.from({ length: n }, (_, i) => `item-${String(i).padStart(4, '0')}`);
      await s.storeMemories(
        'big',
        ids.map((memoryId, i) => ({ memoryId, data: { i } })),
      );
      await s.appendReasoningChains(
        'big',
        ids.map((id, i) => ({ id, i })),
      );
      await s.storeCacheEntries(ids.map((key, i) => ({ key, data: { i }, ttlSeconds: 600 })));
      expect((await s.loadMemories('big')).map((m) => m.memory_id)).toEqual(ids);
      expect((await s.loadReasoningChains('big')).map((c) => c.id)).toEqual(ids);
      expect(await s.loadCacheEntries(ids)).toEqual(ids.map((_, i) => ({ i })));
      const stats = await s.getStorageStats();
      expect([stats.memory_count, stats.reasoning_chain_count, stats.cache_entry_count]).toEqual([n, n, n]);
    });

    it('an empty batch is a no-op that returns 0', async () => {
      const s = ctx.storage();
      await expect(s.storeMemories('c1', [])).resolves.toBe(0);
      await expect(s.appendReasoningChains('a1', [])).resolves.toBe(0);
      await expect(s.storeCacheEntries([])).resolves.toBe(0);
      await expect(s.storeCacheRecords([])).resolves.toBe(0);
      expect(await counts(s)).toEqual({
        memories: 0,
        chains: 0,
        agents: 0,
        cache: 0,
        ids: [],
        agentIds: [],
        cacheKeys: [],
      });
    });

    batchValidationTests(ctx);
    cacheDeleteBatchTests(ctx);
    memoryDeleteBatchTests(ctx);
  });
}
