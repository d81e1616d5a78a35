/**
 * RedisStorage: the storage interface on Redis (or a Redis Cluster) through `ioredis`, with
 * Redis's own expiry for the cache. Key layout (v2, buckets): see `keys.ts`.
 */
import {
  type CacheRecord,
  type CacheRecordWrite,
  type ConversationWrite,
  type HealthProbe,
  type JsonObject,
  type JsonValue,
  type ListingName,
  type MemoryWrite,
  type NormalizedSearchQuery,
  NotInitializedError,
  type SearchCandidate,
  type SequencedChain,
  type SequencedChainRead,
  type StatsSnapshot,
  StorageInterface,
  logEvent,
  openPrepared,
  redactUrl,
} from '../../core/index.js';
import { readAllBuckets } from './bucket-index.js';
import { listLiveCacheKeys, purgeCacheIndex, writeCacheValue } from './cache.js';
import { decodeCacheRecord, decodeJson, decodeMemories, decodeObject } from './codec.js';
import { parseRedisConfig, type RedisStorageConfig, type ResolvedRedisConfig } from './config.js';
import { RedisConnection } from './connection.js';
import { conversationKeyList, KeyLayout } from './keys.js';
import { describeRedisStore, prepareLayout, RedisUpgradeRequiredError } from './layout.js';
import { REMOVE_CACHE } from './cache-scripts.js';
import { removeMemory, removeReasoningChains } from './deletes.js';
import { appendChainRecords, readSequencedChainRecords, trimChainRecords } from './chains.js';
import {
  READ_MEMORIES,
  READ_RAW,
  REMOVE_CONVERSATION,
  REMOVE_STRING,
  UPSERT_MEMORY,
  WRITE_RAW,
  WRITE_STRING,
} from './scripts.js';
import { collectRedisStats, probeRedisHealth } from './stats.js';
import { RedisSearchIndex } from './search-index.js';
import { searchOwner } from './search-lua.js';
import { readRedisIdPage, readRedisMemoryWindow, readRedisRawWindow } from './paging.js';
import * as batches from './batches.js';
import { writeConversationBatch } from './bulk-writes.js';

const q = (value: string): string => JSON.stringify(value);

/** Storage on Redis. Every write, with its index entries and counters, is one atomic script. */
export class RedisStorage extends StorageInterface {
  /** Backend name as registered in the factory. */
  readonly storageType = 'redis';

  /** One-line description for `getAvailableBackends()`. */
  static readonly description =
    'Redis via ioredis (server or Cluster): shared by many processes, native cache expiry';

  private readonly config: ResolvedRedisConfig;
  private readonly keys: KeyLayout;
  private connection: RedisConnection | undefined;
  /** Set by a read-only open of a v1 (or part-upgraded) store: every call rejects with it. */
  private pendingUpgrade: RedisUpgradeRequiredError | undefined;
  /** The native full-text index (see `search-index.ts`). */
  private readonly index: RedisSearchIndex;

  /** Validates the config (throws `ConfigError`); connects in `initialize()`. */
  constructor(config: RedisStorageConfig = {}) {
    super();
    this.config = parseRedisConfig(config);
    this.keys = new KeyLayout(this.config.keyPrefix);
    this.index = new RedisSearchIndex(this.keys, () => this.textExtractor, this.config.searchIndex);
  }

  /** The key prefix of this store. */
  get keyPrefix(): string {
    return this.keys.prefix;
  }

  private get redis(): RedisConnection {
    // Only reachable when shutdown() ran while a call was on its way.
    if (!this.connection) throw new NotInitializedError(this.storageType, 'a call', 'closed');
    if (this.pendingUpgrade) throw this.pendingUpgrade;
    return this.connection;
  }

  /** True when configured `readOnly`: opens a prefix holding a store only, and refuses every write. */
  override get isReadOnly(): boolean {
    return this.config.readOnly;
  }

  /** The `maxReasoningChainsPerAgent` option (`null`: no limit). */
  override get maxReasoningChainsPerAgent(): number | null {
    return this.config.maxReasoningChainsPerAgent;
  }

  protected override describeStore(): string {
    const label = this.config.client ? 'given ioredis client' : redactUrl(this.config.url);
    return describeRedisStore(this.connection?.label ?? label, this.keys.prefix);
  }

  protected async openStore(): Promise<void> {
    this.pendingUpgrade = undefined;
    let unindexed = false;
    this.connection = await openPrepared(
      () => RedisConnection.open(this.config),
      async (connection) => {
        // Read-only: nothing is created or upgraded; a missing store is refused. A v1 store
        // opens, and says it needs an upgrade: in health, and in every call that reads it.
        try {
          const prepare = () => prepareLayout(connection, this.keys.prefix, { write: true }).then(() => {});
          if (this.config.readOnly) await prepareLayout(connection, this.keys.prefix, { write: false });
          else unindexed = await this.index.open(connection, prepare);
        } catch (error) {
          if (!(error instanceof RedisUpgradeRequiredError)) throw error;
          this.pendingUpgrade = error;
        }
      },
    );
    // A writer builds the index of a store without one (upgraded from v1, written before the
    // index or with it off) and rebuilds buckets written with `searchIndex: false`.
    // A build that gives up (writers kept changing a bucket) leaves the bucket stale: searches
    // scan it, and the open still succeeds.
    if (!this.config.readOnly) {
      await this.index.catchUp(this.connection, unindexed, this.scanSource).catch((error: unknown) => {
        logEvent(this.config.logger, 'warn', 'redis storage: search index not rebuilt', {
          error: error instanceof Error ? error.message : String(error),
        });
      });
    }
  }

  protected async closeStore(): Promise<void> {
    const connection = this.connection;
    // Calls accepted before shutdown() finish first (close() drains them).
    await connection?.close();
    if (this.connection === connection) this.connection = undefined;
  }

  private loadObject(what: string, key: string): Promise<JsonObject | null> {
    return this.redis.run(`load ${what}`, (c) => c.get(key)).then((text) => decodeObject(text, key));
  }

  // ----- conversations, raw messages, chunk info ---------------------------------------

  protected async writeConversation(conversationId: string, data: JsonObject): Promise<void> {
    const k = this.keys.conversation(conversationId);
    const { counters, conversations, conversationIds } = k.bucket;
    const search = this.index.writer.recordArgs('conversations', conversationId, data);
    const args = [conversationId, JSON.stringify(data), 'conversations', ...search];
    const keys = [k.conversation, counters, conversations, conversationIds];
    await this.redis.script(`store conversation ${q(conversationId)}`, WRITE_STRING, keys, args);
  }

  protected readConversation(conversationId: string): Promise<JsonObject | null> {
    const key = this.keys.conversation(conversationId).conversation;
    return this.loadObject(`conversation ${q(conversationId)}`, key);
  }

  protected listConversationIds(): Promise<string[]> {
    return readAllBuckets(this.redis, this.keys, (bucket) => bucket.conversations);
  }

  protected listStoredConversationIds(): Promise<string[]> {
    return readAllBuckets(this.redis, this.keys, (bucket) => bucket.conversationIds);
  }

  protected async removeConversation(conversationId: string): Promise<void> {
    const k = this.keys.conversation(conversationId);
    const { conversations, conversationIds, counters } = k.bucket;
    const keys = [...conversationKeyList(k), conversations, conversationIds, counters];
    const args = [conversationId, this.index.writer.flag, searchOwner(conversationId)];
    await this.redis.script(`delete conversation ${q(conversationId)}`, REMOVE_CONVERSATION, keys, args);
  }

  protected async writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void> {
    const k = this.keys.conversation(conversationId);
    const keys = [k.raw, k.meta, k.bucket.conversationIds, k.bucket.counters];
    const args = this.index.writer.rawArgs(conversationId, messages);
    await this.redis.script(`store raw messages of ${q(conversationId)}`, WRITE_RAW, keys, args);
  }

  protected async readRawMessages(conversationId: string): Promise<JsonValue[] | null> {
    const k = this.keys.conversation(conversationId);
    const what = `load raw messages of ${q(conversationId)}`;
    const items = (await this.redis.script(what, READ_RAW, [k.raw, k.meta], [0, -1])) as string[] | null;
    return items === null ? null : items.map((json, i) => decodeJson(json, `${k.raw} item ${i}`));
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
    const what = `memory ${q(memory.memoryId)} of ${q(conversationId)}`;
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
    await this.redis.script(`store ${what}`, UPSERT_MEMORY, keys, args);
  }

  protected override writeConversationBatch(writes: readonly ConversationWrite[]): Promise<void> {
    return writeConversationBatch(writes, {
      conversation: (id, data) => this.writeConversation(id, data),
      rawMessages: (id, messages) => this.writeRawMessages(id, messages),
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

  protected async readMemories(conversationId: string): Promise<JsonObject[]> {
    const k = this.keys.conversation(conversationId);
    const flat = (await this.redis.script(
      `load memories of ${q(conversationId)}`,
      READ_MEMORIES,
      [k.memories, k.memoryData, k.memoryCreated],
      [0, -1],
    )) as Array<string | null>;
    return decodeMemories(flat, k);
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
  ): Promise<SequencedChain[]> {
    return readSequencedChainRecords(this.redis, this.keys.agent(agentId), agentId, read);
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
      `cache entry ${q(cacheKey)}`,
      cacheKey,
      this.keys.cache(cacheKey),
      record,
    );
  }

  protected async readCacheRecord(cacheKey: string): Promise<CacheRecord | null> {
    const { key } = this.keys.cache(cacheKey);
    return decodeCacheRecord(await this.redis.run(`load cache entry ${q(cacheKey)}`, (c) => c.get(key)), key);
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

  // ----- paging (see paging.ts) --------------------------------------------------------

  protected override readIdPage(listing: ListingName, after: string | null, limit: number, nowMs: number) {
    return readRedisIdPage(this.redis, this.keys, listing, { after, limit, nowMs });
  }

  protected override readRawMessagesWindow(conversationId: string, offset: number, limit: number | null) {
    const k = this.keys.conversation(conversationId);
    return readRedisRawWindow(this.redis, k, conversationId, { offset, limit });
  }

  protected override readMemoriesWindow(conversationId: string, offset: number, limit: number | null) {
    const k = this.keys.conversation(conversationId);
    return readRedisMemoryWindow(this.redis, k, conversationId, { offset, limit });
  }

  // ----- search (see search-index.ts) -------------------------------------------------

  private readonly scanSource = {
    readConversation: (id: string) => this.readConversation(id),
    readRawMessages: (id: string) => this.readRawMessages(id),
    readMemories: (id: string) => this.readMemories(id),
    readChunkInfo: (id: string) => this.readChunkInfo(id),
  };

  protected override async searchIndex(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    // Not trusted (off, not built, or a bucket written with the index off): the default scan.
    return (await this.index.search(this.redis, query)) ?? super.searchIndex(query);
  }

  protected override rebuildSearchIndex(): Promise<number> {
    return this.index.rebuild(this.redis, this.scanSource);
  }

  // ----- health and stats --------------------------------------------------------------

  protected async probeHealth(): Promise<HealthProbe> {
    const upgrade = this.pendingUpgrade;
    if (upgrade) {
      return {
        healthy: false,
        error: upgrade.message,
        details: { needs_upgrade: true, layout: upgrade.layout, key_prefix: this.keys.prefix },
      };
    }
    return probeRedisHealth(this.redis, this.keys);
  }

  protected collectStats(nowMs: number): Promise<StatsSnapshot> {
    return collectRedisStats(this.redis, this.keys, nowMs);
  }
}
