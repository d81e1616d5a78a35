/**
 * Raw Redis subject: `ioredis` with `enableAutoPipelining`, one command per operation (SET /
 * GET, HSET for memories, RPUSH / LRANGE for chains, SET PX for the cache); no index keys,
 * so listings use SCAN.
 */
import { Redis } from 'ioredis';
import { deleteRedisPrefix } from '../cleanup.js';
import { config } from '../config.js';
import type { BenchStore, JsonObject, JsonValue, OpenedStore, StoreLocation } from '../types.js';

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** Opens a raw Redis store under its own key prefix. */
export async function openRawRedis(location: StoreLocation): Promise<OpenedStore> {
  const prefix = `bench:${location.name}:raw:`;
  const redis = new Redis(config.redisUrl, { enableAutoPipelining: true, lazyConnect: true });
  await redis.connect();
  const key = (kind: string, id: string): string => `${prefix}${kind}:${id}`;

  /** Every key of `kind` (or all, when `kind` is `*`) with the prefix cut off. */
  const scan = async (kind: string): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}${kind}:*`, 'COUNT', 1000);
      cursor = nextCursor;
      for (const k of keys) found.push(k.slice(prefix.length));
    } while (cursor !== '0');
    return found;
  };
  const idsOf = (keys: string[]): string[] => keys.map((k) => k.slice(k.indexOf(':') + 1));

  let open = true;
  const store: BenchStore = {
    storeConversation: (id, data) => redis.set(key('c', id), JSON.stringify(data)),
    loadConversation: async (id) => parse(await redis.get(key('c', id))),
    storeRawMessages: (id, messages) => redis.set(key('r', id), JSON.stringify(messages)),
    loadRawMessages: async (id) => parse<JsonValue[]>(await redis.get(key('r', id))) ?? [],
    storeMemory: (id, memoryId, data) =>
      redis.hset(key('m', id), memoryId, JSON.stringify({ memory_id: memoryId, ...data })),
    loadMemories: async (id) =>
      Object.values(await redis.hgetall(key('m', id))).map((text) => JSON.parse(text) as JsonObject),
    storeChunkInfo: (id, data) => redis.set(key('k', id), JSON.stringify(data)),
    loadChunkInfo: async (id) => parse<JsonObject>(await redis.get(key('k', id))),
    storeReasoningChain: (agentId, data) => redis.rpush(key('a', agentId), JSON.stringify(data)),
    loadReasoningChains: async (agentId, limit) =>
      (await redis.lrange(key('a', agentId), -limit, -1)).map((text) => JSON.parse(text) as unknown),
    storeCacheEntry: (cacheKey, data, ttl) =>
      redis.set(key('x', cacheKey), JSON.stringify(data), 'PX', ttl * 1000),
    loadCacheEntry: async (cacheKey) => parse(await redis.get(key('x', cacheKey))),
    // Batches: one command each (HSET of many fields, RPUSH of many values, MGET), or one
    // pipeline of SET PX (a TTL per key).
    storeMemories: (id, memories) =>
      redis.hset(
        key('m', id),
        Object.fromEntries(
          memories.map(({ memoryId, data }) => [memoryId, JSON.stringify({ memory_id: memoryId, ...data })]),
        ),
      ),
    appendReasoningChains: (agentId, chains) =>
      redis.rpush(key('a', agentId), ...chains.map((data) => JSON.stringify(data))),
    storeCacheEntries: async (entries) => {
      const pipeline = redis.pipeline();
      for (const e of entries)
        pipeline.set(key('x', e.key), JSON.stringify(e.data), 'PX', e.ttlSeconds * 1000);
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed) throw failed[0];
    },
    loadCacheEntries: async (keys) =>
      (await redis.mget(keys.map((k) => key('x', k)))).map((text) => parse(text)),
    deleteCacheEntries: (keys) => redis.del(keys.map((k) => key('x', k))),
    deleteMemories: (id, memoryIds) => redis.hdel(key('m', id), ...memoryIds),
    listConversations: async () => idsOf(await scan('c')).sort(),
    listAllConversationIds: async () => {
      const keys = (await scan('*')).filter((k) => /^[crkm]:/.test(k));
      return [...new Set(idsOf(keys))].sort();
    },
    getStorageStats: async () => {
      const counts: Record<string, number> = {};
      for (const k of await scan('*')) counts[k[0]!] = (counts[k[0]!] ?? 0) + 1;
      return counts;
    },
    close: async () => {
      if (open) await redis.quit();
      open = false;
    },
  };
  return {
    store,
    drop: async () => {
      await store.close();
      await deleteRedisPrefix(prefix);
    },
  };
}
