/**
 * RedisStorage: the storage interface on Redis (or a Redis Cluster) through `ioredis`, with
 * Redis's own expiry for the cache. Key layout (v2, buckets): see `keys.ts`.
 */
import {
  type CacheRecord,
  type CacheRecordWrite,
  type ConversationWrite,
  type JsonObject,
  type JsonValue,
  MAX_BATCH_ITEMS,
  type MemoryWrite,
  parseEach,
  type SequencedChain,
  type SequencedChainRead,
  type SkipItem,
} from '../../core/index.js';
import { readAllBuckets, readIndexZset } from './bucket-index.js';
import { listLiveCacheKeys, purgeCacheIndex, writeCacheValue } from './cache.js';
import { decodeCacheRecord, decodeJson, decodeMemories, decodeObject } from './codec.js';
import type { RedisStorageConfig } from './config.js';
import { conversationKeyList, writeRawKeys } from './keys.js';
import { REMOVE_CACHE } from './cache-scripts.js';
import { removeMemories, removeMemory, removeReasoningChains } from './deletes.js';
import { appendChainRecords, readSequencedChainRecords, trimChainRecords } from './chains.js';
import { READ_RAW, REMOVE_CONVERSATION, REMOVE_STRING, WRITE_RAW, WRITE_STRING } from './record-scripts.js';
import { READ_MEMORIES, UPSERT_MEMORY } from './memory-scripts.js';
import { searchOwner } from './search-writer.js';
import * as batches from './batches.js';
import { writeConversationBatch } from './bulk-writes.js';
import { RedisStorageBase } from './redis-base.js';
import { quoteName } from '../../core/shown-text.js';

const q = quoteName;

/** Storage on Redis. Every write, with its index entries and counters, is one atomic script. */
export class RedisStorage extends RedisStorageBase {
  /** Backend name as registered in the factory. */
  readonly storageType = 'redis';

  /** One-line description for `getAvailableBackends()`. */
  static readonly description =
    'Redis via ioredis (server or Cluster): shared by many processes, native cache expiry';

  /** Validates the config (throws `ConfigError`); connects in `initialize()`. */
  constructor(config: RedisStorageConfig = {}) {
    super(config);
  }

  // A conversation batch read makes every id's reads at once: the client corks its socket per
  // tick, so they leave in one write (64 ids: ~7.5 ms against ~11 four ids at a time).
  protected override readonly conversationReadConcurrency = MAX_BATCH_ITEMS;

  // ----- conversations, raw messages, chunk info ---------------------------------------

  protected async writeConversation(conversationId: string, data: JsonObject): Promise<void> {
    const k = this.keys.conversation(conversationId);
    const { counters, conversations, conversationIds } = k.bucket;
    const search = this.index.writer.recordArgs('conversations', conversationId, data);
    const args = [conversationId, JSON.stringify(data), 'conversations', ...search];
    const keys = [k.conversation, counters, conversations, conversationIds];
    await this.redis.script(() => `store conversation ${q(conversationId)}`, WRITE_STRING, keys, args);
  }

  protected readConversation(conversationId: string): Promise<JsonObject | null> {
    const key = this.keys.conversation(conversationId).conversation;
    return this.loadObject(() => `conversation ${q(conversationId)}`, key);
  }

  protected listConversationIds(): Promise<string[]> {
    return readAllBuckets(this.redis, this.keys, (bucket) => bucket.conversations);
  }

  protected async listStoredConversationIds(): Promise<string[]> {
    const keep = this.conversationIdFilter();
    if (keep === undefined) return readAllBuckets(this.redis, this.keys, (bucket) => bucket.conversationIds);
    // Filtered per bucket: a script's keys are one bucket's (one Cluster slot).
    const lists = await Promise.all(
      this.keys.buckets.map(async (bucket) => keep(await readIndexZset(this.redis, bucket.conversationIds))),
    );
    return lists.flat();
  }

  protected async removeConversation(conversationId: string): Promise<void> {
    const k = this.keys.conversation(conversationId);
    const { conversations, conversationIds, counters } = k.bucket;
    const keys = [...conversationKeyList(k), conversations, conversationIds, counters];
    const args = [conversationId, this.index.writer.flag, searchOwner(conversationId)];
    await this.redis.script(`delete conversation ${q(conversationId)}`, REMOVE_CONVERSATION, keys, args);
  }

  /** Stores a list; `remember: false` for a batch's lists (see `SearchWriter.rawArgs`). */
  protected async writeRawMessages(
    conversationId: string,
    messages: JsonValue[],
    remember = true,
  ): Promise<void> {
    const k = this.keys.conversation(conversationId);
    const args = this.index.writer.rawArgs(conversationId, messages, remember);
    await this.redis.script(`store raw messages of ${q(conversationId)}`, WRITE_RAW, writeRawKeys(k), args);
  }

  protected async readRawMessages(conversationId: string, skip?: SkipItem): Promise<JsonValue[] | null> {
    const k = this.keys.conversation(conversationId);
    const what = `load raw messages of ${q(conversationId)}`;
    const items = (await this.redis.script(what, READ_RAW, [k.raw, k.meta], [0, -1])) as string[] | null;
    return items === null
      ? null
      : parseEach(items, skip, (json, i) => decodeJson(json, `${k.raw} item ${i}`));
  }

  protected async writeChunkInfo(conversationId: string, data: JsonObject): Promise<void> {
    const k = this.keys.conversation(conversationId);
    const keys = [k.chunks, k.bucket.counters, k.bucket.conversationIds];
    const search = this.index.writer.recordArgs('chunk_info', conversationId, data);
    const args = [conversationId, JSON.stringify(data), 'chunk_infos', ...search];
    await this.redis.script(`store chunk info of ${q(conversationId)}`, WRITE_STRING, keys, args);
  }

  protected readChunkInfo(conversationId: string): Promise<JsonObject | null> {
    return this.loadObject(
      `chunk info of ${q(conversationId)}`,
      this.keys.conversation(conversationId).chunks,
    );
  }

  // ----- memories and reasoning chains -------------------------------------------------

  protected async upsertMemory(conversationId: string, memory: MemoryWrite): Promise<void> {
    const k = this.keys.conversation(conversationId);
    // created_at is kept apart as JSON text, so a replace can keep the old one atomically (D7).
    const createdAt = JSON.stringify(memory.record.created_at ?? null);
    const args = [
      memory.memoryId,
      JSON.stringify(memory.record),
      createdAt,
      memory.explicitCreatedAt ? '1' : '0',
      conversationId,
      this.index.writer.flag,
      searchOwner(conversationId),
      this.index.writer.spec('memories', memory.record),
    ];
    const keys = [k.memories, k.memoryData, k.memoryCreated, k.bucket.conversationIds, k.bucket.counters];
    const what = (): string => `store memory ${q(memory.memoryId)} of ${q(conversationId)}`;
    await this.redis.script(what, UPSERT_MEMORY, keys, args);
  }

  protected override writeConversationBatch(writes: readonly ConversationWrite[]): Promise<void> {
    return writeConversationBatch(writes, {
      conversation: (id, data) => this.writeConversation(id, data),
      rawMessages: (id, messages) => this.writeRawMessages(id, messages, false),
      memories: (id, memories) => this.upsertMemoryBatch(id, memories),
      chunkInfo: (id, data) => this.writeChunkInfo(id, data),
    });
  }

  protected override upsertMemoryBatch(
    conversationId: string,
    writes: readonly MemoryWrite[],
  ): Promise<void> {
    return batches.upsertMemoryBatch(this.redis, this.keys, this.index.writer, conversationId, writes);
  }

  protected removeMemory(conversationId: string, memoryId: string): Promise<void> {
    const k = this.keys.conversation(conversationId);
    return removeMemory(this.redis, k, this.index.writer, conversationId, memoryId);
  }

  protected override removeMemoryBatch(conversationId: string, memoryIds: readonly string[]): Promise<void> {
    const k = this.keys.conversation(conversationId);
    return removeMemories(this.redis, k, this.index.writer, conversationId, memoryIds);
  }

  protected async readMemories(conversationId: string, skip?: SkipItem): Promise<JsonObject[]> {
    const k = this.keys.conversation(conversationId);
    const flat = (await this.redis.script(
      `load memories of ${q(conversationId)}`,
      READ_MEMORIES,
      [k.memories, k.memoryData, k.memoryCreated],
      [0, -1],
    )) as Array<string | null>;
    return decodeMemories(flat, k, conversationId, skip);
  }

  protected appendReasoningChain(agentId: string, record: JsonObject): Promise<void> {
    return this.addReasoningChainBatch(agentId, [record]);
  }

  /** Appends and trims to `maxReasoningChainsPerAgent` in one script, as a single append. */
  protected override async addReasoningChainBatch(
    agentId: string,
    records: readonly JsonObject[],
  ): Promise<void> {
    const keep = this.maxReasoningChainsPerAgent;
    await appendChainRecords(this.redis, this.keys.agent(agentId), this.index.writer, agentId, records, keep);
  }

  protected override readSequencedChains(
    agentId: string,
    read: SequencedChainRead,
    skip?: SkipItem,
  ): Promise<SequencedChain[]> {
    return readSequencedChainRecords(this.redis, this.keys.agent(agentId), agentId, read, skip);
  }

  protected override keepLastChains(agentId: string, keepLast: number): Promise<number> {
    return trimChainRecords(this.redis, this.keys.agent(agentId), this.index.writer, agentId, keepLast);
  }

  protected async readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    const key = this.keys.agent(agentId).chains;
    const items = await this.redis.run(`load reasoning chains of ${q(agentId)}`, (c) =>
      c.lrange(key, limit === null ? 0 : -limit, -1),
    );
    return items.map((json, i) => decodeObject(json, `${key} item ${i}`) as JsonObject);
  }

  protected removeReasoningChains(agentId: string): Promise<void> {
    return removeReasoningChains(this.redis, this.keys.agent(agentId), this.index.writer, agentId);
  }

  protected listAgentIds(): Promise<string[]> {
    return readAllBuckets(this.redis, this.keys, (bucket) => bucket.agents);
  }

  // ----- cache (Redis expires entries itself: see cache.ts) ----------------------------

  protected writeCacheRecord(cacheKey: string, record: CacheRecord): Promise<void> {
    return writeCacheValue(
      this.redis,
      () => `store cache entry ${q(cacheKey)}`,
      cacheKey,
      this.keys.cache(cacheKey),
      record,
    );
  }

  protected async readCacheRecord(cacheKey: string): Promise<CacheRecord | null> {
    const { key } = this.keys.cache(cacheKey);
    const text = await this.redis.run(
      () => `load cache entry ${q(cacheKey)}`,
      (c) => c.get(key),
    );
    return decodeCacheRecord(text, key);
  }

  protected override writeCacheRecordBatch(
    method: string,
    writes: readonly CacheRecordWrite[],
  ): Promise<void> {
    return batches.writeCacheRecordBatch(this.redis, this.keys, method, writes);
  }

  protected override readCacheRecordBatch(keys: readonly string[]): Promise<Array<CacheRecord | null>> {
    return batches.readCacheRecordBatch(this.redis, this.keys, keys);
  }

  protected async removeCacheRecord(cacheKey: string): Promise<void> {
    const { key, bucket } = this.keys.cache(cacheKey);
    const keys = [key, bucket.cacheKeys, bucket.cacheExpiry];
    await this.redis.script(`delete cache entry ${q(cacheKey)}`, REMOVE_CACHE, keys, [cacheKey]);
  }

  protected override removeCacheRecordBatch(keys: readonly string[]): Promise<void> {
    return batches.removeCacheRecordBatch(this.redis, this.keys, keys);
  }

  protected listLiveCacheKeys(nowMs: number): Promise<string[]> {
    return listLiveCacheKeys(this.redis, this.keys, nowMs);
  }

  protected removeExpiredCache(nowMs: number): Promise<number> {
    return purgeCacheIndex(this.redis, this.keys, nowMs);
  }

  // ----- system state ------------------------------------------------------------------

  protected async writeSystemState(stateKey: string, data: JsonObject): Promise<void> {
    const { key, bucket } = this.keys.state(stateKey);
    const args = [stateKey, JSON.stringify(data), 'states'];
    await this.redis.script(
      `store system state ${q(stateKey)}`,
      WRITE_STRING,
      [key, bucket.counters, bucket.stateKeys],
      args,
    );
  }

  protected readSystemState(stateKey: string): Promise<JsonObject | null> {
    return this.loadObject(`system state ${q(stateKey)}`, this.keys.state(stateKey).key);
  }

  protected async removeSystemState(stateKey: string): Promise<void> {
    const { key, bucket } = this.keys.state(stateKey);
    const keys = [key, bucket.counters, bucket.stateKeys];
    await this.redis.script(`delete system state ${q(stateKey)}`, REMOVE_STRING, keys, [stateKey, 'states']);
  }

  protected listStateKeys(): Promise<string[]> {
    return readAllBuckets(this.redis, this.keys, (bucket) => bucket.stateKeys);
  }
}
