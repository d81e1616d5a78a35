/** Subject "library": this library's backends with their defaults, through the public API. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createStorage, type StorageInterface } from '../src/index.js';
import { deleteRedisPrefix, dropSchema } from './cleanup.js';
import { config } from './config.js';
import type { Backend, BenchStore, OpenedStore, StoreLocation } from './types.js';

/** The library's store for `backend` at `location` (not yet initialized). */
export function libraryStorage(backend: Backend, location: StoreLocation): StorageInterface {
  switch (backend) {
    case 'file':
      return createStorage('file', { baseDir: join(location.dir, `${location.name}-lib`) });
    case 'sqlite':
      return createStorage('sqlite', { dbPath: join(location.dir, `${location.name}-lib.db`) });
    case 'redis':
      return createStorage('redis', { url: config.redisUrl, keyPrefix: `bench:${location.name}:lib:` });
    case 'postgres':
      return createStorage('postgres', { url: config.postgresUrl, schema: `bench_${location.name}_lib` });
  }
}

/** Removes the library store's data at `location`. */
export async function dropLibraryData(backend: Backend, location: StoreLocation): Promise<void> {
  if (backend === 'redis') await deleteRedisPrefix(`bench:${location.name}:lib:`);
  else if (backend === 'postgres') await dropSchema(`bench_${location.name}_lib`);
  else
    await rm(join(location.dir, `${location.name}-lib${backend === 'sqlite' ? '.db' : ''}`), {
      recursive: true,
      force: true,
    });
}

/** Opens the library's store as a bench subject. */
export async function openLibrary(backend: Backend, location: StoreLocation): Promise<OpenedStore> {
  const storage = libraryStorage(backend, location);
  await storage.initialize();
  const s = storage;
  const store: BenchStore = {
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
    listConversations: () => s.listConversations(),
    listAllConversationIds: () => s.listAllConversationIds(),
    getStorageStats: () => s.getStorageStats(),
    close: async () => {
      await s.shutdown();
    },
  };
  return {
    store,
    drop: async () => {
      await storage.shutdown();
      await dropLibraryData(backend, location);
    },
  };
}
