/**
 * The storage primitives a backend implements. `StorageInterface` builds the public API on
 * top of them; arguments arrive validated and as plain JSON, lists need not be sorted.
 */
import type { JsonObject, JsonValue } from './json.js';
import type { CacheRecord, HealthProbe, MemoryWrite, StatsSnapshot } from './records.js';
import type { SkipItem } from './search/unreadable.js';

/** The protected methods every backend implements (see `StorageInterface`). */
export abstract class StoragePrimitives {
  /** Opens connections / creates folders and tables. */
  protected abstract openStore(): Promise<void>;
  /** Releases connections, timers and locks. */
  protected abstract closeStore(): Promise<void>;

  protected abstract writeConversation(conversationId: string, data: JsonObject): Promise<void>;
  protected abstract readConversation(conversationId: string): Promise<JsonObject | null>;
  /** Ids with a stored conversation. */
  protected abstract listConversationIds(): Promise<string[]>;
  /** Ids with any stored kind (in any order; an id may repeat, e.g. once per kind). */
  protected abstract listStoredConversationIds(): Promise<string[]>;
  /** Removes the conversation, raw messages, memories and chunk info, all or nothing. */
  protected abstract removeConversation(conversationId: string): Promise<void>;

  protected abstract writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void>;
  /**
   * With `skip` (a search with `unreadable: 'skip'`), a message that does not parse goes to it and
   * is left out, the others read on; a backend may ignore it (the search then leaves out the
   * whole list the read throws for). The same for memories and sequenced chains.
   */
  protected abstract readRawMessages(conversationId: string, skip?: SkipItem): Promise<JsonValue[] | null>;

  /** Replaces the memory with the same id in place (see `replaceMemoryRecord`) or appends it; atomic. */
  protected abstract upsertMemory(conversationId: string, memory: MemoryWrite): Promise<void>;
  protected abstract readMemories(conversationId: string, skip?: SkipItem): Promise<JsonObject[]>;
  /** Removes every memory with that id from the conversation (others keep their order); atomic. */
  protected abstract removeMemory(conversationId: string, memoryId: string): Promise<void>;

  /** Appends atomically: concurrent appends all land. */
  protected abstract appendReasoningChain(agentId: string, record: JsonObject): Promise<void>;
  /** Oldest first; with a limit, the most recent `limit`. */
  protected abstract readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]>;
  protected abstract listAgentIds(): Promise<string[]>;
  /** Removes all chains of the agent so it is no longer listed; atomic. */
  protected abstract removeReasoningChains(agentId: string): Promise<void>;

  protected abstract writeChunkInfo(conversationId: string, data: JsonObject): Promise<void>;
  protected abstract readChunkInfo(conversationId: string): Promise<JsonObject | null>;

  protected abstract writeCacheRecord(cacheKey: string, record: CacheRecord): Promise<void>;
  /** The stored record, expired or not (the core filters); never writes. */
  protected abstract readCacheRecord(cacheKey: string): Promise<CacheRecord | null>;
  protected abstract removeCacheRecord(cacheKey: string): Promise<void>;
  /** Keys whose entries are live at `nowMs`. */
  protected abstract listLiveCacheKeys(nowMs: number): Promise<string[]>;
  /**
   * Removes entries expired at `nowMs`; returns how many. A backend that deletes in several
   * steps stops between two of them once `signal` fires (see `throwIfAborted`).
   */
  protected abstract removeExpiredCache(nowMs: number, signal?: AbortSignal): Promise<number>;

  protected abstract writeSystemState(stateKey: string, data: JsonObject): Promise<void>;
  protected abstract readSystemState(stateKey: string): Promise<JsonObject | null>;
  protected abstract removeSystemState(stateKey: string): Promise<void>;
  protected abstract listStateKeys(): Promise<string[]>;

  /** Backend-specific health details; throwing makes the report `error`. */
  protected abstract probeHealth(): Promise<HealthProbe>;
  /** Counts (live cache entries only at `nowMs`) and backend-specific extras. */
  protected abstract collectStats(nowMs: number): Promise<StatsSnapshot>;
}
