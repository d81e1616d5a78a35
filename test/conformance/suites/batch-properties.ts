/**
 * Conformance: batches against the same single calls on random sequences (fast-check, seeded).
 * Each run sends one sequence of steps to two stores: one writes a batch step with one batch
 * call, the other with the single calls in a loop (steps marked `single` go through single
 * calls on both, so batches also meet records written one at a time). Both must end equal, and
 * equal to a model of the sequence: the order, the last value per id or key, the chains a trim
 * keeps, and what a search finds after upserts and trims.
 */
import fc from 'fast-check';
import { assertAsync } from '../../support/assert-async.js';
import {
  type ConversationBatchItem,
  type JsonObject,
  type JsonValue,
  type SearchHit,
  type StorageInterface,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { contents, storeSingly } from './conversation-batches.js';
import { RUN } from './property-arbitraries.js';
import { CALLER_YEAR, ttlOf, withoutClock } from './value-helpers.js';

/** Words the records' texts are made of; each is searched for after a run. */
const WORDS = ['otter', 'heron', 'lynx', 'vole'] as const;
/** Chains an agent keeps in the chain property (its stores are opened with this limit). */
const CHAIN_LIMIT = 4;

/** A step of a sequence: written as one batch (by the batch store) or as single calls (by both). */
interface Step<T> {
  single: boolean;
  items: T[];
}

/** Sequences of one to four steps, each with a batch's items drawn by `items`. */
const stepsOf = <T>(items: fc.Arbitrary<T[]>): fc.Arbitrary<Array<Step<T>>> =>
  fc.array(fc.record({ single: fc.boolean(), items }), { minLength: 1, maxLength: 4 });

/** Sequences whose batches hold one to six items drawn by `item`. */
const steps = <T>(item: fc.Arbitrary<T>): fc.Arbitrary<Array<Step<T>>> =>
  stepsOf(fc.array(item, { minLength: 1, maxLength: 6 }));

const text = fc.tuple(fc.constantFrom(...WORDS), fc.nat(99)).map(([word, n]) => `${word} ${n}`);

/** A caller's `created_at` / `stored_at` choice: none (the clock's), a date, or not a string. */
const callerTime = fc.constantFrom<JsonValue | undefined>(
  undefined,
  undefined,
  `${CALLER_YEAR}01-01T00:00:00+00:00`,
  `${CALLER_YEAR}06-15T12:30:00+00:00`,
  7,
);

const memoryItem = fc
  .record({ memoryId: fc.constantFrom('a', 'b', 'c', 'd', 'e'), summary: text, createdAt: callerTime })
  .map(({ memoryId, summary, createdAt }) => {
    const data: JsonObject = createdAt === undefined ? { summary } : { summary, created_at: createdAt };
    return { memoryId, data };
  });

/** A step of the memory property: a write of memories, or (about one in three) a delete of ids, absent `f` among them. */
type MemoryStep = Step<{ memoryId: string; data: JsonObject }> | { single: boolean; deletes: string[] };
const memorySteps: fc.Arbitrary<MemoryStep[]> = fc.array(
  fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        single: fc.boolean(),
        items: fc.array(memoryItem, { minLength: 1, maxLength: 6 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        single: fc.boolean(),
        deletes: fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { minLength: 1, maxLength: 4 }),
      }),
    },
  ),
  { minLength: 1, maxLength: 5 },
);

const chainItem = fc
  .record({ thought: text, storedAt: callerTime.filter((t) => typeof t !== 'number') })
  .map(({ thought, storedAt }): JsonObject =>
    storedAt === undefined ? { thought } : { thought, stored_at: storedAt },
  );

/** A whole-conversation batch: up to three distinct ids, each with some of its four parts. */
const conversationItems = fc.uniqueArray(
  fc
    .record({
      conversationId: fc.constantFrom('x', 'y', 'z'),
      conversation: fc.option(text, { nil: undefined }),
      rawMessages: fc.option(fc.array(text, { maxLength: 3 }), { nil: undefined }),
      memories: fc.option(fc.array(memoryItem, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      chunkInfo: fc.option(fc.nat(9), { nil: undefined }),
    })
    .map(({ conversationId, conversation, rawMessages, memories, chunkInfo }) => {
      const item: ConversationBatchItem = { conversationId };
      if (conversation !== undefined) item.conversation = { title: conversation };
      if (rawMessages !== undefined) item.rawMessages = rawMessages.map((content) => ({ content }));
      if (memories !== undefined) item.memories = memories;
      if (chunkInfo !== undefined) item.chunkInfo = { chunks: [chunkInfo] };
      return item;
    })
    .filter((item) => Object.keys(item).length > 1),
  { minLength: 1, maxLength: 3, selector: (item) => item.conversationId },
);

const cacheItem = fc.record({
  key: fc.constantFrom('k1', 'k2', 'k3', 'k4'),
  data: text.map((v): JsonObject => ({ v })),
  ttlSeconds: fc.constantFrom<number | null | undefined>(undefined, null, 30, 3600),
});

/**
 * Writes one step's `items` to both stores: on `batch` as one batch call (or, for a `single`
 * step, as single calls), on `single` always as single calls, in order.
 */
async function writeStep<T>(
  stores: [batch: StorageInterface, single: StorageInterface],
  isSingle: boolean,
  items: T[],
  batchCall: (s: StorageInterface, items: T[]) => Promise<number>,
  singleCall: (s: StorageInterface, item: T) => Promise<unknown>,
): Promise<void> {
  const [batch, single] = stores;
  if (isSingle) {
    for (const item of items) await singleCall(batch, item);
  } else {
    await expect(batchCall(batch, items)).resolves.toBe(items.length);
  }
  for (const item of items) await singleCall(single, item);
}

/** Per word, what a search for it finds (mapped by `id`, sorted). */
async function hitsPerWord(
  s: StorageInterface,
  query: { kinds: ['memories'] | ['reasoning_chains']; conversationId?: string; agentId?: string },
  id: (hit: SearchHit) => string,
): Promise<string[][]> {
  const found: string[][] = [];
  for (const word of WORDS) {
    found.push((await s.search({ ...query, text: word, limit: 50 })).map(id).sort());
  }
  return found;
}

/** Per word, the model's records whose text holds it (by `id`, sorted). */
const expectedPerWord = <T>(records: T[], textOf: (r: T) => string, id: (r: T) => string): string[][] =>
  WORDS.map((word) =>
    records
      .filter((r) => textOf(r).split(' ')[0] === word)
      .map(id)
      .sort(),
  );

/** Registers the random-sequence batch tests. */
export function batchPropertyTests(ctx: SuiteContext): void {
  describe('batches on random sequences (fast-check)', () => {
    it('storeMemories and deleteMemories equal their single calls in a loop: order, upserts, deletes, created_at, search', async () => {
      const batch = ctx.storage();
      const single = await (await ctx.newStore()).open();
      let run = 0;
      await assertAsync(
        [memorySteps],
        async (sequence) => {
          const id = `mem-run-${(run += 1)}`;
          const model = new Map<string, string>();
          for (const step of sequence) {
            if ('deletes' in step) {
              await writeStep(
                [batch, single],
                step.single,
                step.deletes,
                (s, ids) => s.deleteMemories(id, ids),
                (s, memoryId) => s.deleteMemory(id, memoryId),
              );
              // A deleted id stored again comes back at the end, as a Map's key set anew.
              for (const memoryId of step.deletes) model.delete(memoryId);
              continue;
            }
            await writeStep(
              [batch, single],
              step.single,
              step.items,
              (s, items) => s.storeMemories(id, items),
              (s, m) => s.storeMemory(id, m.memoryId, m.data),
            );
            for (const m of step.items) model.set(m.memoryId, String(m.data.summary));
          }
          const loaded = withoutClock(await batch.loadMemories(id));
          expect(loaded).toEqual(withoutClock(await single.loadMemories(id)));
          expect(loaded.map((m) => [m.memory_id, m.summary])).toEqual([...model]);
          const memoryId = (hit: SearchHit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind);
          const query = { kinds: ['memories'] as ['memories'], conversationId: id };
          const found = await hitsPerWord(batch, query, memoryId);
          expect(found).toEqual(await hitsPerWord(single, query, memoryId));
          expect(found).toEqual(
            expectedPerWord(
              [...model],
              ([, summary]) => summary,
              ([memoryId]) => memoryId,
            ),
          );
        },
        RUN,
      );
      const count = async (s: StorageInterface) => (await s.getStorageStats()).memory_count;
      expect(await count(batch)).toBe(await count(single));
    });

    it('appendReasoningChains equals storeReasoningChain in a loop: sequences, trims, search', async () => {
      const open = async () => (await ctx.newStore()).open({ maxReasoningChainsPerAgent: CHAIN_LIMIT });
      const [batch, single] = [await open(), await open()];
      let run = 0;
      await assertAsync(
        [steps(chainItem)],
        async (sequence) => {
          const agent = `agent-run-${(run += 1)}`;
          const model: JsonObject[] = [];
          for (const step of sequence) {
            await writeStep(
              [batch, single],
              step.single,
              step.items,
              (s, chains) => s.appendReasoningChains(agent, chains),
              (s, chain) => s.storeReasoningChain(agent, chain),
            );
            model.push(...step.items);
          }
          const kept = await batch.loadSequencedReasoningChains(agent);
          const theirs = await single.loadSequencedReasoningChains(agent);
          expect(kept.map((c) => c.sequence)).toEqual(theirs.map((c) => c.sequence));
          const chains = withoutClock(kept.map((c) => c.chain));
          expect(chains).toEqual(withoutClock(theirs.map((c) => c.chain)));
          const expected = model.slice(-CHAIN_LIMIT);
          expect(chains.map((c) => c.thought)).toEqual(expected.map((c) => c.thought));
          const chainSequence = (hit: SearchHit) =>
            hit.kind === 'reasoning_chains' ? String(hit.sequence) : hit.kind;
          const query = { kinds: ['reasoning_chains'] as ['reasoning_chains'], agentId: agent };
          const found = await hitsPerWord(batch, query, chainSequence);
          expect(found).toEqual(await hitsPerWord(single, query, chainSequence));
          const keptModel = kept.map((c) => ({
            thought: String(c.chain.thought),
            sequence: String(c.sequence),
          }));
          expect(found).toEqual(
            expectedPerWord(
              keptModel,
              (c) => c.thought,
              (c) => c.sequence,
            ),
          );
        },
        RUN,
      );
      const count = async (s: StorageInterface) => (await s.getStorageStats()).reasoning_chain_count;
      expect(await count(batch)).toBe(await count(single));
    });

    it('storeConversationBatch equals the single calls in a loop: parts, upserts, search', async () => {
      const batch = ctx.storage();
      const single = await (await ctx.newStore()).open();
      let run = 0;
      await assertAsync(
        [stepsOf(conversationItems)],
        async (sequence) => {
          const prefix = `conv-run-${(run += 1)}-`;
          const model = new Map<string, { parts: ConversationBatchItem; memories: Map<string, string> }>();
          for (const step of sequence) {
            const items = step.items.map((item) => ({
              ...item,
              conversationId: prefix + item.conversationId,
            }));
            await writeStep(
              [batch, single],
              step.single,
              items,
              (s, batchItems) => s.storeConversationBatch(batchItems),
              storeSingly,
            );
            for (const item of items) {
              const held = model.get(item.conversationId) ?? { parts: item, memories: new Map() };
              held.parts = { ...held.parts, ...item };
              for (const m of item.memories ?? []) held.memories.set(m.memoryId, String(m.data.summary));
              model.set(item.conversationId, held);
            }
          }
          const ids = [...model.keys()];
          expect(await contents(batch, ids, prefix)).toEqual(await contents(single, ids, prefix));
          for (const [id, { parts, memories }] of model) {
            const [conversation, raw, loaded, chunk] = await Promise.all([
              batch.loadConversation(id),
              batch.loadRawMessages(id),
              batch.loadMemories(id),
              batch.loadChunkInfo(id),
            ]);
            expect([conversation, raw, chunk]).toEqual([
              parts.conversation ?? null,
              parts.rawMessages ?? [],
              parts.chunkInfo ?? null,
            ]);
            expect(loaded.map((m) => [m.memory_id, m.summary])).toEqual([...memories]);
            // Which record each hit is (scores, snippets and clock times aside).
            const hit = ({ record: _record, score: _score, snippet: _snippet, ...ref }: SearchHit) =>
              JSON.stringify(ref);
            const expected = expectedPerWord(
              [...memories],
              ([, summary]) => summary,
              ([memoryId]) => memoryId,
            );
            for (const [w, word] of WORDS.entries()) {
              const query = { text: word, conversationId: id, limit: 50 };
              const hits = await batch.search(query);
              expect(hits.map(hit).sort()).toEqual((await single.search(query)).map(hit).sort());
              const memoryIds = hits.flatMap((h) => (h.kind === 'memories' ? [h.memoryId] : []));
              expect(memoryIds.sort()).toEqual(expected[w]);
            }
          }
        },
        RUN,
      );
      expect(await contents(batch, [])).toEqual(await contents(single, []));
    });

    it('storeCacheEntries and deleteCacheEntries equal their single calls in a loop: last write wins, TTLs, listings', async () => {
      const batch = ctx.storage();
      const single = await (await ctx.newStore()).open();
      let run = 0;
      // A step of deletes (`remove`) deletes its items' keys, repeats and absent keys included.
      const item = fc.array(cacheItem, { minLength: 1, maxLength: 6 });
      const cacheSteps = fc.array(fc.record({ single: fc.boolean(), remove: fc.boolean(), items: item }), {
        minLength: 1,
        maxLength: 4,
      });
      await assertAsync(
        [cacheSteps],
        async (sequence) => {
          const prefix = `run-${(run += 1)}-`;
          const model = new Map<string, JsonObject>();
          for (const step of sequence) {
            const items = step.items.map((e) => ({ ...e, key: prefix + e.key }));
            if (step.remove) {
              const keys = items.map((e) => e.key);
              await writeStep(
                [batch, single],
                step.single,
                keys,
                (s, all) => s.deleteCacheEntries(all),
                (s, key) => s.deleteCacheEntry(key),
              );
              for (const key of keys) model.delete(key);
              continue;
            }
            await writeStep(
              [batch, single],
              step.single,
              items,
              (s, entries) => s.storeCacheEntries(entries),
              (s, e) => s.storeCacheEntry(e.key, e.data, e.ttlSeconds),
            );
            for (const e of items) model.set(e.key, e.data);
          }
          const keys = ['k1', 'k2', 'k3', 'k4'].map((key) => prefix + key);
          expect((await batch.loadCacheRecords(keys)).map(ttlOf)).toEqual(
            (await single.loadCacheRecords(keys)).map(ttlOf),
          );
          expect(await batch.loadCacheEntries(keys)).toEqual(keys.map((key) => model.get(key) ?? null));
        },
        RUN,
      );
      expect(await batch.listCacheKeys()).toEqual(await single.listCacheKeys());
      const count = async (s: StorageInterface) => (await s.getStorageStats()).cache_entry_count;
      expect(await count(batch)).toBe(await count(single));
    });
  });
}
