/**
 * The commands of the model-based sequence suite (fast-check `fc.commands`): every write of
 * the public API the model covers updates the model after checking the call's result; the
 * reads (in `model-reads.ts`) compare the store's answers with the model's.
 */
import fc from 'fast-check';
import {
  type CacheRecord,
  type ConversationBatchItem,
  type JsonObject,
  ValidationError,
} from '../../../src/core/index.js';
import {
  AGENT,
  call,
  Call,
  chainData,
  CONVERSATION,
  KEY,
  MEMORY,
  memoryData,
  memoryItems,
  messages,
  TTL,
  value,
} from './model-arbitraries.js';
import { reads } from './model-reads.js';
import type { StoreModel } from './model-state.js';

/** A copied cache record of `data`: stored in 2001, live until 2999 or `expired` a day later. */
function copiedRecord(data: JsonObject, expired: boolean): CacheRecord {
  const storedAt = '2001-01-01T00:00:00+00:00';
  const expiresAt = expired ? '2001-01-02T00:00:00+00:00' : '2999-01-01T00:00:00+00:00';
  return { data, storedAt, expiresAt };
}

/** The model's side of storing `record` (from {@link copiedRecord}) under `key`. */
function modelCopy(m: StoreModel, key: string, record: CacheRecord, expired: boolean): void {
  const ttl = Math.round((Date.parse(record.expiresAt ?? '') - Date.parse(record.storedAt)) / 1000);
  m.storeCache(key, record.data, ttl, expired ? 'expired' : 'live');
}

// ----- commands --------------------------------------------------------------------------

const writes: Array<fc.Arbitrary<Call>> = [
  call('storeConversation', [CONVERSATION, value], (id, data) => async (m, r) => {
    await expect(r.s.storeConversation(id, data)).resolves.toBe(true);
    m.conversations.set(id, data);
  }),
  call('deleteConversation', [CONVERSATION], (id) => async (m, r) => {
    await expect(r.s.deleteConversation(id)).resolves.toBe(true);
    m.deleteConversation(id);
  }),
  call('storeRawMessages', [CONVERSATION, messages], (id, list) => async (m, r) => {
    await expect(r.s.storeRawMessages(id, list)).resolves.toBe(true);
    m.storeRawMessages(id, list);
  }),
  call('storeMemory', [CONVERSATION, MEMORY, memoryData], (id, mid, data) => async (m, r) => {
    await expect(r.s.storeMemory(id, mid, data)).resolves.toBe(true);
    m.storeMemory(id, mid, data);
  }),
  call('storeMemories', [CONVERSATION, memoryItems], (id, items) => async (m, r) => {
    await expect(r.s.storeMemories(id, items)).resolves.toBe(items.length);
    for (const item of items) m.storeMemory(id, item.memoryId, item.data);
  }),
  call('deleteMemory', [CONVERSATION, MEMORY], (id, mid) => async (m, r) => {
    await expect(r.s.deleteMemory(id, mid)).resolves.toBe(true);
    m.deleteMemory(id, mid);
  }),
  // Absent ids and an id given twice are no error; it answers how many ids were given.
  call('deleteMemories', [CONVERSATION, fc.array(MEMORY, { maxLength: 4 })], (id, mids) => async (m, r) => {
    await expect(r.s.deleteMemories(id, mids)).resolves.toBe(mids.length);
    for (const mid of mids) m.deleteMemory(id, mid);
  }),
  call('storeReasoningChain', [AGENT, chainData], (id, data) => async (m, r) => {
    await expect(r.s.storeReasoningChain(id, data)).resolves.toBe(true);
    m.appendChain(id, data);
  }),
  call(
    'appendReasoningChains',
    [AGENT, fc.array(chainData, { maxLength: 4 })],
    (id, list) => async (m, r) => {
      await expect(r.s.appendReasoningChains(id, list)).resolves.toBe(list.length);
      for (const data of list) m.appendChain(id, data);
    },
  ),
  call('deleteReasoningChains', [AGENT], (id) => async (m, r) => {
    await expect(r.s.deleteReasoningChains(id)).resolves.toBe(true);
    m.chains.delete(id);
  }),
  call('trimReasoningChains', [AGENT, fc.nat(3)], (id, keep) => async (m, r) => {
    await expect(r.s.trimReasoningChains(id, keep)).resolves.toBe(m.trimChains(id, keep));
  }),
  call('storeChunkInfo', [CONVERSATION, value], (id, data) => async (m, r) => {
    await expect(r.s.storeChunkInfo(id, data)).resolves.toBe(true);
    m.chunks.set(id, data);
  }),
  call('storeCacheEntry', [KEY, value, TTL], (key, data, ttl) => async (m, r) => {
    await expect(r.s.storeCacheEntry(key, data, ttl)).resolves.toBe(true);
    m.storeCache(key, data, ttl ?? null);
  }),
  call(
    'storeCacheEntries',
    [fc.array(fc.record({ key: KEY, data: value, ttlSeconds: TTL }), { maxLength: 4 })],
    (items) => async (m, r) => {
      await expect(r.s.storeCacheEntries(items)).resolves.toBe(items.length);
      for (const item of items) m.storeCache(item.key, item.data, item.ttlSeconds ?? null);
    },
  ),
  // A copy's record: live until 2999, or expired long ago (stored, but then never loaded, listed or counted).
  call('storeCacheRecord', [KEY, value, fc.boolean()], (key, data, expired) => async (m, r) => {
    const record = copiedRecord(data, expired);
    await expect(r.s.storeCacheRecord(key, record)).resolves.toBe(true);
    modelCopy(m, key, record, expired);
  }),
  // The batch of the above: records live or expired, a key possibly given twice (the last wins).
  call(
    'storeCacheRecords',
    [fc.array(fc.record({ key: KEY, data: value, expired: fc.boolean() }), { maxLength: 4 })],
    (items) => async (m, r) => {
      const copies = items.map(({ key, data, expired }) => ({
        key,
        expired,
        record: copiedRecord(data, expired),
      }));
      const records = copies.map(({ key, record }) => ({ key, ...record }));
      await expect(r.s.storeCacheRecords(records)).resolves.toBe(records.length);
      for (const { key, record, expired } of copies) modelCopy(m, key, record, expired);
    },
  ),
  call('deleteCacheEntry', [KEY], (key) => async (m, r) => {
    await expect(r.s.deleteCacheEntry(key)).resolves.toBe(true);
    m.deleteCache(key);
  }),
  // Absent keys and a key given twice are no error; it answers how many keys were given.
  call('deleteCacheEntries', [fc.array(KEY, { maxLength: 4 })], (keys) => async (m, r) => {
    await expect(r.s.deleteCacheEntries(keys)).resolves.toBe(keys.length);
    for (const key of keys) m.deleteCache(key);
  }),
  // Steps of 20 s or 40 s against TTLs of 30 s or a year: a sum never lands on an expiry exactly.
  call('passTime', [fc.constantFrom(20_000, 40_000)], (ms) => async (m, r) => {
    await r.passTime(ms);
    m.passTime(ms);
  }),
  call('purgeExpiredCache', [], () => async (m, r) => {
    const removed = await r.s.purgeExpiredCache();
    // Redis expires entries itself and counts the stale index entries it cleaned instead.
    const expected = m.purgeExpiredCache();
    if (r.exactPurgeCount) expect(removed).toBe(expected);
  }),
  call('storeSystemState', [KEY, value], (key, data) => async (m, r) => {
    await expect(r.s.storeSystemState(key, data)).resolves.toBe(true);
    m.state.set(key, data);
  }),
  call('deleteSystemState', [KEY], (key) => async (m, r) => {
    await expect(r.s.deleteSystemState(key)).resolves.toBe(true);
    m.state.delete(key);
  }),
  call(
    'storeConversationBatch',
    [
      fc.array(
        fc.record(
          {
            conversationId: CONVERSATION,
            conversation: value,
            rawMessages: messages,
            memories: memoryItems,
            chunkInfo: value,
          },
          { requiredKeys: ['conversationId'] },
        ),
        { maxLength: 3 },
      ),
    ],
    (items: ConversationBatchItem[]) => async (m, r) => {
      // An id given twice is refused before any I/O, and nothing changes.
      if (new Set(items.map((i) => i.conversationId)).size < items.length) {
        await expect(r.s.storeConversationBatch(items)).rejects.toBeInstanceOf(ValidationError);
        return;
      }
      await expect(r.s.storeConversationBatch(items)).resolves.toBe(items.length);
      for (const item of items) {
        const id = item.conversationId;
        if (item.conversation) m.conversations.set(id, item.conversation);
        if (item.rawMessages) m.storeRawMessages(id, item.rawMessages);
        for (const mem of item.memories ?? []) m.storeMemory(id, mem.memoryId, mem.data);
        if (item.chunkInfo) m.chunks.set(id, item.chunkInfo);
      }
    },
  ),
];

/**
 * Every command; with `shared`, also closing and reopening the store and switching to the other
 * instance on it (for stores that persist and are shared).
 */
export function commandsOf(shared: boolean): Array<fc.Arbitrary<Call>> {
  const all = [...writes, ...reads];
  if (shared) {
    all.push(
      fc.constant(
        new Call('reopen()', async (_m, r) => {
          await r.reopen?.();
        }),
      ),
      fc.constant(
        new Call('switchInstance()', async (_m, r) => {
          if (r.other === undefined) return;
          [r.s, r.other] = [r.other, r.s];
        }),
      ),
    );
  }
  return all;
}
