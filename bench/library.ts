/**
 * Subjects "library" and "libraryUnindexed": this library's backends with their defaults, or
 * with `searchIndex: false` (no full-text index maintained, like the raw drivers and Keyv),
 * through the public API of the built package (`BENCH_SOURCE=src`: the sources; see
 * `library-module.ts`).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageInterface } from '../src/index.js';
import { deleteRedisPrefix, dropSchema } from './cleanup.js';
import { config } from './config.js';
import { library } from './library-module.js';
import type { Backend, BenchStore, OpenedStore, StoreLocation } from './types.js';

/**
 * The name part of the library's store: the two configurations never share a store (SQLite
 * drops its index when opened with `searchIndex: false`).
 */
const part = (searchIndex: boolean): string => (searchIndex ? 'lib' : 'libnoidx');

/**
 * The library's store for `backend` at `location` (not yet initialized); `searchIndex: false`
 * opens a separate store without the full-text index.
 */
export function libraryStorage(
  backend: Backend,
  location: StoreLocation,
  searchIndex = true,
): StorageInterface {
  const name = `${location.name}-${part(searchIndex)}`;
  // Only set when off, so the default run uses the backends' defaults exactly as users get them.
  const index = searchIndex ? {} : { searchIndex: false };
  const { createStorage } = library;
  switch (backend) {
    case 'file':
      return createStorage('file', { baseDir: join(location.dir, name), ...index });
    case 'sqlite':
      return createStorage('sqlite', { dbPath: join(location.dir, `${name}.db`), ...index });
    case 'redis':
      return createStorage('redis', {
        url: config.redisUrl,
        keyPrefix: `bench:${location.name}:${part(searchIndex)}:`,
        ...index,
      });
    case 'postgres':
      return createStorage('postgres', {
        url: config.postgresUrl,
        schema: `bench_${location.name}_${part(searchIndex)}`,
        ...index,
      });
  }
}

/** Removes the library store's data at `location`. */
export async function dropLibraryData(
  backend: Backend,
  location: StoreLocation,
  searchIndex = true,
): Promise<void> {
  const name = `${location.name}-${part(searchIndex)}`;
  if (backend === 'redis') await deleteRedisPrefix(`bench:${location.name}:${part(searchIndex)}:`);
  else if (backend === 'postgres') await dropSchema(`bench_${location.name}_${part(searchIndex)}`);
  else
    await rm(join(location.dir, `${name}${backend === 'sqlite' ? '.db' : ''}`), {
      recursive: true,
      force: true,
    });
}

/** Opens the library's store as a bench subject (`searchIndex: false`: the unindexed one). */
export async function openLibrary(
  backend: Backend,
  location: StoreLocation,
  searchIndex = true,
): Promise<OpenedStore> {
  const storage = libraryStorage(backend, location, searchIndex);
  await storage.initialize();
  const store = benchStoreOf(storage);
  return {
    store,
    drop: async () => {
      await storage.shutdown();
      await dropLibraryData(backend, location, searchIndex);
    },
  };
}

/** The bench interface over a library store (its `close` shuts the store down). */
export function benchStoreOf(s: StorageInterface): BenchStore {
  return {
    storeConversation: (id, data) => s.storeConversation(id, data),
    loadConversation: (id) => s.loadConversation(id),
    storeRawMessages: (id, messages) => s.storeRawMessages(id, messages),
    loadRawMessages: (id) => s.loadRawMessages(id),
    storeMemory: (id, memoryId, data) => s.storeMemory(id, memoryId, data),
    loadMemories: (id) => s.loadMemories(id),
    storeChunkInfo: (id, data) => s.storeChunkInfo(id, data),
    loadChunkInfo: (id) => s.loadChunkInfo(id),
    storeReasoningChain: (agentId, data) => s.storeReasoningChain(agentId, data),
    loadReasoningChains: (agentId, limit) => s.loadReasoningChains(agentId, limit),
    storeCacheEntry: (key, data, ttl) => s.storeCacheEntry(key, data, ttl),
    loadCacheEntry: (key) => s.loadCacheEntry(key),
    storeMemories: (id, memories) => s.storeMemories(id, memories),
    appendReasoningChains: (agentId, chains) => s.appendReasoningChains(agentId, chains),
    storeCacheEntries: (entries) => s.storeCacheEntries(entries),
    loadCacheEntries: (keys) => s.loadCacheEntries(keys),
    deleteCacheEntries: (keys) => s.deleteCacheEntries(keys),
    deleteMemories: (id, memoryIds) => s.deleteMemories(id, memoryIds),
    listConversations: () => s.listConversations(),
    listAllConversationIds: () => s.listAllConversationIds(),
    getStorageStats: () => s.getStorageStats(),
    close: async () => {
      await s.shutdown();
    },
  };
}
