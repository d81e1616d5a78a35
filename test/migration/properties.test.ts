/**
 * Migrations of random stores (fast-check, seeded): tricky ids and keys, values with lone
 * surrogates, NUL and odd keys, memories in insertion order, chains, cache entries with and
 * without a TTL, system state. Each run fills a fresh source, migrates it into a fresh target
 * of another backend (verification on) and compares everything both return. A ring over four
 * backends makes each one a source and a target once.
 */
import fc from 'fast-check';
import { assertAsync } from '../support/assert-async.js';
import type { JsonValue, StorageInterface } from '../../src/core/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import type { BackendHarness } from '../conformance/harness.js';
import { fileHarness } from '../conformance/harness-file.js';
import { postgresHarness } from '../conformance/harness-postgres.js';
import { redisHarness } from '../conformance/harness-redis.js';
import { sqliteMemoryHarness } from '../conformance/harness-sqlite.js';
import { jsonObject, validId, validKey } from '../conformance/suites/property-arbitraries.js';
import { describeWithService } from '../services.js';
import { pairService, withStorePair } from './pairs.js';
import { snapshot } from './support.js';

/** Few runs (each opens two fresh stores), capped in time so a slow machine ends early instead of timing out. */
const RUN = { seed: 20261202, numRuns: 8, interruptAfterTimeLimit: 20_000 } as const;

const conversation = fc.record({
  id: validId,
  conversation: fc.option(jsonObject, { nil: undefined }),
  rawMessages: fc.option(fc.array(fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }), { maxLength: 3 }), {
    nil: undefined,
  }),
  memories: fc.uniqueArray(fc.record({ memoryId: validId, data: jsonObject }), {
    maxLength: 3,
    selector: (memory) => memory.memoryId,
  }),
  chunkInfo: fc.option(jsonObject, { nil: undefined }),
});

/** A random store's contents: every kind, ids and keys unique per kind. */
const storeContents = fc.record({
  conversations: fc.uniqueArray(conversation, { minLength: 1, maxLength: 4, selector: (c) => c.id }),
  chains: fc.uniqueArray(fc.tuple(validId, fc.array(jsonObject, { minLength: 1, maxLength: 3 })), {
    maxLength: 2,
    selector: ([agent]) => agent,
  }),
  cache: fc.uniqueArray(fc.tuple(validKey, jsonObject, fc.constantFrom<number | null>(null, 3600)), {
    maxLength: 3,
    selector: ([key]) => key,
  }),
  state: fc.uniqueArray(fc.tuple(validKey, jsonObject), { maxLength: 2, selector: ([key]) => key }),
});

type StoreContents = typeof storeContents extends fc.Arbitrary<infer T> ? T : never;

/** Writes `contents` through the single calls. */
async function fill(s: StorageInterface, contents: StoreContents): Promise<number> {
  let memories = 0;
  for (const c of contents.conversations) {
    if (c.conversation !== undefined) await s.storeConversation(c.id, c.conversation);
    if (c.rawMessages !== undefined) await s.storeRawMessages(c.id, c.rawMessages as JsonValue[]);
    for (const m of c.memories) await s.storeMemory(c.id, m.memoryId, m.data);
    memories += c.memories.length;
    if (c.chunkInfo !== undefined) await s.storeChunkInfo(c.id, c.chunkInfo);
  }
  for (const [agent, chains] of contents.chains) await s.appendReasoningChains(agent, chains);
  for (const [key, data, ttl] of contents.cache) await s.storeCacheEntry(key, data, ttl);
  for (const [key, value] of contents.state) await s.storeSystemState(key, value);
  return memories;
}

const ring: BackendHarness[] = [fileHarness, sqliteMemoryHarness, redisHarness, postgresHarness];

for (const [i, from] of ring.entries()) {
  const to = ring[(i + 1) % ring.length] as BackendHarness;
  describeWithService(pairService(from, to))(`migrate random stores ${from.name} -> ${to.name}`, () => {
    it('copies every record exactly and verifies the copy', async () => {
      await assertAsync(
        [storeContents],
        async (contents) => {
          await withStorePair(from, to, async (source, target) => {
            const memories = await fill(source, contents);
            const summary = await migrateStorage(source, target);
            expect(summary.verification?.differences).toEqual([]);
            expect(summary.ok).toBe(true);
            expect(summary.counts.memories.copied).toBe(memories);
            expect(await snapshot(target)).toEqual(await snapshot(source));
          });
        },
        RUN,
      );
    }, 60_000);
  });
}
