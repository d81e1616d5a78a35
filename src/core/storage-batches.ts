/**
 * Batch writes, deletes and reads (many records per call, done natively by each backend).
 * Every item is validated before any I/O, so a batch that fails validation writes nothing; the
 * result equals the same single calls in a loop (memory upsert in place, insertion order, last
 * write wins for a cache key, an absent key's delete is no error). The protected batch
 * primitives have defaults built on the single-record primitives (a registered backend keeps
 * working); the built-in backends override them.
 */
import {
  applyInOrder,
  atItem,
  type CacheEntryBatchItem,
  type CacheRecordBatchItem,
  type CacheRecordWrite,
  checkBatch,
  itemFields,
  MEMORY_ITEM_FIELDS,
  type MemoryBatchItem,
} from './batches.js';
import { mapConcurrent } from './concurrency.js';
import { refuseUnknownFields, validateId, validateKey, validateStoredKey, validateTtl } from './ids.js';
import { type JsonObject, toJsonObject } from './json.js';
import {
  buildCacheRecord,
  buildChainRecord,
  buildMemoryWrite,
  type CacheEntryRead,
  type CacheRecord,
  isCacheExpired,
  type MemoryWrite,
  validateCacheRecord,
} from './records.js';
import { batchName, recordText } from './record-names.js';
import { RecordStorage } from './storage-records.js';
import { nowTimestamp } from './time.js';

/** The fields of a `storeCacheEntries` item; any other is refused (a misspelt `ttlSeconds`). */
const CACHE_ENTRY_FIELDS = ['key', 'data', 'ttlSeconds'] as const;
/** The fields of a `storeCacheRecords` item. */
const CACHE_RECORD_FIELDS = ['key', 'data', 'storedAt', 'expiresAt'] as const;

/** How many single reads the default `readCacheRecordBatch` runs at once. */
const DEFAULT_READ_CONCURRENCY = 8;

/** Batch writes and reads (many records per call, done natively by each backend). Extend `StorageInterface`, not this. */
export abstract class BatchStorage extends RecordStorage {
  // ----- public API ----------------------------------------------------------------------

  /**
   * Stores many memories of one conversation, in order; each as `storeMemory` would (an
   * existing id is replaced in place). Returns how many items were given.
   */
  async storeMemories(conversationId: string, memories: readonly MemoryBatchItem[]): Promise<number> {
    const method = 'storeMemories';
    validateId('conversationId', conversationId);
    const now = nowTimestamp();
    const writes = checkBatch<unknown>(method, 'memories', memories).map((item, index) =>
      atItem(method, index, () => {
        const { memoryId, data } = itemFields(item, MEMORY_ITEM_FIELDS);
        validateId('memoryId', memoryId);
        const what = recordText.memoryById(memoryId);
        refuseUnknownFields(item, MEMORY_ITEM_FIELDS, what);
        return buildMemoryWrite(memoryId, toJsonObject(data, what), now);
      }),
    );
    await this.runWrite(
      method,
      async () => {
        if (writes.length > 0) await this.upsertMemoryBatch(conversationId, writes);
      },
      batchName('memories', writes.length, recordText.memory, conversationId, writes[0]?.memoryId ?? ''),
    );
    return writes.length;
  }

  /**
   * Deletes many memories of one conversation, as `deleteMemory` would each: an absent id, or
   * one given twice, is fine, and the others keep their order. Returns how many ids were given.
   * Every id is validated before any I/O.
   */
  async deleteMemories(conversationId: string, memoryIds: readonly string[]): Promise<number> {
    const method = 'deleteMemories';
    const ids = this.checkMemoryIds(method, conversationId, memoryIds);
    await this.runWrite(
      method,
      async () => {
        if (ids.length > 0) await this.removeMemoryBatch(conversationId, ids);
      },
      batchName('memoryIds', ids.length, recordText.memory, conversationId, ids[0] ?? ''),
    );
    return ids.length;
  }

  /** Appends many reasoning chains to an agent's list, in order, as `storeReasoningChain` would. Returns how many. */
  async appendReasoningChains(agentId: string, chains: readonly JsonObject[]): Promise<number> {
    const method = 'appendReasoningChains';
    validateId('agentId', agentId);
    const now = nowTimestamp();
    const records = checkBatch<unknown>(method, 'chains', chains).map((chain, index) =>
      atItem(method, index, () =>
        buildChainRecord(toJsonObject(chain, recordText.reasoningChain(agentId)), now),
      ),
    );
    await this.runWrite(
      method,
      async () => {
        if (records.length > 0) await this.addReasoningChainBatch(agentId, records);
      },
      batchName('chains', records.length, recordText.chainOfAgent, agentId),
    );
    return records.length;
  }

  /** Stores many cache entries, as `storeCacheEntry` would each (a key given twice: the last wins). Returns how many. */
  async storeCacheEntries(entries: readonly CacheEntryBatchItem[]): Promise<number> {
    const method = 'storeCacheEntries';
    const nowMs = Date.now();
    const writes = checkBatch<unknown>(method, 'entries', entries).map((item, index) =>
      atItem(method, index, (): CacheRecordWrite => {
        const { key, data, ttlSeconds } = itemFields(item, CACHE_ENTRY_FIELDS);
        validateStoredKey('cacheKey', key);
        const what = recordText.cacheEntry(key);
        refuseUnknownFields(item, CACHE_ENTRY_FIELDS, what);
        const ttl = validateTtl(ttlSeconds, what);
        const value = toJsonObject(data, what);
        return { key, record: buildCacheRecord(value, ttl, nowMs), index };
      }),
    );
    return this.writeCacheBatch(method, writes);
  }

  /**
   * Stores many cache records with their own timestamps, as `storeCacheRecord` would each (a
   * key given twice: the last wins). Returns how many.
   */
  async storeCacheRecords(records: readonly CacheRecordBatchItem[]): Promise<number> {
    const method = 'storeCacheRecords';
    const writes = checkBatch<unknown>(method, 'records', records).map((item, index) =>
      atItem(method, index, (): CacheRecordWrite => {
        const { key, ...fields } = itemFields(item, CACHE_RECORD_FIELDS);
        validateStoredKey('cacheKey', key);
        refuseUnknownFields(item, CACHE_RECORD_FIELDS, recordText.cacheEntry(key));
        return { key, record: validateCacheRecord(key, fields), index };
      }),
    );
    return this.writeCacheBatch(method, writes);
  }

  /**
   * Deletes many cache entries, as `deleteCacheEntry` would each: an absent key, or one given
   * twice, is fine. Returns how many keys were given. Every key is validated before any I/O.
   */
  async deleteCacheEntries(keys: readonly string[]): Promise<number> {
    const method = 'deleteCacheEntries';
    const valid = this.checkKeys(method, keys);
    await this.runWrite(
      method,
      async () => {
        if (valid.length > 0) await this.removeCacheRecordBatch(valid);
      },
      batchName('keys', valid.length, recordText.cacheKey, valid[0] ?? ''),
    );
    return valid.length;
  }

  /** Loads many live cache entries' data: an array aligned with `keys`, `null` for missing or expired. */
  async loadCacheEntries(keys: readonly string[]): Promise<Array<JsonObject | null>> {
    const entries = await this.loadLive(keys, 'loadCacheEntries', (valid) => this.readCacheEntryBatch(valid));
    return entries.map((entry) => entry?.data ?? null);
  }

  /** Loads many live cache records with their timestamps: aligned with `keys`, `null` for missing or expired. */
  async loadCacheRecords(keys: readonly string[]): Promise<Array<CacheRecord | null>> {
    return this.loadLive(keys, 'loadCacheRecords', (valid) => this.readCacheRecordBatch(valid));
  }

  // ----- batch primitives (defaults: the single primitives in a loop) --------------------

  /**
   * Upserts memories in order (non-empty, validated; an id may repeat). Default: `upsertMemory`
   * per item; a failure after the first rejects with `BatchPartiallyAppliedError` (a prefix).
   */
  protected upsertMemoryBatch(conversationId: string, writes: readonly MemoryWrite[]): Promise<void> {
    return applyInOrder('storeMemories', writes, (write) => this.upsertMemory(conversationId, write));
  }

  /**
   * Deletes the memories `memoryIds` (non-empty, validated; an id may repeat, an absent id is
   * no error) of a conversation. Default: `removeMemory` per id, prefix on failure.
   */
  protected removeMemoryBatch(conversationId: string, memoryIds: readonly string[]): Promise<void> {
    return applyInOrder('deleteMemories', memoryIds, (memoryId) =>
      this.removeMemory(conversationId, memoryId),
    );
  }

  /** Appends chain records in order (non-empty). Default: `appendReasoningChain` per item, prefix on failure. */
  protected addReasoningChainBatch(agentId: string, records: readonly JsonObject[]): Promise<void> {
    return applyInOrder('appendReasoningChains', records, (record) =>
      this.appendReasoningChain(agentId, record),
    );
  }

  /**
   * Writes cache records in order (non-empty; a key may repeat, the last wins) for public
   * `method`. Default: `writeCacheRecord` per item, prefix on failure.
   */
  protected writeCacheRecordBatch(method: string, writes: readonly CacheRecordWrite[]): Promise<void> {
    return applyInOrder(method, writes, (write) => this.writeCacheRecord(write.key, write.record));
  }

  /**
   * Deletes the entries of `keys` (non-empty, validated; a key may repeat, an absent key is no
   * error). Default: `removeCacheRecord` per key, prefix on failure.
   */
  protected removeCacheRecordBatch(keys: readonly string[]): Promise<void> {
    return applyInOrder('deleteCacheEntries', keys, (key) => this.removeCacheRecord(key));
  }

  /** The stored records of `keys` (non-empty), expired or not, aligned with `keys`. Default: `readCacheRecord` per key. */
  protected readCacheRecordBatch(keys: readonly string[]): Promise<Array<CacheRecord | null>> {
    return mapConcurrent(keys, DEFAULT_READ_CONCURRENCY, (key) => this.readCacheRecord(key));
  }

  /**
   * The stored data and expiry of `keys` (non-empty), expired or not, aligned with `keys`: what
   * `loadCacheEntries` needs. Default: `readCacheRecordBatch`; a backend overrides it when
   * leaving out the write's timestamp makes the read cheaper.
   */
  protected readCacheEntryBatch(keys: readonly string[]): Promise<Array<CacheEntryRead | null>> {
    return this.readCacheRecordBatch(keys);
  }

  // ----- helpers ---------------------------------------------------------------------------

  private async writeCacheBatch(method: string, writes: CacheRecordWrite[]): Promise<number> {
    const field = method === 'storeCacheRecords' ? 'records' : 'entries';
    await this.runWrite(
      method,
      async () => {
        if (writes.length > 0) await this.writeCacheRecordBatch(method, writes);
      },
      batchName(field, writes.length, recordText.cacheKey, writes[0]?.key ?? ''),
    );
    return writes.length;
  }

  /** A copy of `keys`, each validated as the single calls' `cacheKey` (the error names the item). */
  private checkKeys(method: string, keys: readonly string[]): string[] {
    const checked = checkBatch<unknown>(method, 'keys', keys);
    checked.forEach((key, index) => atItem(method, index, () => validateKey('cacheKey', key)));
    return checked as string[];
  }

  /**
   * The conversation id and a copy of `memoryIds`, each validated as `deleteMemory`'s (the
   * error names the item). Protected: the semantic layer validates before taking its lock.
   */
  protected checkMemoryIds(method: string, conversationId: string, memoryIds: readonly string[]): string[] {
    validateId('conversationId', conversationId);
    const checked = checkBatch<unknown>(method, 'memoryIds', memoryIds);
    checked.forEach((memoryId, index) => atItem(method, index, () => validateId('memoryId', memoryId)));
    return checked as string[];
  }

  /** Validates `keys`, reads them with `read` and drops the expired: aligned with `keys`. */
  private async loadLive<T extends CacheEntryRead>(
    keys: readonly string[],
    method: string,
    read: (keys: string[]) => Promise<Array<T | null>>,
  ): Promise<Array<T | null>> {
    const valid = this.checkKeys(method, keys);
    const entries = await this.run(method, async () => (valid.length === 0 ? [] : read(valid)));
    const nowMs = Date.now();
    return entries.map((entry) => (entry === null || isCacheExpired(entry.expiresAt, nowMs) ? null : entry));
  }
}
