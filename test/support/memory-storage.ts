/**
 * A complete in-memory backend, written the way a user would write their own (README, "Adding
 * a backend"): it implements the storage primitives, takes the shared options, and numbers
 * chains itself (so trims keep sequence numbers); everything else (batches, paging, search,
 * semantic search) is the core's default. It runs the whole conformance suite
 * (`test/conformance/harness-memory.ts`), and migrating to and from it shows that the engine
 * needs nothing beyond the public `StorageInterface`.
 */
import { z } from 'zod';
// What a user's backend imports: the package root and `connectome-storage/backend`.
import {
  type CacheRecord,
  isCacheExpired,
  type JsonObject,
  type JsonValue,
  type SequencedChain,
  type SharedStorageOptions,
  StorageInterface,
  StoreNotFoundError,
} from '../../src/index.js';
import {
  type HealthProbe,
  type MemoryWrite,
  parseBackendConfig,
  selectSequenced,
  type SequencedChainRead,
  sharedOptionsShape,
  type StatsSnapshot,
  upsertMemoryInList,
} from '../../src/backend.js';

const copy = <T>(value: T): T => structuredClone(value);

const configSchema = z.object({ label: z.string().default('memory'), ...sharedOptionsShape });

/** Keeps every kind in Maps; config `{ label }` shows that factory config reaches the class. */
export class InMemoryStorage extends StorageInterface {
  static readonly description = 'In-memory test storage';
  readonly storageType = 'in-memory';
  readonly label: string;
  /** The parsed config: the core reads `searchFields`, `semantic` and `logger` from it. */
  private readonly config: z.infer<typeof configSchema>;
  private readonly conversations = new Map<string, JsonObject>();
  private readonly raw = new Map<string, JsonValue[]>();
  private readonly memories = new Map<string, JsonValue[]>();
  /** Per agent, its chains numbered from the agent's counter, which deletes and trims never lower. */
  private readonly chains = new Map<string, SequencedChain[]>();
  private readonly nextSequence = new Map<string, number>();
  private readonly chunks = new Map<string, JsonObject>();
  private readonly cache = new Map<string, CacheRecord>();
  private readonly state = new Map<string, JsonObject>();

  constructor(config?: { label?: string } & SharedStorageOptions) {
    super();
    this.config = parseBackendConfig('in-memory', configSchema, config);
    this.label = this.config.label;
  }

  override get isReadOnly(): boolean {
    return this.config.readOnly;
  }

  override get maxReasoningChainsPerAgent(): number | null {
    return this.config.maxReasoningChainsPerAgent ?? null;
  }

  protected async openStore(): Promise<void> {
    // Nothing outlives an instance, so there is never an existing store to open read-only.
    if (this.config.readOnly)
      throw new StoreNotFoundError('in-memory', this.label, 'a new in-memory store is always empty');
  }
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
    // An id stored in several kinds is listed once per kind: the core must not mind.
    return [this.conversations, this.raw, this.memories, this.chunks].flatMap((map) => [...map.keys()]);
  }
  protected async removeConversation(id: string): Promise<void> {
    for (const map of [this.conversations, this.raw, this.memories, this.chunks]) map.delete(id);
  }
  protected async writeRawMessages(id: string, messages: JsonValue[]): Promise<void> {
    // An empty list is no stored data: the id is not listed for it (README, "Adding a backend").
    if (messages.length === 0) this.raw.delete(id);
    else this.raw.set(id, copy(messages));
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
  /** Appends with the agent's next number, then keeps `maxReasoningChainsPerAgent` (one step: nothing awaits between). */
  protected async appendReasoningChain(agentId: string, record: JsonObject): Promise<void> {
    const sequence = this.nextSequence.get(agentId) ?? 0;
    this.nextSequence.set(agentId, sequence + 1);
    const all = [...(this.chains.get(agentId) ?? []), { sequence, chain: copy(record) }];
    const max = this.maxReasoningChainsPerAgent;
    this.chains.set(agentId, max === null ? all : all.slice(-max));
  }
  protected async readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    const all = (this.chains.get(agentId) ?? []).map((item) => item.chain);
    return copy(limit === null ? all : all.slice(-limit));
  }
  protected override async readSequencedChains(
    agentId: string,
    read: SequencedChainRead,
  ): Promise<SequencedChain[]> {
    return copy(selectSequenced(this.chains.get(agentId) ?? [], read));
  }
  protected override async keepLastChains(agentId: string, keepLast: number): Promise<number> {
    const all = this.chains.get(agentId) ?? [];
    const kept = all.slice(Math.max(0, all.length - keepLast));
    if (kept.length > 0) this.chains.set(agentId, kept);
    else this.chains.delete(agentId);
    return all.length - kept.length;
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
