/**
 * Conformance: batches against the same single calls on random sequences (fast-check, seeded).
 * Each run sends one sequence of steps to two stores: one writes a batch step with one batch
 * call, the other with the single calls in a loop (steps marked `single` go through single
 * calls on both, so batches also meet records written one at a time). Both must end equal, and
 * equal to a model of the sequence: the order, the last value per id or key, the chains a trim
 * keeps, and what a search finds after upserts and trims.
 */
import fc from 'fast-check';
import {
  type CacheRecord,
  type JsonObject,
  type JsonValue,
  type SearchHit,
  type StorageInterface,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { RUN } from './property-arbitraries.js';

/** Caller-chosen timestamps start with this; the clock's never do. */
const CALLER_YEAR = '2001-';
/** Words the records' texts are made of; each is searched for after a run. */
const WORDS = ['otter', 'heron', 'lynx', 'vole'] as const;
/** Chains an agent keeps in the chain property (its stores are opened with this limit). */
const CHAIN_LIMIT = 4;

/** A step of a sequence: written as one batch (by the batch store) or as single calls (by both). */
interface Step<T> {
  single: boolean;
  items: T[];
}

const steps = <T>(item: fc.Arbitrary<T>): fc.Arbitrary<Array<Step<T>>> =>
  fc.array(fc.record({ single: fc.boolean(), items: fc.array(item, { minLength: 1, maxLength: 6 }) }), {
    minLength: 1,
    maxLength: 4,
  });

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

const chainItem = fc
  .record({ thought: text, storedAt: callerTime.filter((t) => typeof t !== 'number') })
  .map(({ thought, storedAt }): JsonObject =>
    storedAt === undefined ? { thought } : { thought, stored_at: storedAt },
  );

const cacheItem = fc.record({
  key: fc.constantFrom('k1', 'k2', 'k3', 'k4'),
  data: text.map((v): JsonObject => ({ v })),
  ttlSeconds: fc.constantFrom<number | null | undefined>(undefined, null, 30, 3600),
});

/** Replaces timestamps the clock set (`created_at`, `stored_at`) with a placeholder. */
function withoutClock(records: JsonObject[]): JsonObject[] {
  return records.map((record) => {
    const out = { ...record };
    for (const field of ['created_at', 'stored_at']) {
      const value = out[field];
      if (typeof value === 'string' && !value.startsWith(CALLER_YEAR)) out[field] = '<clock>';
    }
    return out;
  });
}

/** A cache record as the TTL it was given (seconds, rounded) and its data. */
const ttlOf = (record: CacheRecord | null): unknown =>
  record === null
    ? null
    : {
        data: record.data,
        ttl:
          record.expiresAt === null
            ? null
            : Math.round((Date.parse(record.expiresAt) - Date.parse(record.storedAt)) / 1000),
      };

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
    it('storeMemories equals storeMemory in a loop: order, upserts, created_at, search', async () => {
      const batch = ctx.storage();
      const single = await (await ctx.newStore()).open();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(steps(memoryItem), async (sequence) => {
          const id = `mem-run-${(run += 1)}`;
          const model = new Map<string, string>();
          for (const step of sequence) {
            if (step.single) {
              for (const m of step.items) await batch.storeMemory(id, m.memoryId, m.data);
            } else {
              await expect(batch.storeMemories(id, step.items)).resolves.toBe(step.items.length);
            }
            for (const m of step.items) await single.storeMemory(id, m.memoryId, m.data);
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
        }),
        RUN,
      );
      const count = async (s: StorageInterface) => (await s.getStorageStats()).memory_count;
      expect(await count(batch)).toBe(await count(single));
    });

    it('appendReasoningChains equals storeReasoningChain in a loop: sequences, trims, search', async () => {
      const open = async () => (await ctx.newStore()).open({ maxReasoningChainsPerAgent: CHAIN_LIMIT });
      const [batch, single] = [await open(), await open()];
      let run = 0;
      await fc.assert(
        fc.asyncProperty(steps(chainItem), async (sequence) => {
          const agent = `agent-run-${(run += 1)}`;
          const model: JsonObject[] = [];
          for (const step of sequence) {
            if (step.single) {
              for (const chain of step.items) await batch.storeReasoningChain(agent, chain);
            } else {
              await expect(batch.appendReasoningChains(agent, step.items)).resolves.toBe(step.items.length);
            }
            for (const chain of step.items) await single.storeReasoningChain(agent, chain);
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
        }),
        RUN,
      );
      const count = async (s: StorageInterface) => (await s.getStorageStats()).reasoning_chain_count;
      expect(await count(batch)).toBe(await count(single));
    });

    it('storeCacheEntries equals storeCacheEntry in a loop: last write wins, TTLs, listings', async () => {
      const batch = ctx.storage();
      const single = await (await ctx.newStore()).open();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(steps(cacheItem), async (sequence) => {
          const prefix = `run-${(run += 1)}-`;
          const model = new Map<string, JsonObject>();
          for (const step of sequence) {
            const items = step.items.map((e) => ({ ...e, key: prefix + e.key }));
            if (step.single) {
              for (const e of items) await batch.storeCacheEntry(e.key, e.data, e.ttlSeconds);
            } else {
              await expect(batch.storeCacheEntries(items)).resolves.toBe(items.length);
            }
            for (const e of items) await single.storeCacheEntry(e.key, e.data, e.ttlSeconds);
            for (const e of items) model.set(e.key, e.data);
          }
          const keys = ['k1', 'k2', 'k3', 'k4'].map((key) => prefix + key);
          expect((await batch.loadCacheRecords(keys)).map(ttlOf)).toEqual(
            (await single.loadCacheRecords(keys)).map(ttlOf),
          );
          expect(await batch.loadCacheEntries(keys)).toEqual(keys.map((key) => model.get(key) ?? null));
        }),
        RUN,
      );
      expect(await batch.listCacheKeys()).toEqual(await single.listCacheKeys());
      const count = async (s: StorageInterface) => (await s.getStorageStats()).cache_entry_count;
      expect(await count(batch)).toBe(await count(single));
    });
  });
}
