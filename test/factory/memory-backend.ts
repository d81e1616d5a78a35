/** A tiny in-memory backend used to test registering a user backend (conversations only). */
import { z } from 'zod';
import {
  type CacheRecord,
  type HealthProbe,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
  parseBackendConfig,
  type StatsSnapshot,
  StorageInterface,
} from '../../src/core/index.js';

const schema = z.object({ label: z.string().default('memory') });

/** Keeps conversations in a Map; every other kind is accepted and forgotten. */
export class MemoryStorage extends StorageInterface {
  static readonly description = 'In-memory test storage';
  readonly storageType = 'memory';
  readonly label: string;
  private readonly conversations = new Map<string, JsonObject>();

  constructor(config?: { label?: string }) {
    super();
    this.label = parseBackendConfig('memory', schema, config).label;
  }

  protected async openStore(): Promise<void> {}
  protected async closeStore(): Promise<void> {}
  protected async writeConversation(id: string, data: JsonObject): Promise<void> {
    this.conversations.set(id, data);
  }
  protected async readConversation(id: string): Promise<JsonObject | null> {
    return this.conversations.get(id) ?? null;
  }
  protected async listConversationIds(): Promise<string[]> {
    return [...this.conversations.keys()];
  }
  protected listStoredConversationIds(): Promise<string[]> {
    return this.listConversationIds();
  }
  protected async removeConversation(id: string): Promise<void> {
    this.conversations.delete(id);
  }
  protected async writeRawMessages(_id: string, _messages: JsonValue[]): Promise<void> {}
  protected async readRawMessages(): Promise<JsonValue[] | null> {
    return null;
  }
  protected async upsertMemory(_id: string, _memory: MemoryWrite): Promise<void> {}
  protected async readMemories(): Promise<JsonObject[]> {
    return [];
  }
  protected async appendReasoningChain(_agentId: string, _record: JsonObject): Promise<void> {}
  protected async readReasoningChains(): Promise<JsonObject[]> {
    return [];
  }
  protected async listAgentIds(): Promise<string[]> {
    return [];
  }
  protected async writeChunkInfo(_id: string, _data: JsonObject): Promise<void> {}
  protected async readChunkInfo(): Promise<JsonObject | null> {
    return null;
  }
  protected async writeCacheRecord(_key: string, _record: CacheRecord): Promise<void> {}
  protected async readCacheRecord(): Promise<CacheRecord | null> {
    return null;
  }
  protected async removeCacheRecord(): Promise<void> {}
  protected async listLiveCacheKeys(): Promise<string[]> {
    return [];
  }
  protected async removeExpiredCache(): Promise<number> {
    return 0;
  }
  protected async writeSystemState(_key: string, _data: JsonObject): Promise<void> {}
  protected async readSystemState(): Promise<JsonObject | null> {
    return null;
  }
  protected async removeSystemState(): Promise<void> {}
  protected async listStateKeys(): Promise<string[]> {
    return [];
  }
  protected async probeHealth(): Promise<HealthProbe> {
    return { healthy: true, details: {} };
  }
  protected async collectStats(): Promise<StatsSnapshot> {
    const counts = {
      conversation_count: this.conversations.size,
      raw_message_count: 0,
      memory_count: 0,
      reasoning_chain_count: 0,
      agent_count: 0,
      chunk_info_count: 0,
      cache_entry_count: 0,
      system_state_count: 0,
      total_bytes: null,
    };
    return { counts, extra: {} };
  }
}
