/** The small interface every benchmark subject implements, and the names shared by the bench. */
import type { JsonObject, JsonValue } from '../src/index.js';

export type { JsonObject, JsonValue };

/** The storage backends every workload runs on. */
export const BACKENDS = ['file', 'sqlite', 'redis', 'postgres'] as const;
/** One of {@link BACKENDS}. */
export type Backend = (typeof BACKENDS)[number];

/**
 * Who does the work: this library with its defaults (the full-text index on), the library with
 * `searchIndex: false` (write workloads only, so it does the same work as raw and Keyv), the
 * bare driver, or Keyv 5.
 */
export const SUBJECTS = ['library', 'libraryUnindexed', 'raw', 'keyv'] as const;
/** One of {@link SUBJECTS}. */
export type SubjectKind = (typeof SUBJECTS)[number];

/**
 * The operations the workloads need, named after the library's methods. The library passes
 * them straight through; raw and Keyv subjects implement them with the fewest driver calls.
 */
export interface BenchStore {
  storeConversation(id: string, data: JsonObject): Promise<unknown>;
  loadConversation(id: string): Promise<unknown>;
  storeRawMessages(id: string, messages: JsonValue[]): Promise<unknown>;
  loadRawMessages(id: string): Promise<JsonValue[]>;
  /** Upserts one memory; loads return it with `memory_id`. */
  storeMemory(id: string, memoryId: string, data: JsonObject): Promise<unknown>;
  loadMemories(id: string): Promise<JsonObject[]>;
  storeChunkInfo(id: string, data: JsonObject): Promise<unknown>;
  loadChunkInfo(id: string): Promise<JsonObject | null>;
  storeReasoningChain(agentId: string, data: JsonObject): Promise<unknown>;
  loadReasoningChains(agentId: string, limit: number): Promise<unknown[]>;
  storeCacheEntry(key: string, data: JsonObject, ttlSeconds: number): Promise<unknown>;
  loadCacheEntry(key: string): Promise<unknown>;
  /** W9's batches: each the subject's fewest calls for many records (one transaction, statement, command or pipeline). */
  storeMemories(id: string, memories: MemoryItem[]): Promise<unknown>;
  appendReasoningChains(agentId: string, chains: JsonObject[]): Promise<unknown>;
  storeCacheEntries(entries: CacheItem[]): Promise<unknown>;
  /** Aligned with `keys`; `null` for a missing or expired entry. */
  loadCacheEntries(keys: string[]): Promise<unknown[]>;
  /** Deletes the entries of `keys` (all stored). */
  deleteCacheEntries(keys: string[]): Promise<unknown>;
  /** Deletes the memories `memoryIds` of conversation `id` (all stored). */
  deleteMemories(id: string, memoryIds: string[]): Promise<unknown>;
  listConversations(): Promise<string[]>;
  listAllConversationIds(): Promise<string[]>;
  getStorageStats(): Promise<unknown>;
  /**
   * Runs `fn` (many writes) in one transaction. Only for untimed seeding, and only where one
   * connection makes that possible (raw SQLite, Keyv on SQLite): one fsync instead of thousands.
   */
  inTransaction?(fn: () => Promise<void>): Promise<void>;
  /** Closes connections; the data stays (see {@link OpenedStore.drop}). */
  close(): Promise<void>;
}

/** One memory of a batch. */
export interface MemoryItem {
  memoryId: string;
  data: JsonObject;
}

/** One cache entry of a batch. */
export interface CacheItem {
  key: string;
  data: JsonObject;
  ttlSeconds: number;
}

/** Where one subject keeps its data: a temp path, a Redis key prefix, a PostgreSQL schema. */
export interface StoreLocation {
  /** Unique name; becomes a folder / file name, key prefix and schema or table suffix. */
  name: string;
  /** Temp folder for file and SQLite data. */
  dir: string;
}

/** A store opened for one subject, with the means to remove everything it wrote. */
export interface OpenedStore {
  store: BenchStore;
  /** Closes the store and removes its data (folder, keys, schema). */
  drop(): Promise<void>;
}

/** Measured values of one subject in one round, by metric name. */
export type Metrics = Record<string, number>;
