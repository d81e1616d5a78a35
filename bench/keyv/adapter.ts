/**
 * Subject "keyv": the workloads written the way a Keyv user would, one key per record
 * (`conv:`, `raw:`, `chunk:`, `cache:`), a conversation's memories and an agent's chains as
 * one array value each (read, change, write back), listings by iterating the namespace.
 */
import type {
  Backend,
  BenchStore,
  JsonObject,
  JsonValue,
  MemoryItem,
  OpenedStore,
  StoreLocation,
} from '../types.js';
import { createKeyvStore } from './stores.js';

/** Ids of the keys starting with `kind:` among the namespace's keys. */
async function idsOf(keyv: ReturnType<typeof createKeyvStore>['keyv'], kinds: string[]): Promise<string[]> {
  const ids = new Set<string>();
  if (!keyv.iterator) throw new Error('this Keyv store cannot iterate');
  for await (const [key] of keyv.iterator(undefined)) {
    const text = String(key);
    const colon = text.indexOf(':');
    if (kinds.includes(text.slice(0, colon))) ids.add(text.slice(colon + 1));
  }
  return [...ids].sort();
}

/** Opens Keyv on `backend` as a bench subject. */
export async function openKeyv(backend: Backend, location: StoreLocation): Promise<OpenedStore> {
  const { keyv, close, drop } = createKeyvStore(backend, location);
  const get = async <T>(key: string): Promise<T | null> =>
    ((await keyv.get<T>(key)) as T | undefined) ?? null;

  /** Upserts memories into the conversation's array (in place, new ids at the end). */
  const storeMemories = async (id: string, items: MemoryItem[]): Promise<void> => {
    const memories = (await get<JsonObject[]>(`mem:${id}`)) ?? [];
    for (const { memoryId, data } of items) {
      const record = { memory_id: memoryId, ...data };
      const at = memories.findIndex((memory) => memory.memory_id === memoryId);
      if (at >= 0) memories[at] = record;
      else memories.push(record);
    }
    await keyv.set(`mem:${id}`, memories);
  };
  const appendChains = async (agentId: string, data: JsonObject[]): Promise<void> => {
    const chains = (await get<JsonObject[]>(`chain:${agentId}`)) ?? [];
    chains.push(...data);
    await keyv.set(`chain:${agentId}`, chains);
  };

  const store: BenchStore = {
    storeConversation: (id, data) => keyv.set(`conv:${id}`, data),
    loadConversation: (id) => get(`conv:${id}`),
    storeRawMessages: (id, messages) => keyv.set(`raw:${id}`, messages),
    loadRawMessages: async (id) => (await get<JsonValue[]>(`raw:${id}`)) ?? [],
    storeMemory: (id, memoryId, data) => storeMemories(id, [{ memoryId, data }]),
    loadMemories: async (id) => (await get<JsonObject[]>(`mem:${id}`)) ?? [],
    storeChunkInfo: (id, data) => keyv.set(`chunk:${id}`, data),
    loadChunkInfo: (id) => get<JsonObject>(`chunk:${id}`),
    storeReasoningChain: (agentId, data) => appendChains(agentId, [data]),
    loadReasoningChains: async (agentId, limit) =>
      ((await get<JsonObject[]>(`chain:${agentId}`)) ?? []).slice(-limit),
    storeCacheEntry: (key, data, ttl) => keyv.set(`cache:${key}`, data, ttl * 1000),
    loadCacheEntry: (key) => get(`cache:${key}`),
    // Batches: one read and write of the array value; the cache through `setMany` / `getMany`.
    storeMemories,
    appendReasoningChains: appendChains,
    storeCacheEntries: (entries) =>
      keyv.setMany(entries.map((e) => ({ key: `cache:${e.key}`, value: e.data, ttl: e.ttlSeconds * 1000 }))),
    loadCacheEntries: async (keys) =>
      (await keyv.getMany<JsonObject>(keys.map((key) => `cache:${key}`))).map((value) => value ?? null),
    deleteCacheEntries: (keys) => keyv.deleteMany(keys.map((key) => `cache:${key}`)),
    // One read and write of the array value, as the memory writes.
    deleteMemories: async (id, memoryIds) => {
      const gone = new Set(memoryIds);
      const memories = (await get<JsonObject[]>(`mem:${id}`)) ?? [];
      await keyv.set(
        `mem:${id}`,
        memories.filter((memory) => !gone.has(String(memory.memory_id))),
      );
    },
    listConversations: () => idsOf(keyv, ['conv']),
    listAllConversationIds: () => idsOf(keyv, ['conv', 'raw', 'chunk', 'mem']),
    getStorageStats: async () => {
      const counts: Record<string, number> = {};
      if (!keyv.iterator) throw new Error('this Keyv store cannot iterate');
      for await (const [key] of keyv.iterator(undefined)) {
        const kind = String(key).split(':')[0]!;
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
      return counts;
    },
    close,
  };
  if (backend === 'sqlite') {
    // @keyv/sqlite runs every query on its one connection, so they all land inside this.
    const query = (keyv.store as { query: (sql: string) => Promise<unknown> }).query.bind(keyv.store);
    store.inTransaction = async (fn) => {
      await query('BEGIN IMMEDIATE');
      try {
        await fn();
        await query('COMMIT');
      } catch (error) {
        await query('ROLLBACK');
        throw error;
      }
    };
  }
  return { store, drop };
}
