/**
 * A plain in-memory model of what the public API promises (../shared/spec/storage-spec.md and
 * the README), for the model-based sequence suite: no backend code, only the rules a caller can
 * observe. Clock-set timestamps (`created_at`, `stored_at`) and chain sequence numbers are not
 * predicted; the model learns each one the first time it is loaded and from then on expects it
 * unchanged (an upsert keeps `created_at`, a trim never renumbers).
 */
import { compareCodePoints, type JsonObject, type JsonValue } from '../../../src/core/index.js';

/** A memory as the model holds it: `createdAt` undefined until the clock's value was seen. */
interface ModelMemory {
  id: string;
  data: JsonObject;
  createdAt: JsonValue | undefined;
}

/** A chain as the model holds it: `storedAt` undefined and `sequence` null until seen. */
interface ModelChain {
  data: JsonObject;
  storedAt: JsonValue | undefined;
  sequence: number | null;
}

/** A live cache entry: its data and the TTL its timestamps encode (seconds, null for none). */
export interface ModelCacheEntry {
  data: JsonObject;
  ttl: number | null;
}

/** The core stats counts, as the model predicts them. */
export type ModelCounts = Record<
  | 'conversation_count'
  | 'raw_message_count'
  | 'memory_count'
  | 'reasoning_chain_count'
  | 'agent_count'
  | 'chunk_info_count'
  | 'cache_entry_count'
  | 'system_state_count',
  number
>;

const sorted = (keys: Iterable<string>): string[] => [...keys].sort(compareCodePoints);
/** The caller's own `field`, whatever its value (kept as given, D8), or undefined. */
const callerTime = (data: JsonObject, field: string): JsonValue | undefined =>
  Object.hasOwn(data, field) ? data[field] : undefined;
/** `list` from `offset`, at most `limit` items (a window as `loadRawMessages` takes it). */
export const windowOf = <T>(list: T[], offset = 0, limit?: number): T[] =>
  list.slice(offset, limit === undefined ? undefined : offset + limit);

/** Everything a store holds, as the spec says it must read back. */
export class StoreModel {
  readonly conversations = new Map<string, JsonObject>();
  /** Non-empty lists only: an empty list is no stored data. */
  readonly raw = new Map<string, JsonValue[]>();
  /** Non-empty lists only, in insertion order. */
  readonly memories = new Map<string, ModelMemory[]>();
  /** Non-empty lists only (an agent without chains is not listed). */
  readonly chains = new Map<string, ModelChain[]>();
  readonly chunks = new Map<string, JsonObject>();
  /** Live cache entries only. */
  readonly cache = new Map<string, ModelCacheEntry>();
  /** When each live entry expires, in the run's virtual milliseconds (null: never). */
  private readonly expiresAt = new Map<string, number | null>();
  /** Keys of expired entries still stored (a purge removes them; a write or delete replaces them). */
  private readonly dead = new Set<string>();
  /** Virtual milliseconds passed since the run began (see `passTime`). */
  private now = 0;
  readonly state = new Map<string, JsonObject>();

  /**
   * @param chainLimit the store's `maxReasoningChainsPerAgent`, or null.
   * @param maxSequence the highest sequence number ever seen per agent of this store, kept across
   *   deletes and runs (numbers are never reused).
   */
  constructor(
    readonly chainLimit: number | null,
    readonly maxSequence = new Map<string, number>(),
  ) {}

  storeRawMessages(id: string, messages: JsonValue[]): void {
    if (messages.length === 0) this.raw.delete(id);
    else this.raw.set(id, messages);
  }

  /** D7: an existing id is replaced in place, keeping `created_at` unless the data carries one. */
  storeMemory(conversationId: string, memoryId: string, data: JsonObject): void {
    const list = this.memories.get(conversationId) ?? [];
    const given = callerTime(data, 'created_at');
    const at = list.findIndex((m) => m.id === memoryId);
    if (at >= 0) {
      list[at] = {
        id: memoryId,
        data,
        createdAt: given !== undefined ? given : (list[at] as ModelMemory).createdAt,
      };
    } else {
      list.push({ id: memoryId, data, createdAt: given });
    }
    this.memories.set(conversationId, list);
  }

  deleteMemory(conversationId: string, memoryId: string): void {
    const list = (this.memories.get(conversationId) ?? []).filter((m) => m.id !== memoryId);
    if (list.length === 0) this.memories.delete(conversationId);
    else this.memories.set(conversationId, list);
  }

  /** Appends, then drops the oldest beyond `chainLimit` (one step, as the backends do). */
  appendChain(agentId: string, data: JsonObject): void {
    const list = this.chains.get(agentId) ?? [];
    list.push({ data, storedAt: callerTime(data, 'stored_at'), sequence: null });
    if (this.chainLimit !== null && list.length > this.chainLimit)
      list.splice(0, list.length - this.chainLimit);
    this.chains.set(agentId, list);
  }

  /** Keeps the newest `keepLast` chains; returns how many went. */
  trimChains(agentId: string, keepLast: number): number {
    const list = this.chains.get(agentId) ?? [];
    const removed = Math.max(0, list.length - keepLast);
    list.splice(0, removed);
    if (list.length === 0) this.chains.delete(agentId);
    return removed;
  }

  /**
   * A cache write that lives `ttl` seconds from now (null: no expiry); with `copy`, a record with
   * its own timestamps, either `'expired'` long ago or `'live'` for centuries.
   */
  storeCache(key: string, data: JsonObject, ttl: number | null, copy?: 'expired' | 'live'): void {
    this.deleteCache(key);
    if (copy === 'expired') {
      this.dead.add(key);
    } else {
      this.cache.set(key, { data, ttl });
      this.expiresAt.set(key, ttl === null || copy === 'live' ? null : this.now + ttl * 1000);
    }
  }

  deleteCache(key: string): void {
    this.dead.delete(key);
    this.cache.delete(key);
    this.expiresAt.delete(key);
  }

  /** Lets `ms` pass: entries whose TTL ran out are no longer loaded, listed or counted. */
  passTime(ms: number): void {
    this.now += ms;
    for (const [key, at] of this.expiresAt) {
      if (at !== null && at <= this.now) {
        this.deleteCache(key);
        this.dead.add(key);
      }
    }
  }

  /** A purge: returns how many expired entries it removes (where the backend owns expiry). */
  purgeExpiredCache(): number {
    const removed = this.dead.size;
    this.dead.clear();
    return removed;
  }

  /** Removes a conversation with its raw messages, memories and chunk info (chains are per agent). */
  deleteConversation(id: string): void {
    this.conversations.delete(id);
    this.raw.delete(id);
    this.memories.delete(id);
    this.chunks.delete(id);
  }

  /** What `loadMemories` must return; learns clock values from `actual` afterwards with {@link learnMemories}. */
  expectedMemories(conversationId: string): JsonObject[] {
    return (this.memories.get(conversationId) ?? []).map((m) => ({
      ...m.data,
      memory_id: m.id,
      created_at: m.createdAt === undefined ? expect.any(String) : m.createdAt,
    }));
  }

  /** Records the clock's `created_at` of memories loaded whole (called after a passing comparison). */
  learnMemories(conversationId: string, actual: JsonObject[]): void {
    (this.memories.get(conversationId) ?? []).forEach((m, i) => {
      if (m.createdAt === undefined) m.createdAt = actual[i]?.created_at;
    });
  }

  /** What `loadReasoningChains(agentId)` must return (all chains, oldest first). */
  expectedChains(agentId: string): JsonObject[] {
    return (this.chains.get(agentId) ?? []).map((c) => ({
      ...c.data,
      stored_at: c.storedAt === undefined ? expect.any(String) : c.storedAt,
    }));
  }

  /**
   * Checks the sequence numbers of an agent's whole list (`actual`, aligned with the model's):
   * increasing, unchanged once seen, and any new one above every number seen before; then learns them.
   */
  checkSequences(agentId: string, actual: Array<{ sequence: number; chain: JsonObject }>): void {
    const list = this.chains.get(agentId) ?? [];
    const seenMax = this.maxSequence.get(agentId) ?? -Infinity;
    let previous = -Infinity;
    list.forEach((c, i) => {
      const got = (actual[i] as { sequence: number }).sequence;
      expect(Number.isSafeInteger(got)).toBe(true);
      expect(got).toBeGreaterThan(previous);
      if (c.sequence === null) expect(got).toBeGreaterThan(seenMax);
      else expect(got).toBe(c.sequence);
      c.sequence = got;
      if (c.storedAt === undefined) c.storedAt = (actual[i] as { chain: JsonObject }).chain.stored_at;
      previous = got;
    });
    if (list.length > 0) this.maxSequence.set(agentId, Math.max(seenMax, previous));
  }

  /** `listAllConversationIds`: every id holding any stored kind. */
  allConversationIds(): string[] {
    return sorted(
      new Set([
        ...this.conversations.keys(),
        ...this.raw.keys(),
        ...this.memories.keys(),
        ...this.chunks.keys(),
      ]),
    );
  }

  /** The five listings, as an object keyed by `iterate`'s listing names. */
  listings(): Record<
    'conversations' | 'allConversationIds' | 'agents' | 'cacheKeys' | 'systemStateKeys',
    string[]
  > {
    return {
      conversations: sorted(this.conversations.keys()),
      allConversationIds: this.allConversationIds(),
      agents: sorted(this.chains.keys()),
      cacheKeys: sorted(this.cache.keys()),
      systemStateKeys: sorted(this.state.keys()),
    };
  }

  counts(): ModelCounts {
    const total = <T>(lists: Iterable<T[]>): number => [...lists].reduce((n, l) => n + l.length, 0);
    return {
      conversation_count: this.conversations.size,
      raw_message_count: total(this.raw.values()),
      memory_count: total(this.memories.values()),
      reasoning_chain_count: total(this.chains.values()),
      agent_count: this.chains.size,
      chunk_info_count: this.chunks.size,
      cache_entry_count: this.cache.size,
      system_state_count: this.state.size,
    };
  }
}
