/**
 * The single-record API of the storage interface (the Python reference's methods). Public
 * methods validate their arguments, turn values into plain JSON and apply the semantics every
 * backend shares before any I/O; a backend only implements the protected storage primitives of
 * `StoragePrimitives`; the lifecycle, read-only flag and health check come from `StorageBase`,
 * the listings and the cache purge from `PagedStorage`.
 */
import { validateId, validateKey, validateLimit, validateStoredKey, validateTtl } from './ids.js';
import { type JsonObject, type JsonValue, toJsonArray, toJsonObject } from './json.js';
import {
  buildCacheRecord,
  buildChainRecord,
  buildMemoryWrite,
  type CacheRecord,
  validateCacheRecord,
  isCacheExpired,
  type StatsSnapshot,
  type StorageStats,
} from './records.js';
import {
  CHUNK_INFO_METADATA_FIELD,
  CONVERSATION_METADATA_FIELD,
  refuseReservedField,
} from './reserved-fields.js';
import { checkFor, recordName, recordText } from './record-names.js';
import { StorageBase } from './storage-base.js';
import { nowTimestamp } from './time.js';

/**
 * Conversations, raw messages, memories, reasoning chains, chunk info, a TTL cache and system
 * state, one record per call. Extend `StorageInterface`, not this.
 */
export abstract class RecordStorage extends StorageBase {
  // ----- conversations -------------------------------------------------------------------

  /** Stores (replaces) a conversation object. */
  async storeConversation(conversationId: string, data: JsonObject): Promise<boolean> {
    validateId('conversationId', conversationId);
    // Named lazily (here and in the other hot writes): the name is for a refusal's message.
    const what = (): string => recordText.conversation(conversationId);
    const value = toJsonObject(data, what);
    refuseReservedField(value, CONVERSATION_METADATA_FIELD, what);
    await this.runWrite(
      'storeConversation',
      () => this.writeConversation(conversationId, value),
      recordName('data', recordText.conversation, conversationId),
    );
    return true;
  }

  /** Loads a conversation exactly as stored, or `null`. */
  async loadConversation(conversationId: string): Promise<JsonObject | null> {
    validateId('conversationId', conversationId);
    return this.run('loadConversation', () => this.readConversation(conversationId));
  }

  /** Deletes a conversation with its raw messages, memories and chunk info, all or nothing. True also when absent. */
  async deleteConversation(conversationId: string): Promise<boolean> {
    validateId('conversationId', conversationId);
    await this.runWrite('deleteConversation', () => this.removeConversation(conversationId));
    return true;
  }

  // ----- raw messages --------------------------------------------------------------------

  /** Stores (replaces) the raw message list of a conversation. */
  async storeRawMessages(conversationId: string, messages: JsonValue[]): Promise<boolean> {
    validateId('conversationId', conversationId);
    const value = toJsonArray(messages, recordText.rawMessages(conversationId));
    await this.runWrite(
      'storeRawMessages',
      () => this.writeRawMessages(conversationId, value),
      recordName('messages', recordText.rawMessages, conversationId),
    );
    return true;
  }

  /** Loads the raw messages of a conversation, `[]` when none. */
  async loadRawMessages(conversationId: string): Promise<JsonValue[]> {
    validateId('conversationId', conversationId);
    return (await this.run('loadRawMessages', () => this.readRawMessages(conversationId))) ?? [];
  }

  // ----- memories ------------------------------------------------------------------------

  /** Stores a memory; an existing `memoryId` in that conversation is replaced in place (D7). */
  async storeMemory(conversationId: string, memoryId: string, memoryData: JsonObject): Promise<boolean> {
    validateId('conversationId', conversationId);
    validateId('memoryId', memoryId);
    const value = toJsonObject(memoryData, () => recordText.memoryById(memoryId));
    await this.runWrite(
      'storeMemory',
      () => this.upsertMemory(conversationId, buildMemoryWrite(memoryId, value, nowTimestamp())),
      recordName('memoryData', recordText.memory, conversationId, memoryId),
    );
    return true;
  }

  /** Deletes one memory of a conversation; the others keep their order. True also when absent. */
  async deleteMemory(conversationId: string, memoryId: string): Promise<boolean> {
    validateId('conversationId', conversationId);
    validateId('memoryId', memoryId);
    await this.runWrite('deleteMemory', () => this.removeMemory(conversationId, memoryId));
    return true;
  }

  /** Loads a conversation's memories, oldest first, each with `memory_id` and `created_at`. */
  async loadMemories(conversationId: string): Promise<JsonObject[]> {
    validateId('conversationId', conversationId);
    return this.run('loadMemories', () => this.readMemories(conversationId));
  }

  // ----- reasoning chains ----------------------------------------------------------------

  /** Appends a reasoning chain to an agent's list; it is loaded back with `stored_at`. */
  async storeReasoningChain(agentId: string, chainData: JsonObject): Promise<boolean> {
    validateId('agentId', agentId);
    const value = toJsonObject(chainData, recordText.reasoningChain(agentId));
    await this.runWrite(
      'storeReasoningChain',
      () => this.appendReasoningChain(agentId, buildChainRecord(value, nowTimestamp())),
      recordName('chainData', recordText.reasoningChain, agentId),
    );
    return true;
  }

  /** Loads an agent's chains oldest first; with `limit`, the most recent `limit`, still oldest first. */
  loadReasoningChains(agentId: string, limit?: number): Promise<JsonObject[]> {
    // Not `async` (see the core's getStorageStats): bad input is a rejection made here.
    try {
      validateId('agentId', agentId);
      const max = checkFor(recordText.reasoningChains(agentId), () => validateLimit(limit));
      return this.run('loadReasoningChains', () => this.readReasoningChains(agentId, max));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Deletes all reasoning chains of an agent; it is no longer listed. True also when absent. */
  async deleteReasoningChains(agentId: string): Promise<boolean> {
    validateId('agentId', agentId);
    await this.runWrite('deleteReasoningChains', () => this.removeReasoningChains(agentId));
    return true;
  }

  // ----- chunk info ----------------------------------------------------------------------

  /** Stores (replaces) the chunk info of a conversation. */
  async storeChunkInfo(conversationId: string, chunkData: JsonObject): Promise<boolean> {
    validateId('conversationId', conversationId);
    const what = recordText.chunkInfo(conversationId);
    const value = toJsonObject(chunkData, what);
    refuseReservedField(value, CHUNK_INFO_METADATA_FIELD, what);
    await this.runWrite(
      'storeChunkInfo',
      () => this.writeChunkInfo(conversationId, value),
      recordName('chunkData', recordText.chunkInfo, conversationId),
    );
    return true;
  }

  /** Loads chunk info exactly as stored, or `null`. */
  async loadChunkInfo(conversationId: string): Promise<JsonObject | null> {
    validateId('conversationId', conversationId);
    return this.run('loadChunkInfo', () => this.readChunkInfo(conversationId));
  }

  // ----- cache ---------------------------------------------------------------------------

  /** Stores a cache entry; `ttlSeconds` (positive) makes it expire, none means never. */
  async storeCacheEntry(
    cacheKey: string,
    cacheData: JsonObject,
    ttlSeconds?: number | null,
  ): Promise<boolean> {
    validateStoredKey('cacheKey', cacheKey);
    const what = (): string => recordText.cacheEntry(cacheKey);
    const ttl = validateTtl(ttlSeconds, what);
    const value = toJsonObject(cacheData, what);
    await this.runWrite(
      'storeCacheEntry',
      () => this.writeCacheRecord(cacheKey, buildCacheRecord(value, ttl, Date.now())),
      recordName('cacheData', recordText.cacheEntry, cacheKey),
    );
    return true;
  }

  /**
   * Stores a cache entry with the timestamps given (a copy that keeps the original `storedAt`
   * and `expiresAt` instants, written in the reference's format: `canonicalTimestamp`);
   * `expiresAt` must be after `storedAt`, or `null` for no expiry. A record already expired is
   * stored but never loaded.
   */
  async storeCacheRecord(cacheKey: string, record: CacheRecord): Promise<boolean> {
    validateStoredKey('cacheKey', cacheKey);
    const value = validateCacheRecord(cacheKey, record);
    await this.runWrite(
      'storeCacheRecord',
      () => this.writeCacheRecord(cacheKey, value),
      recordName('record', recordText.cacheEntry, cacheKey),
    );
    return true;
  }

  /** Loads a live cache entry's data, or `null` when missing or expired. */
  async loadCacheEntry(cacheKey: string): Promise<JsonObject | null> {
    return (await this.loadLiveCacheRecord(cacheKey, 'loadCacheEntry'))?.data ?? null;
  }

  /** Loads a live cache entry with its timestamps (for copies that keep the TTL), or `null`. */
  async loadCacheRecord(cacheKey: string): Promise<CacheRecord | null> {
    return this.loadLiveCacheRecord(cacheKey, 'loadCacheRecord');
  }

  /** Deletes a cache entry. True also when absent. */
  async deleteCacheEntry(cacheKey: string): Promise<boolean> {
    validateKey('cacheKey', cacheKey);
    await this.runWrite('deleteCacheEntry', () => this.removeCacheRecord(cacheKey));
    return true;
  }

  // ----- system state --------------------------------------------------------------------

  /** Stores (replaces) a system state object. */
  async storeSystemState(stateKey: string, stateData: JsonObject): Promise<boolean> {
    validateStoredKey('stateKey', stateKey);
    const value = toJsonObject(stateData, recordText.systemState(stateKey));
    await this.runWrite(
      'storeSystemState',
      () => this.writeSystemState(stateKey, value),
      recordName('stateData', recordText.systemState, stateKey),
    );
    return true;
  }

  /** Loads a system state object, or `null`. */
  async loadSystemState(stateKey: string): Promise<JsonObject | null> {
    validateKey('stateKey', stateKey);
    return this.run('loadSystemState', () => this.readSystemState(stateKey));
  }

  /** Deletes a system state object. True also when absent. */
  async deleteSystemState(stateKey: string): Promise<boolean> {
    validateKey('stateKey', stateKey);
    await this.runWrite('deleteSystemState', () => this.removeSystemState(stateKey));
    return true;
  }

  // ----- stats -------------------------------------------------------------------------

  /** Counts of everything stored (the same core keys in every backend) plus backend extras. */
  async getStorageStats(): Promise<StorageStats> {
    const snapshot: StatsSnapshot = await this.run('getStorageStats', () => this.collectStats(Date.now()));
    // Object.assign, not a literal with several spreads: V8 builds a literal of this size
    // (25+ keys) through a slow path, ~30 µs a call (measured), the cost of the SQL itself.
    const head = this.isReadOnly ? { read_only: true } : {};
    const core = { storage_type: this.storageType, timestamp: nowTimestamp() };
    return Object.assign({}, snapshot.extra, head, core, snapshot.counts);
  }

  // ----- shared helpers ------------------------------------------------------------------

  /** Loads a live cache record for public `method`, `null` when missing or expired. */
  protected async loadLiveCacheRecord(cacheKey: string, method: string): Promise<CacheRecord | null> {
    validateKey('cacheKey', cacheKey);
    const record = await this.run(method, () => this.readCacheRecord(cacheKey));
    if (record === null || isCacheExpired(record.expiresAt, Date.now())) return null;
    return record;
  }
}
