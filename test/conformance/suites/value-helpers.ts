/** Shared helpers of the value and batch suites: every store method as one call, a store's full contents, deep values, clock-free records. */
import type { CacheRecord, JsonObject, JsonValue, StorageInterface } from '../../../src/core/index.js';

/** Every public store method, taking only the value (ids and keys fixed and valid). */
export function storeCalls(s: StorageInterface): Record<string, (value: unknown) => Promise<unknown>> {
  return {
    storeConversation: (v) => s.storeConversation('c1', v as never),
    storeRawMessages: (v) => s.storeRawMessages('c1', v as never),
    storeMemory: (v) => s.storeMemory('c1', 'm1', v as never),
    storeReasoningChain: (v) => s.storeReasoningChain('a1', v as never),
    storeChunkInfo: (v) => s.storeChunkInfo('c1', v as never),
    storeCacheEntry: (v) => s.storeCacheEntry('k1', v as never),
    storeSystemState: (v) => s.storeSystemState('k1', v as never),
  };
}

/** Everything a store holds, loaded through the public API (to show that a refusal changed nothing). */
export async function storeSnapshot(s: StorageInterface): Promise<JsonValue> {
  const conversations: JsonObject = {};
  for (const id of await s.listAllConversationIds()) {
    conversations[id] = {
      conversation: await s.loadConversation(id),
      raw: await s.loadRawMessages(id),
      memories: await s.loadMemories(id),
      chunk: await s.loadChunkInfo(id),
    };
  }
  const agents: JsonObject = {};
  for (const id of await s.listAgents()) agents[id] = await s.loadReasoningChains(id);
  const cache: JsonObject = {};
  for (const key of await s.listCacheKeys()) cache[key] = await s.loadCacheEntry(key);
  const state: JsonObject = {};
  for (const key of await s.listSystemStateKeys()) state[key] = await s.loadSystemState(key);
  // Bytes and the timestamp change with every stats call; the counts must not.
  const counts: JsonObject = { ...(await s.getStorageStats()) };
  delete counts.total_bytes;
  delete counts.timestamp;
  return { conversations, agents, cache, state, counts } as JsonValue;
}

/** An object `depth` levels deep: `{}` is 1, `{ child: {} }` is 2. */
export function nested(depth: number): JsonObject {
  let value: JsonObject = {};
  for (let i = 1; i < depth; i += 1) value = { child: value };
  return value;
}

/**
 * A value every store must give back exactly: NUL, lone surrogates, escapes as text, scalars
 * JSON keeps only as text, and `__proto__` as an own key (compared as JSON text too, the key
 * order must survive).
 */
export function oddValue(): JsonObject {
  return {
    nul: 'walrus\u0000tusk',
    lone: ['\ud800', 'a\udc00b', '\ud83d\ude00 whole pair'],
    escapes: 'quote " backslash \\ \\u0000 as text, tab \t newline \n',
    numbers: [0, -0.5, 1e21, 12.5],
    ['__proto__']: { z: 1, a: 2 },
  } as JsonObject;
}

/** Caller-chosen timestamps in the batch tests start with this; the clock's never do. */
export const CALLER_YEAR = '2001-';

/** Replaces timestamps the clock set (`created_at`, `stored_at`) with a placeholder. */
export function withoutClock(records: JsonObject[]): JsonObject[] {
  return records.map((record) => {
    const out = { ...record };
    for (const field of ['created_at', 'stored_at']) {
      const value = out[field];
      if (typeof value === 'string' && !value.startsWith(CALLER_YEAR)) out[field] = '<clock>';
    }
    return out;
  });
}

/** A cache record with clock-set times replaced by the TTL they encode (seconds, rounded). */
export function ttlOf(record: CacheRecord | null): unknown {
  if (record === null) return null;
  const ttl =
    record.expiresAt === null
      ? null
      : Math.round((Date.parse(record.expiresAt) - Date.parse(record.storedAt)) / 1000);
  return { data: record.data, ttl };
}
