/**
 * The seed data and the writes of the full-disk suites (`test/file/disk-full.test.ts`,
 * `test/sqlite/disk-full.test.ts`), and a snapshot of everything a store holds, to compare a
 * store after a failed write with the store before it (and with the same write done on a
 * roomy disk).
 */
import { type JsonObject, type StorageInterface } from '../../src/core/index.js';

/** Text of a given length, different per label (so no two records share bytes). */
function text(label: string, length: number): string {
  return `${label}:`.padEnd(length, label.slice(-1));
}

/** The records every case starts from: several pages of files, so a write can fail part-way. */
export async function seedStore(store: StorageInterface): Promise<void> {
  for (const id of ['c1', 'c2']) {
    await store.storeConversation(id, { title: id, body: text(`${id}-body`, 5000) });
    await store.storeRawMessages(id, [{ role: 'user', content: text(`${id}-raw`, 3000) }]);
    await store.storeMemories(
      id,
      ['m1', 'm2', 'm3'].map((m) => ({ memoryId: m, data: { summary: text(`${id}-${m}`, 1500) } })),
    );
    await store.storeChunkInfo(id, { chunks: [1, 2, 3], note: text(`${id}-chunk`, 600) });
  }
  for (const agent of ['a1', 'a2']) {
    await store.appendReasoningChains(agent, [
      { steps: [text(`${agent}-s1`, 1200)] },
      { steps: [text(`${agent}-s2`, 1200)] },
    ]);
  }
  await store.storeCacheEntries([
    { key: 'k1', data: { v: text('k1', 2000) } },
    { key: 'k2', data: { v: text('k2', 2000) }, ttlSeconds: 3600 },
  ]);
  const past = '2020-01-01T00:00:00.000000+00:00';
  await store.storeCacheRecord('gone', {
    data: { v: 1 },
    storedAt: past,
    expiresAt: '2020-01-02T00:00:00.000000+00:00',
  });
  await store.storeSystemState('s1', { mode: text('s1', 2500) });
  await store.storeSystemState('s2', { mode: text('s2', 100) });
}

/** A write a case makes on a full disk; `ids` are what its error must name (one of them). */
export interface DiskWrite {
  name: string;
  ids: string[];
  /** All or nothing (README's atomicity): a failure leaves the store exactly as before. */
  atomic: boolean;
  run(store: StorageInterface): Promise<unknown>;
}

const big = (label: string) => ({ v: text(label, 6000) });

/** Every kind of write, on existing and on new records. */
export const DISK_WRITES: DiskWrite[] = [
  {
    name: 'storeConversation (replace)',
    ids: ['c1'],
    atomic: true,
    run: (s) => s.storeConversation('c1', big('c1-new')),
  },
  {
    name: 'storeConversation (new)',
    ids: ['c3'],
    atomic: true,
    run: (s) => s.storeConversation('c3', big('c3-new')),
  },
  {
    name: 'storeRawMessages',
    ids: ['c1'],
    atomic: true,
    run: (s) => s.storeRawMessages('c1', [big('c1-raw2'), { n: 2 }]),
  },
  { name: 'storeChunkInfo', ids: ['c1'], atomic: true, run: (s) => s.storeChunkInfo('c1', big('c1-chunk2')) },
  {
    name: 'storeMemory (new)',
    ids: ['c1', 'm4'],
    atomic: true,
    run: (s) => s.storeMemory('c1', 'm4', big('m4')),
  },
  {
    name: 'storeMemory (replace)',
    ids: ['c1', 'm2'],
    atomic: true,
    run: (s) => s.storeMemory('c1', 'm2', big('m2x')),
  },
  {
    name: 'storeMemories batch',
    ids: ['c1'],
    atomic: true,
    run: (s) =>
      s.storeMemories('c1', [
        { memoryId: 'm1', data: big('m1y') },
        { memoryId: 'm5', data: big('m5') },
        { memoryId: 'm6', data: { small: true } },
      ]),
  },
  {
    name: 'storeMemories batch (new conversation)',
    ids: ['c4'],
    atomic: true,
    run: (s) => s.storeMemories('c4', [{ memoryId: 'm1', data: big('c4m1') }]),
  },
  {
    name: 'storeReasoningChain',
    ids: ['a1'],
    atomic: true,
    run: (s) => s.storeReasoningChain('a1', big('a1-s3')),
  },
  {
    name: 'appendReasoningChains',
    ids: ['a1'],
    atomic: true,
    run: (s) => s.appendReasoningChains('a1', [big('a1-b1'), { short: 1 }, big('a1-b3')]),
  },
  {
    name: 'appendReasoningChains (new agent)',
    ids: ['a3'],
    atomic: true,
    run: (s) => s.appendReasoningChains('a3', [big('a3')]),
  },
  {
    name: 'storeCacheEntry (replace)',
    ids: ['k1'],
    atomic: true,
    run: (s) => s.storeCacheEntry('k1', big('k1x'), 600),
  },
  {
    name: 'storeCacheEntry (new)',
    ids: ['k9'],
    atomic: true,
    run: (s) => s.storeCacheEntry('k9', big('k9')),
  },
  {
    name: 'storeCacheEntries batch',
    ids: ['k1', 'k2', 'k9'],
    atomic: false,
    run: (s) =>
      s.storeCacheEntries([
        { key: 'k1', data: big('k1y') },
        { key: 'k9', data: big('k9y'), ttlSeconds: 60 },
        { key: 'k2', data: big('k2y') },
      ]),
  },
  {
    name: 'storeSystemState (replace)',
    ids: ['s1'],
    atomic: true,
    run: (s) => s.storeSystemState('s1', big('s1x')),
  },
  {
    name: 'storeSystemState (new)',
    ids: ['s9'],
    atomic: true,
    run: (s) => s.storeSystemState('s9', big('s9')),
  },
  { name: 'deleteConversation', ids: ['c1'], atomic: true, run: (s) => s.deleteConversation('c1') },
  { name: 'deleteMemory', ids: ['c1', 'm2'], atomic: true, run: (s) => s.deleteMemory('c1', 'm2') },
  { name: 'deleteReasoningChains', ids: ['a1'], atomic: true, run: (s) => s.deleteReasoningChains('a1') },
  { name: 'deleteCacheEntry', ids: ['k1'], atomic: true, run: (s) => s.deleteCacheEntry('k1') },
  { name: 'deleteSystemState', ids: ['s1'], atomic: true, run: (s) => s.deleteSystemState('s1') },
  { name: 'purgeExpiredCache', ids: ['gone', 'cache'], atomic: false, run: (s) => s.purgeExpiredCache() },
];

/** The stats that count records (the others are sizes, which a failed write may change). */
const RECORD_COUNTS = [
  'conversation_count',
  'raw_message_count',
  'memory_count',
  'reasoning_chain_count',
  'agent_count',
  'chunk_info_count',
  'cache_entry_count',
  'system_state_count',
];

/** Everything a store holds, one entry per record (a conversation's memories, an agent's chains are one each). */
export type StoreSnapshot = Record<string, unknown>;

/** Fields that hold the time of the write (differ between a store and its reference). */
const TIME_FIELDS = new Set(['created_at', 'stored_at']);

function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value as JsonObject)
      .filter(([key]) => !TIME_FIELDS.has(key))
      .map(([key, inner]) => [key, withoutTimes(inner)]),
  );
}

/** Loads every record back (and the listings and stats counts); `times: false` drops write times. */
export async function snapshotStore(store: StorageInterface, times = true): Promise<StoreSnapshot> {
  const out: StoreSnapshot = {};
  const conversations = await store.listAllConversationIds();
  const agents = await store.listAgents();
  out['list:conversations'] = [...(await store.listConversations())].sort();
  out['list:all-conversations'] = [...conversations].sort();
  out['list:agents'] = [...agents].sort();
  out['list:cache'] = [...(await store.listCacheKeys())].sort();
  out['list:state'] = [...(await store.listSystemStateKeys())].sort();
  for (const id of ['c1', 'c2', 'c3', 'c4']) {
    out[`conversation:${id}`] = await store.loadConversation(id);
    out[`raw:${id}`] = await store.loadRawMessages(id);
    out[`memories:${id}`] = await store.loadMemories(id);
    out[`chunks:${id}`] = await store.loadChunkInfo(id);
  }
  for (const agent of ['a1', 'a2', 'a3']) out[`chains:${agent}`] = await store.loadReasoningChains(agent);
  for (const key of ['k1', 'k2', 'k9', 'gone']) out[`cache:${key}`] = await store.loadCacheEntry(key);
  for (const key of ['s1', 's2', 's9']) out[`state:${key}`] = await store.loadSystemState(key);
  const stats = (await store.getStorageStats()) as unknown as Record<string, unknown>;
  for (const key of RECORD_COUNTS) out[`stats:${key}`] = stats[key];
  return times ? out : (withoutTimes(out) as StoreSnapshot);
}

/** Drops the write times of a snapshot (to compare with one taken on another store). */
export function snapshotWithoutTimes(snapshot: StoreSnapshot): StoreSnapshot {
  return withoutTimes(snapshot) as StoreSnapshot;
}
