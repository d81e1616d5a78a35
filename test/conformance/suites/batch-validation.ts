/**
 * Conformance: a batch with one bad item is refused with the single call's typed error, naming
 * the item, before any I/O: nothing of the batch is written.
 */
import {
  InvalidIdError,
  MAX_BATCH_ITEMS,
  SerializationError,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

type ErrorClass = new (...args: never[]) => Error;

/** A batch call with a bad item at index 2, and the error class the single call throws for it. */
const BAD_BATCHES: ReadonlyArray<[string, ErrorClass, RegExp, (s: StorageInterface) => Promise<unknown>]> = [
  [
    'a bad memory id',
    InvalidIdError,
    /storeMemories\(\) item 2: Invalid memoryId "a\/b"/,
    (s) =>
      s.storeMemories('c1', [
        { memoryId: 'm1', data: { v: 1 } },
        { memoryId: 'm2', data: { v: 2 } },
        { memoryId: 'a/b', data: { v: 3 } },
      ]),
  ],
  [
    'memory data that is not JSON',
    SerializationError,
    /storeMemories\(\) item 2: .*memory "m3"/,
    (s) =>
      s.storeMemories('c1', [
        { memoryId: 'm1', data: { v: 1 } },
        { memoryId: 'm2', data: { v: 2 } },
        { memoryId: 'm3', data: { v: 10n } as never },
      ]),
  ],
  [
    'a memory item with an unknown field',
    ValidationError,
    /storeMemories\(\) item 2: Invalid item: memory "m3": unknown field "summary" \(known: memoryId, data\)/,
    (s) =>
      s.storeMemories('c1', [
        { memoryId: 'm1', data: { v: 1 } },
        { memoryId: 'm2', data: { v: 2 } },
        // Until 2026-12-04 an unknown field was dropped without a word.
        { memoryId: 'm3', data: { v: 3 }, summary: 'lost' } as never,
      ]),
  ],
  [
    'a conversation item with a misspelt part',
    ValidationError,
    /storeConversationBatch\(\) item 2: Invalid item: conversation "c3": unknown field "chunk_info"/,
    (s) =>
      s.storeConversationBatch([
        { conversationId: 'c1', conversation: { v: 1 } },
        { conversationId: 'c2', rawMessages: [{ v: 2 }] },
        // `chunk_info` for `chunkInfo`: the chunk info was left out and the rest stored.
        { conversationId: 'c3', conversation: { v: 3 }, chunk_info: { chunks: 1 } } as never,
      ]),
  ],
  [
    "a conversation item's memory with an unknown field",
    ValidationError,
    /storeConversationBatch\(\) item 2: Invalid item: memory "m1" of "c3": unknown field "memory_id"/,
    (s) =>
      s.storeConversationBatch([
        { conversationId: 'c1', conversation: { v: 1 } },
        { conversationId: 'c2', memories: [{ memoryId: 'm1', data: { v: 2 } }] },
        { conversationId: 'c3', memories: [{ memoryId: 'm1', data: { v: 3 }, memory_id: 'm1' } as never] },
      ]),
  ],
  [
    'a chain that is not an object',
    ValidationError,
    /appendReasoningChains\(\) item 2/,
    (s) => s.appendReasoningChains('a1', [{ v: 1 }, { v: 2 }, ['not', 'an', 'object'] as never]),
  ],
  [
    'a bad TTL',
    ValidationError,
    /storeCacheEntries\(\) item 2: Invalid ttlSeconds/,
    (s) =>
      s.storeCacheEntries([
        { key: 'k1', data: { v: 1 } },
        { key: 'k2', data: { v: 2 }, ttlSeconds: 10 },
        { key: 'k3', data: { v: 3 }, ttlSeconds: 0 },
      ]),
  ],
  [
    'an empty cache key',
    InvalidIdError,
    /storeCacheEntries\(\) item 2: Invalid cacheKey ""/,
    (s) =>
      s.storeCacheEntries([
        { key: 'k1', data: { v: 1 } },
        { key: 'k2', data: { v: 2 } },
        { key: '', data: { v: 3 } },
      ]),
  ],
  [
    'a cache record expiring before it was stored',
    ValidationError,
    /storeCacheRecords\(\) item 2: Invalid expiresAt: cache entry "k3"/,
    (s) =>
      s.storeCacheRecords([
        { key: 'k1', data: { v: 1 }, storedAt: '2020-01-01T00:00:00Z', expiresAt: null },
        { key: 'k2', data: { v: 2 }, storedAt: '2020-01-01T00:00:00Z', expiresAt: null },
        { key: 'k3', data: { v: 3 }, storedAt: '2020-01-02T00:00:00Z', expiresAt: '2020-01-01T00:00:00Z' },
      ]),
  ],
  [
    'an item that is not an object',
    ValidationError,
    /storeCacheRecords\(\) item 2: Invalid item/,
    (s) =>
      s.storeCacheRecords([
        { key: 'k1', data: { v: 1 }, storedAt: '2020-01-01T00:00:00Z', expiresAt: null },
        { key: 'k2', data: { v: 2 }, storedAt: '2020-01-01T00:00:00Z', expiresAt: null },
        null as never,
      ]),
  ],
  [
    'one item more than the limit',
    ValidationError,
    new RegExp(`at most ${MAX_BATCH_ITEMS} items`),
    (s) =>
      s.storeCacheEntries(
        Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({ key: `k${i}`, data: { i } })),
      ),
  ],
  [
    'a batch that is not an array',
    ValidationError,
    /takes an array/,
    (s) => s.storeMemories('c1', {} as never),
  ],
  [
    'a bad key to load',
    InvalidIdError,
    /loadCacheEntries\(\) item 1: Invalid cacheKey/,
    (s) => s.loadCacheEntries(['k1', 'nul\u0000']),
  ],
];

/** Registers the batch validation tests. */
export function batchValidationTests(ctx: SuiteContext): void {
  it.each(BAD_BATCHES.map(([name, errorClass, message, call]) => ({ name, errorClass, message, call })))(
    'a batch with $name is refused, naming the item, and writes nothing',
    async ({ errorClass, message, call }) => {
      const s = ctx.storage();
      const error = await call(s).then(
        () => new Error('the batch resolved'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(message);
      const stats = await s.getStorageStats();
      expect([stats.memory_count, stats.reasoning_chain_count, stats.cache_entry_count]).toEqual([0, 0, 0]);
      expect(await s.listAllConversationIds()).toEqual([]);
    },
  );
}
