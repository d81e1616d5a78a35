/**
 * The reads of the model-based sequence suite: each compares the store's answer with the
 * model's (and lets the model learn clock values it cannot predict), plus the comparison of a
 * whole store made after every sequence.
 */
import fc from 'fast-check';
import type { StorageInterface } from '../../../src/core/index.js';
import { AGENT, call, type Call, CONVERSATION, KEY, window } from './model-arbitraries.js';
import { type StoreModel, windowOf } from './model-state.js';
import { ttlOf } from './value-helpers.js';

export const reads: Array<fc.Arbitrary<Call>> = [
  // Compared as JSON text: a record comes back exactly as stored, key order included.
  call('loadConversation', [CONVERSATION], (id) => async (m, r) => {
    expect(JSON.stringify(await r.s.loadConversation(id))).toBe(
      JSON.stringify(m.conversations.get(id) ?? null),
    );
    expect(JSON.stringify(await r.s.loadChunkInfo(id))).toBe(JSON.stringify(m.chunks.get(id) ?? null));
  }),
  call('loadRawMessages', [CONVERSATION, window], (id, w) => async (m, r) => {
    const all = m.raw.get(id) ?? [];
    const got = w === undefined ? await r.s.loadRawMessages(id) : await r.s.loadRawMessages(id, w);
    expect(got).toEqual(w === undefined ? all : windowOf(all, w.offset, w.limit));
  }),
  call('loadMemories', [CONVERSATION, window], (id, w) => async (m, r) => {
    const all = m.expectedMemories(id);
    if (w === undefined) {
      const got = await r.s.loadMemories(id);
      expect(got).toEqual(all);
      m.learnMemories(id, got);
    } else {
      expect(await r.s.loadMemories(id, w)).toEqual(windowOf(all, w.offset, w.limit));
    }
  }),
  call(
    'loadReasoningChains',
    [AGENT, fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined })],
    (id, limit) => async (m, r) => {
      const all = m.expectedChains(id);
      expect(await r.s.loadReasoningChains(id, limit)).toEqual(limit === undefined ? all : all.slice(-limit));
    },
  ),
  call('loadSequencedReasoningChains', [AGENT], (id) => async (m, r) => {
    const got = await r.s.loadSequencedReasoningChains(id);
    expect(got.map((c) => c.chain)).toEqual(m.expectedChains(id));
    m.checkSequences(id, got);
  }),
  call('loadCache', [KEY], (key) => async (m, r) => {
    const entry = m.cache.get(key);
    expect(JSON.stringify(await r.s.loadCacheEntry(key))).toBe(JSON.stringify(entry?.data ?? null));
    expect(ttlOf(await r.s.loadCacheRecord(key))).toEqual(entry ?? null);
  }),
  call('loadCacheRecords', [fc.array(KEY, { maxLength: 4 })], (keys) => async (m, r) => {
    expect((await r.s.loadCacheRecords(keys)).map(ttlOf)).toEqual(keys.map((k) => m.cache.get(k) ?? null));
  }),
  call('loadConversationBatch', [fc.array(CONVERSATION, { maxLength: 3 })], (ids) => async (m, r) => {
    expect(await r.s.loadConversationBatch(ids)).toEqual(
      ids.map((id) => ({
        conversationId: id,
        conversation: m.conversations.get(id) ?? null,
        rawMessages: m.raw.get(id) ?? [],
        memories: m.expectedMemories(id),
        chunkInfo: m.chunks.get(id) ?? null,
      })),
    );
  }),
  call('loadCacheEntries', [fc.array(KEY, { maxLength: 4 })], (keys) => async (m, r) => {
    expect(await r.s.loadCacheEntries(keys)).toEqual(keys.map((k) => m.cache.get(k)?.data ?? null));
  }),
  call('loadSystemState', [KEY], (key) => async (m, r) => {
    expect(JSON.stringify(await r.s.loadSystemState(key))).toBe(JSON.stringify(m.state.get(key) ?? null));
  }),
  call(
    'listings',
    [
      fc.constantFrom(
        'conversations',
        'allConversationIds',
        'agents',
        'cacheKeys',
        'systemStateKeys' as const,
      ),
    ],
    (name) => async (m, r) => {
      const expected = m.listings();
      expect({
        conversations: await r.s.listConversations(),
        allConversationIds: await r.s.listAllConversationIds(),
        agents: await r.s.listAgents(),
        cacheKeys: await r.s.listCacheKeys(),
        systemStateKeys: await r.s.listSystemStateKeys(),
      }).toEqual(expected);
      // One listing walked in pages of two: the same ids.
      const walked: string[] = [];
      for await (const id of r.s.iterate(name, { pageSize: 2 })) walked.push(id);
      expect(walked).toEqual(expected[name]);
    },
  ),
  call('getStorageStats', [], () => async (m, r) => {
    expect(await r.s.getStorageStats()).toMatchObject(m.counts());
  }),
];

/** Compares every record and listing of the store with the model (after a sequence). */
export async function expectWhole(m: StoreModel, s: StorageInterface): Promise<void> {
  for (const id of m.allConversationIds()) {
    expect(await s.loadConversation(id)).toEqual(m.conversations.get(id) ?? null);
    expect(await s.loadRawMessages(id)).toEqual(m.raw.get(id) ?? []);
    expect(await s.loadMemories(id)).toEqual(m.expectedMemories(id));
    expect(await s.loadChunkInfo(id)).toEqual(m.chunks.get(id) ?? null);
  }
  for (const id of m.chains.keys()) expect(await s.loadReasoningChains(id)).toEqual(m.expectedChains(id));
  const keys = [...m.cache.keys()];
  expect(await s.loadCacheEntries(keys)).toEqual(keys.map((k) => m.cache.get(k)?.data));
  for (const [key, data] of m.state) expect(await s.loadSystemState(key)).toEqual(data);
  expect(await s.listAllConversationIds()).toEqual(m.allConversationIds());
  expect(await s.listAgents()).toEqual(m.listings().agents);
  expect(await s.listCacheKeys()).toEqual(m.listings().cacheKeys);
  expect(await s.listSystemStateKeys()).toEqual(m.listings().systemStateKeys);
  expect(await s.getStorageStats()).toMatchObject(m.counts());
}
