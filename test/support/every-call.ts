/**
 * One pass through every public call of a store, for tests of what a backend's credentials
 * allow (a PostgreSQL role with DML rights only, a Redis ACL user limited to its prefix): each
 * call must work. The store must be opened with `maxReasoningChainsPerAgent: 3`.
 */
import type { StorageInterface } from '../../src/core/index.js';

/**
 * Writes and reads every record kind (conversations `c1` and `c2`), searches, reindexes, purges
 * the one expired cache entry and checks health; runs `between` (the caller's checks of stats
 * and listings, with `c1` and `c2` stored), then deletes one record of each kind and `c1`.
 */
export async function exerciseEveryCall(
  app: StorageInterface,
  between: () => Promise<void> = async () => undefined,
): Promise<void> {
  expect(await app.storeConversation('c1', { title: 'hello world' })).toBe(true);
  expect(await app.storeRawMessages('c1', [{ role: 'user', content: 'hi there' }])).toBe(true);
  expect(await app.storeRawMessages('c1', [{ role: 'user', content: 'hi again' }])).toBe(true);
  expect(await app.storeMemory('c1', 'm1', { content: 'a searchable fact' })).toBe(true);
  expect(await app.storeMemories('c1', [{ memoryId: 'm2', data: { content: 'another fact' } }])).toBe(1);
  for (let i = 0; i < 5; i += 1) await app.storeReasoningChain('agent', { step: `think ${i}` });
  expect(await app.appendReasoningChains('agent', [{ step: 'more' }, { step: 'most' }])).toBe(2);
  expect(await app.loadReasoningChains('agent')).toHaveLength(3);
  expect(await app.trimReasoningChains('agent', 1)).toBe(2);
  expect(await app.storeChunkInfo('c1', { chunks: 2 })).toBe(true);
  expect(await app.storeCacheEntry('k1', { v: 1 }, 3600)).toBe(true);
  expect(await app.storeCacheEntry('gone', { v: 2 }, 0.001)).toBe(true);
  expect(await app.storeCacheEntries([{ key: 'k2', data: { v: 3 } }])).toBe(1);
  expect(await app.storeSystemState('mode', { on: true })).toBe(true);
  expect(
    await app.storeConversationBatch([
      { conversationId: 'c2', conversation: { t: 2 }, rawMessages: [{ role: 'user', content: 'x' }] },
    ]),
  ).toBe(1);
  expect(await app.loadConversationBatch(['c1', 'c2'])).toHaveLength(2);
  expect(await app.loadMemories('c1')).toHaveLength(2);
  expect(await app.loadCacheEntries(['k1', 'k2'])).toEqual([{ v: 1 }, { v: 3 }]);

  expect((await app.search({ text: 'fact' })).map((hit) => hit.kind)).toEqual(['memories', 'memories']);
  expect(await app.reindex()).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 20)); // 'gone' expires
  expect(await app.purgeExpiredCache()).toBe(1);
  expect((await app.healthCheck()).status).toBe('healthy');
  await between();

  expect(await app.deleteMemory('c1', 'm1')).toBe(true);
  expect(await app.deleteReasoningChains('agent')).toBe(true);
  expect(await app.deleteCacheEntry('k1')).toBe(true);
  expect(await app.deleteSystemState('mode')).toBe(true);
  expect(await app.deleteConversation('c1')).toBe(true);
}
