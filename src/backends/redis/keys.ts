/**
 * Key layout of the Redis backend. Every key starts with the configured prefix
 * (`keyPrefix`, default `connectome:`), so several apps or test runs share one server safely.
 *
 * ```
 * <prefix>{c:<conversationId>}:conversation    string  conversation JSON, exactly as stored
 * <prefix>{c:<conversationId>}:raw             hash    messages = JSON array, count = its length
 * <prefix>{c:<conversationId>}:chunks          string  chunk info JSON
 * <prefix>{c:<conversationId>}:memories        list    memory ids in insertion order
 * <prefix>{c:<conversationId>}:memory-data     hash    memory id -> memory record JSON
 * <prefix>{c:<conversationId>}:memory-created  hash    memory id -> created_at as JSON (kept on replace, D7)
 * <prefix>{a:<agentId>}:chains                 list    reasoning-chain record JSON, append order
 * <prefix>{a:<agentId>}:chain-appends          zset    recent append tokens (a resent append lands once)
 * <prefix>{k:<cacheKey>}:cache                 string  {"expiresAt","storedAt","data"}, with PX when it expires
 * <prefix>{s:<stateKey>}:state                 string  system state JSON
 * <prefix>{index}:conversations                set     ids with a stored conversation
 * <prefix>{index}:conversation-ids             set     ids with any stored kind (conversation, raw, memories, chunks)
 * <prefix>{index}:agents                       set     agent ids with reasoning chains
 * <prefix>{index}:cache-keys                   set     cache keys (entries may have expired since)
 * <prefix>{index}:state-keys                   set     system state keys
 * <prefix>{index}:layout                       string  layout version of this prefix ("1")
 * ```
 *
 * - The `{...}` part is the Redis Cluster hash tag: all keys of one conversation (or one agent)
 *   live in one slot, so their multi-key writes are atomic Lua scripts or multi-key commands on
 *   a cluster too. The library's own `{` comes first after the prefix, and `%`, `{` and `}` in
 *   ids and keys are written as `%25`, `%7B` and `%7D`, so braces inside user ids can neither
 *   pick the slot nor make two ids share a key. (A prefix that contains `{...}` itself pins every
 *   key to that one slot: still correct, but it stops a cluster from spreading the data.)
 * - The index sets share the `{index}` slot. An index entry is added after the data it points to
 *   (and also sent along with the data write, so a write that times out but still lands later is
 *   indexed too) and cleared before that data is deleted; an index entry whose data is gone (a
 *   concurrent delete, a failed write, an expired cache entry) is skipped by listing and stats,
 *   and `purgeExpiredCache()` removes the stale cache ones. Listing never uses `KEYS` or `SCAN`.
 */

/** Layout version stored at `<prefix>{index}:layout`. */
export const LAYOUT_VERSION = '1';

/** Writes `%`, `{` and `}` as `%25`, `%7B`, `%7D`: injective, and leaves no brace in a hash tag. */
export function escapeKeyPart(value: string): string {
  return value.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The keys of one conversation, all in the slot of `{c:<id>}`. */
export interface ConversationKeys {
  conversation: string;
  raw: string;
  chunks: string;
  memories: string;
  memoryData: string;
  memoryCreated: string;
}

/** The keys of one agent, all in the slot of `{a:<id>}`. */
export interface AgentKeys {
  chains: string;
  chainAppends: string;
}

/** Builds every key name of one store (one prefix). */
export class KeyLayout {
  /** Global index sets, all in the `{index}` slot. */
  readonly index: {
    conversations: string;
    conversationIds: string;
    agents: string;
    cacheKeys: string;
    stateKeys: string;
    layout: string;
  };

  constructor(readonly prefix: string) {
    const at = (name: string) => `${prefix}{index}:${name}`;
    this.index = {
      conversations: at('conversations'),
      conversationIds: at('conversation-ids'),
      agents: at('agents'),
      cacheKeys: at('cache-keys'),
      stateKeys: at('state-keys'),
      layout: at('layout'),
    };
  }

  /** The keys of one conversation (one slot). */
  conversation(conversationId: string): ConversationKeys {
    const base = `${this.prefix}{c:${escapeKeyPart(conversationId)}}:`;
    return {
      conversation: `${base}conversation`,
      raw: `${base}raw`,
      chunks: `${base}chunks`,
      memories: `${base}memories`,
      memoryData: `${base}memory-data`,
      memoryCreated: `${base}memory-created`,
    };
  }

  /** The keys of one agent (one slot). */
  agent(agentId: string): AgentKeys {
    const base = `${this.prefix}{a:${escapeKeyPart(agentId)}}:`;
    return { chains: `${base}chains`, chainAppends: `${base}chain-appends` };
  }

  /** The key of one cache entry. */
  cache(cacheKey: string): string {
    return `${this.prefix}{k:${escapeKeyPart(cacheKey)}}:cache`;
  }

  /** The key of one system state object. */
  state(stateKey: string): string {
    return `${this.prefix}{s:${escapeKeyPart(stateKey)}}:state`;
  }
}

/** All keys of one conversation, in the order the Lua scripts take them. */
export function conversationKeyList(keys: ConversationKeys): string[] {
  return [keys.conversation, keys.raw, keys.chunks, keys.memories, keys.memoryData, keys.memoryCreated];
}
