/**
 * A complete in-memory backend, written the way a user would write their own: it only
 * implements the storage primitives, so migrating to and from it shows that the engine
 * needs nothing beyond the public `StorageInterface`.
 */
import { z } from 'zod';
import {
  type CacheRecord,
  type HealthProbe,
  isCacheExpired,
  parseBackendConfig,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
  type StatsSnapshot,
  StorageInterface,
  upsertMemoryInList,
} from '../../src/core/index.js';

const copy = <T>(value: T): T => structuredClone(value);

const configSchema = z.object({ label: z.string().default('memory') });

/** Keeps every kind in Maps; config `{ label }` shows that factory config reaches the class. */
export class InMemoryStorage extends StorageInterface {
  static readonly description = 'In-memory test storage';
  readonly storageType = 'in-memory';
  readonly label: string;
  private readonly conversations = new Map<string, JsonObject>();
  private readonly raw = new Map<string, JsonValue[]>();
  private readonly memories = new Map<string, JsonValue[]>();
  private readonly chains = new Map<string, JsonObject[]>();
  private readonly chunks = new Map<string, JsonObject>();
  private readonly cache = new Map<string, CacheRecord>();
  private readonly state = new Map<string, JsonObject>();

  constructor(config?: { label?: string }) {
    super();
    this.label = parseBackendConfig('in-memory', configSchema, config).label;
  }

  protected async openStore(): Promise<void> {}
  protected async closeStore(): Promise<void> {}

  protected async writeConversation(id: string, data: JsonObject): Promise<void> {
    this.conversations.set(id, copy(data));
  }
  protected async readConversation(id: string): Promise<JsonObject | null> {
    return copy(this.conversations.get(id) ?? null);
  }
  protected async listConversationIds(): Promise<string[]> {
    return [...this.conversations.keys()];
  }
  protected async listStoredConversationIds(): Promise<string[]> {
    return [this.conversations, this.raw, this.memories, this.chunks].flatMap((map) => [...map.keys()]);
  }
  protected async removeConversation(id: string): Promise<void> {
    for (const map of [this.conversations, this.raw, this.memories, this.chunks]) map.delete(id);
  }
  protected async writeRawMessages(id: string, messages: JsonValue[]): Promise<void> {
    this.raw.set(id, copy(messages));
  }
  protected async readRawMessages(id: string): Promise<JsonValue[] | null> {
    return copy(this.raw.get(id) ?? null);
  }
  protected async upsertMemory(id: string, memory: MemoryWrite): Promise<void> {
    this.memories.set(id, upsertMemoryInList(this.memories.get(id) ?? [], copy(memory)));
  }
  protected async readMemories(id: string): Promise<JsonObject[]> {
    return copy((this.memories.get(id) ?? []) as JsonObject[]);
  }
  protected async removeMemory(id: string, memoryId: string): Promise<void> {
    const kept = (this.memories.get(id) ?? []).filter((m) => (m as JsonObject).memory_id !== memoryId);
    if (kept.length > 0) this.memories.set(id, kept);
    else this.memories.delete(id);
  }
  protected async removeReasoningChains(agentId: string): Promise<void> {
    this.chains.delete(agentId);
  }
  protected async appendReasoningChain(agentId: string, record: JsonObject): Promise<void> {
    this.chains.set(agentId, [...(this.chains.get(agentId) ?? []), copy(record)]);
  }
  protected async readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    const all = this.chains.get(agentId) ?? [];
    return copy(limit === null ? all : all.slice(-limit));
  }
  protected async listAgentIds(): Promise<string[]> {
    return [...this.chains.keys()];
  }
  protected async writeChunkInfo(id: string, data: JsonObject): Promise<void> {
    this.chunks.set(id, copy(data));
  }
  protected async readChunkInfo(id: string): Promise<JsonObject | null> {
    return copy(this.chunks.get(id) ?? null);
  }
  protected async writeCacheRecord(key: string, record: CacheRecord): Promise<void> {
    this.cache.set(key, copy(record));
  }
  protected async readCacheRecord(key: string): Promise<CacheRecord | null> {
    return copy(this.cache.get(key) ?? null);
  }
  protected async removeCacheRecord(key: string): Promise<void> {
    this.cache.delete(key);
  }
  protected async listLiveCacheKeys(nowMs: number): Promise<string[]> {
    return [...this.cache]
      .filter(([, record]) => !isCacheExpired(record.expiresAt, nowMs))
      .map(([key]) => key);
  }
  protected async removeExpiredCache(nowMs: number): Promise<number> {
    const expired = [...this.cache].filter(([, record]) => isCacheExpired(record.expiresAt, nowMs));
    for (const [key] of expired) this.cache.delete(key);
    return expired.length;
  }
  protected async writeSystemState(key: string, data: JsonObject): Promise<void> {
    this.state.set(key, copy(data));
  }
  protected async readSystemState(key: string): Promise<JsonObject | null> {
    return copy(this.state.get(key) ?? null);
  }
  protected async removeSystemState(key: string): Promise<void> {
    this.state.delete(key);
  }
  protected async listStateKeys(): Promise<string[]> {
    return [...this.state.keys()];
  }
  protected async probeHealth(): Promise<HealthProbe> {
    return { healthy: true, details: {} };
  }
  protected async collectStats(nowMs: number): Promise<StatsSnapshot> {
    const total = (map: Map<string, unknown[]>) =>
      [...map.values()].reduce((sum, list) => sum + list.length, 0);
    return {
      counts: {
        conversation_count: this.conversations.size,
        raw_message_count: total(this.raw),
        memory_count: total(this.memories),
        reasoning_chain_count: total(this.chains),
        agent_count: this.chains.size,
        chunk_info_count: this.chunks.size,
        cache_entry_count: (await this.listLiveCacheKeys(nowMs)).length,
        system_state_count: this.state.size,
        total_bytes: null,
      },
      extra: {},
    };
  }
}
