/**
 * RedisStorage: the storage interface on Redis (or a Redis Cluster) through `ioredis`, with
 * Redis's own expiry for the cache. Key layout: see `keys.ts`.
 */
import { randomUUID } from 'node:crypto';
import {
  type CacheRecord,
  type HealthProbe,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
  NotInitializedError,
  type StatsSnapshot,
  StorageInterface,
  openPrepared,
  redactUrl,
} from '../../core/index.js';
import { isLiveCacheEntry, removeStaleCacheIndexEntries, writeCacheValue } from './cache.js';
import { decodeArray, decodeCacheRecord, decodeMemories, decodeObject } from './codec.js';
import { parseRedisConfig, type RedisStorageConfig, type ResolvedRedisConfig } from './config.js';
import { RedisConnection } from './connection.js';
import { liveMembers } from './index-sets.js';
import { conversationKeyList, KeyLayout } from './keys.js';
import { checkLayoutVersion, describeRedisStore } from './layout-version.js';
import { ADD_TO_SETS, APPEND_CHAIN, READ_MEMORIES, REMOVE_FROM_SETS, UPSERT_MEMORY } from './scripts.js';
import { collectRedisStats, probeRedisHealth } from './stats.js';

/** How long a chain-append token is remembered, so a resent append lands once (ms). */
const APPEND_TOKEN_TTL_MS = 60 * 60 * 1000;

const q = (value: string): string => JSON.stringify(value);

/** Storage on Redis. Every multi-key write on one conversation or agent is atomic. */
export class RedisStorage extends StorageInterface {
  /** Backend name as registered in the factory. */
  readonly storageType = 'redis';

  /** One-line description for `getAvailableBackends()`. */
  static readonly description =
    'Redis via ioredis (server or Cluster): shared by many processes, native cache expiry';

  private readonly config: ResolvedRedisConfig;
  private readonly keys: KeyLayout;
  private connection: RedisConnection | undefined;

  /** Validates the config (throws `ConfigError`); connects in `initialize()`. */
  constructor(config: RedisStorageConfig = {}) {
    super();
    this.config = parseRedisConfig(config);
    this.keys = new KeyLayout(this.config.keyPrefix);
  }

  /** The key prefix of this store. */
  get keyPrefix(): string {
    return this.keys.prefix;
  }

  private get redis(): RedisConnection {
    // Only reachable when shutdown() ran while a call was on its way.
    if (!this.connection) throw new NotInitializedError(this.storageType, 'a call', 'closed');
    return this.connection;
  }

  /** True when configured `readOnly`: opens a prefix holding a store only, and refuses every write. */
  override get isReadOnly(): boolean {
    return this.config.readOnly;
  }

  protected override describeStore(): string {
    const label = this.config.client ? 'given ioredis client' : redactUrl(this.config.url);
    return describeRedisStore(this.connection?.label ?? label, this.keys);
  }

  protected async openStore(): Promise<void> {
    this.connection = await openPrepared(
      () => RedisConnection.open(this.config),
      (connection) => checkLayoutVersion(connection, this.keys, this.config.readOnly),
    );
  }

  protected async closeStore(): Promise<void> {
    const connection = this.connection;
    // Calls accepted before shutdown() finish first (close() drains them); they still need
    // the connection for their later steps, so it is forgotten only afterwards.
    await connection?.close();
    if (this.connection === connection) this.connection = undefined;
  }

  private addToIndex(what: string, sets: string[], member: string): Promise<unknown> {
    return this.redis.script(`index ${what}`, ADD_TO_SETS, sets, [member]);
  }

  /**
   * Runs a data write, then adds its index entry, so a listed entry always has its data
   * (see `keys.ts`). The entry is also sent with the write: a write that times out can
   * still land later (a paused server, a given client's offline queue or resend) and then
   * it is indexed too. The add after the write covers a delete that ran in between.
   */
  private async writeIndexed(what: string, write: () => Promise<unknown>, sets: string[], member: string) {
    const [, written] = await Promise.allSettled([this.addToIndex(what, sets, member), write()]);
    if (written.status === 'rejected') throw written.reason;
    await this.addToIndex(what, sets, member);
  }

  /** Writes a JSON value and indexes it (see {@link writeIndexed}). */
  private storeIndexed(what: string, key: string, value: JsonValue, sets: string[], member: string) {
    const json = JSON.stringify(value);
    const write = () => this.redis.run(`store ${what}`, (c) => c.set(key, json));
    return this.writeIndexed(what, write, sets, member);
  }

  /** Removes the index entry first, then the data: one DEL, so keys of one slot go at once. */
  private async removeIndexed(what: string, sets: string[], member: string, keys: string[]) {
    await this.redis.script(`unindex ${what}`, REMOVE_FROM_SETS, sets, [member]);
    await this.redis.run(`delete ${what}`, (c) => c.del(...keys));
  }

  private async loadObject(what: string, key: string): Promise<JsonObject | null> {
    return decodeObject(await this.redis.run(`load ${what}`, (c) => c.get(key)), key);
  }

  private async exists(what: string, ...keys: string[]): Promise<boolean> {
    return (await this.redis.run(`check ${what}`, (c) => c.exists(...keys))) > 0;
  }

  // ----- conversations, raw messages, chunk info ---------------------------------------

  protected writeConversation(conversationId: string, data: JsonObject): Promise<void> {
    const { conversations, conversationIds } = this.keys.index;
    const key = this.keys.conversation(conversationId).conversation;
    const what = `conversation ${q(conversationId)}`;
    return this.storeIndexed(what, key, data, [conversations, conversationIds], conversationId);
  }

  protected readConversation(conversationId: string): Promise<JsonObject | null> {
    const key = this.keys.conversation(conversationId).conversation;
    return this.loadObject(`conversation ${q(conversationId)}`, key);
  }

  protected listConversationIds(): Promise<string[]> {
    return liveMembers(this.redis, this.keys.index.conversations, (id) =>
      this.exists(`conversation ${q(id)}`, this.keys.conversation(id).conversation),
    );
  }

  protected listStoredConversationIds(): Promise<string[]> {
    return liveMembers(this.redis, this.keys.index.conversationIds, (id) => {
      const k = this.keys.conversation(id);
      return this.exists(`conversation ${q(id)}`, k.conversation, k.raw, k.chunks, k.memories);
    });
  }

  protected removeConversation(conversationId: string): Promise<void> {
    const { conversations, conversationIds } = this.keys.index;
    const keys = conversationKeyList(this.keys.conversation(conversationId));
    const what = `conversation ${q(conversationId)}`;
    return this.removeIndexed(what, [conversations, conversationIds], conversationId, keys);
  }

  protected async writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void> {
    const what = `raw messages of ${q(conversationId)}`;
    const key = this.keys.conversation(conversationId).raw;
    const json = JSON.stringify(messages);
    const write = () =>
      this.redis.run(`store ${what}`, (c) => c.hset(key, 'messages', json, 'count', messages.length));
    await this.writeIndexed(what, write, [this.keys.index.conversationIds], conversationId);
  }

  protected async readRawMessages(conversationId: string): Promise<JsonValue[] | null> {
    const key = this.keys.conversation(conversationId).raw;
    const what = `load raw messages of ${q(conversationId)}`;
    return decodeArray(await this.redis.run(what, (c) => c.hget(key, 'messages')), key);
  }

  protected writeChunkInfo(conversationId: string, data: JsonObject): Promise<void> {
    const key = this.keys.conversation(conversationId).chunks;
    const what = `chunk info of ${q(conversationId)}`;
    return this.storeIndexed(what, key, data, [this.keys.index.conversationIds], conversationId);
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
    ];
    const keys = [k.memories, k.memoryData, k.memoryCreated];
    const write = () => this.redis.script(`store ${what}`, UPSERT_MEMORY, keys, args);
    await this.writeIndexed(what, write, [this.keys.index.conversationIds], conversationId);
  }

  protected async readMemories(conversationId: string): Promise<JsonObject[]> {
    const k = this.keys.conversation(conversationId);
    const flat = (await this.redis.script(
      `load memories of ${q(conversationId)}`,
      READ_MEMORIES,
      [k.memories, k.memoryData, k.memoryCreated],
      [],
    )) as Array<string | null>;
    return decodeMemories(flat, k);
  }

  protected async appendReasoningChain(agentId: string, record: JsonObject): Promise<void> {
    const what = `reasoning chain of ${q(agentId)}`;
    const k = this.keys.agent(agentId);
    const args = [randomUUID(), JSON.stringify(record), APPEND_TOKEN_TTL_MS];
    const write = () => this.redis.script(`store ${what}`, APPEND_CHAIN, [k.chains, k.chainAppends], args);
    await this.writeIndexed(what, write, [this.keys.index.agents], agentId);
  }

  protected async readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    const key = this.keys.agent(agentId).chains;
    const items = await this.redis.run(`load reasoning chains of ${q(agentId)}`, (c) =>
      c.lrange(key, limit === null ? 0 : -limit, -1),
    );
    return items.map((json, i) => decodeObject(json, `${key} item ${i}`) as JsonObject);
  }

  protected listAgentIds(): Promise<string[]> {
    return liveMembers(this.redis, this.keys.index.agents, (id) =>
      this.exists(`agent ${q(id)}`, this.keys.agent(id).chains),
    );
  }

  // ----- cache (Redis expires entries itself: see cache.ts) ----------------------------

  protected async writeCacheRecord(cacheKey: string, record: CacheRecord): Promise<void> {
    const what = `cache entry ${q(cacheKey)}`;
    const write = () => writeCacheValue(this.redis, what, this.keys.cache(cacheKey), record);
    await this.writeIndexed(what, write, [this.keys.index.cacheKeys], cacheKey);
  }

  protected async readCacheRecord(cacheKey: string): Promise<CacheRecord | null> {
    const key = this.keys.cache(cacheKey);
    return decodeCacheRecord(await this.redis.run(`load cache entry ${q(cacheKey)}`, (c) => c.get(key)), key);
  }

  protected removeCacheRecord(cacheKey: string): Promise<void> {
    const key = this.keys.cache(cacheKey);
    return this.removeIndexed(`cache entry ${q(cacheKey)}`, [this.keys.index.cacheKeys], cacheKey, [key]);
  }

  protected listLiveCacheKeys(nowMs: number): Promise<string[]> {
    return liveMembers(this.redis, this.keys.index.cacheKeys, (cacheKey) =>
      isLiveCacheEntry(this.redis, `cache entry ${q(cacheKey)}`, this.keys.cache(cacheKey), nowMs),
    );
  }

  protected removeExpiredCache(_nowMs: number): Promise<number> {
    return removeStaleCacheIndexEntries(this.redis, this.keys);
  }

  // ----- system state ------------------------------------------------------------------

  protected writeSystemState(stateKey: string, data: JsonObject): Promise<void> {
    const key = this.keys.state(stateKey);
    return this.storeIndexed(`system state ${q(stateKey)}`, key, data, [this.keys.index.stateKeys], stateKey);
  }

  protected readSystemState(stateKey: string): Promise<JsonObject | null> {
    return this.loadObject(`system state ${q(stateKey)}`, this.keys.state(stateKey));
  }

  protected removeSystemState(stateKey: string): Promise<void> {
    const key = this.keys.state(stateKey);
    return this.removeIndexed(`system state ${q(stateKey)}`, [this.keys.index.stateKeys], stateKey, [key]);
  }

  protected listStateKeys(): Promise<string[]> {
    return liveMembers(this.redis, this.keys.index.stateKeys, (stateKey) =>
      this.exists(`system state ${q(stateKey)}`, this.keys.state(stateKey)),
    );
  }

  // ----- health and stats --------------------------------------------------------------

  protected probeHealth(): Promise<HealthProbe> {
    return probeRedisHealth(this.redis, this.keys);
  }

  protected collectStats(nowMs: number): Promise<StatsSnapshot> {
    return collectRedisStats(this.redis, this.keys, nowMs);
  }
}
