/**
 * Key layout v2 of the Redis backend. Every key starts with the configured prefix
 * (`keyPrefix`, default `connectome:`), so several apps or test runs share one server safely.
 *
 * Every record lives in one of {@link BUCKET_COUNT} buckets, chosen by hashing its kind and id
 * (FNV-1a, see {@link bucketOf}). The bucket is the Redis Cluster hash tag `{b:NN}`, so a record,
 * its bucket's index entries and its bucket's counters share one slot, and one Lua script
 * writes all of them atomically. No key is touched by every write; a listing reads every bucket.
 *
 * ```
 * per conversation (bucket of "c:<id>"):
 * <prefix>{b:NN}:c:<id>:conversation    string  conversation JSON, exactly as stored
 * <prefix>{b:NN}:c:<id>:meta            hash    raw = message count (present = raw messages stored), raw-bytes
 * <prefix>{b:NN}:c:<id>:raw             list    one raw message JSON per item (LRANGE = window read)
 * <prefix>{b:NN}:c:<id>:chunks          string  chunk info JSON
 * <prefix>{b:NN}:c:<id>:memories        list    memory ids in insertion order
 * <prefix>{b:NN}:c:<id>:memory-data     hash    memory id -> memory record JSON
 * <prefix>{b:NN}:c:<id>:memory-created  hash    memory id -> created_at as JSON (kept on replace, D7)
 * per agent (bucket of "a:<id>"):
 * <prefix>{b:NN}:a:<id>:chains          list    reasoning-chain record JSON, append order
 * <prefix>{b:NN}:a:<id>:agent           hash    next = chains ever appended; the head's sequence is next - LLEN
 * <prefix>{b:NN}:a:<id>:chain-appends   zset    recent append tokens (a resent append lands once)
 * <prefix>{b:NN}:k:<cacheKey>:cache     string  {"expiresAt","storedAt","data"}, with PX when it expires
 * <prefix>{b:NN}:s:<stateKey>:state     string  system state JSON
 * per bucket (NN = 00 .. BUCKET_COUNT-1):
 * <prefix>{b:NN}:conversations          zset    ids with a stored conversation (score 0: byte order)
 * <prefix>{b:NN}:conversation-ids       zset    ids with any stored kind (score 0)
 * <prefix>{b:NN}:agents                 zset    agent ids with reasoning chains (score 0)
 * <prefix>{b:NN}:cache-keys             zset    cache keys (score 0: byte order, for keyset paging)
 * <prefix>{b:NN}:cache-expiry           zset    cache key -> expiry in server ms (+inf: never)
 * <prefix>{b:NN}:state-keys             zset    system state keys (score 0)
 * <prefix>{b:NN}:counters               hash    conversations, raw_messages, memories, chunk_infos,
 *                                               chains, agents, states, bytes (payload bytes)
 * <prefix>{b:NN}:upgraded               string  generation of the v1 -> v2 upgrade that finished (`upgrade-fence.ts`)
 * per store:
 * <prefix>{index}:layout                string  layout version ("2"; "1" = v1; "1>2" = upgrading)
 * <prefix>{index}:buckets               string  bucket count of this store (fixed when created)
 * <prefix>{index}:upgrade               hash    progress of a v1 -> v2 upgrade (records moved per kind)
 * <prefix>{index}:empty-raw-swept       string  "1": empty raw lists of earlier versions repaired (`empty-raw-repair.ts`)
 * ```
 *
 * - Index zsets have score 0, so members come back in byte order, which for UTF-8 is Unicode
 *   code point order: a keyset cursor is `ZRANGE key (<after> + BYLEX LIMIT 0 n` per bucket
 *   plus a k-way merge. Every script that writes a record updates its index entries and the
 *   bucket counters, so listings need no existence check and stats read O(buckets) keys.
 * - Cache index entries leave by themselves: every cache write trims the bucket's entries whose
 *   expiry passed (bounded per write); reads filter by score; `purgeExpiredCache()` trims all.
 * - Search index (see `search-lua.ts`): postings `{b:NN}:q:<token>` (append-only string of the
 *   bucket's docs holding the token), `{b:NN}:search-docs|search-gone|search-dead|search-unheld`
 *   (doc <-> number with its tokens, dropped numbers, dead counts, wrong-typed postings of
 *   tokens no doc holds), `search_*` counters,
 *   written by the record's own script; `{index}:search` holds the index version. Room for
 *   later kinds in the record's slot: embeddings `{b:NN}:c:<id>:embeddings`.
 * - `deleteMemory` is LREM + HDEL + counters in one script; `deleteMemories` leaves the same
 *   as that per id, in one script (on whole keys one HDEL per hash and, from 16 ids, the id
 *   list rewritten once: `deletes.ts`); `deleteReasoningChains` drops the
 *   chains list and the agent's index entry but keeps the agent hash, so `next` never goes back
 *   (an evicted agent hash's `next` is recovered from the chains' search docs: `agent-next.ts`).
 * - `%`, `{` and `}` in ids and keys are written as `%25`, `%7B` and `%7D`, so braces in user
 *   ids can neither pick the slot nor make two ids share a key. (A prefix that contains `{...}`
 *   itself pins every key to that one slot: still correct, but a cluster cannot spread it; one
 *   whose first brace opens an empty `{}` makes a cluster hash each whole key, and is refused
 *   there: `checkClusterPrefix`, `config.ts`.)
 */

/** Layout version stored at `<prefix>{index}:layout`. */
export const LAYOUT_VERSION = '2';
/** The version a v1 store has at `<prefix>{index}:layout`. */
export const V1_LAYOUT_VERSION = '1';
/** The layout version while a v1 store is being upgraded (a v1 library refuses it). */
export const UPGRADING_LAYOUT_VERSION = '1>2';
/** Buckets of a new store: enough that 100,000 records are ~1,600 per bucket, few enough to read all in one pipeline. */
export const BUCKET_COUNT = 64;

/** Writes `%`, `{` and `}` as `%25`, `%7B`, `%7D`: injective, and leaves no brace in a hash tag. */
export function escapeKeyPart(value: string): string {
  // Every call builds a key: most ids have nothing to escape, and a test is cheaper than a
  // replace that finds nothing.
  if (!KEY_ESCAPED.test(value)) return value;
  return value.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

const KEY_ESCAPED = /[%{}]/;

/**
 * The part of `key` a Redis Cluster hashes to pick its slot: the text between the first `{` and
 * the first `}` after it when not empty, else the whole key. Keys with the same tag share a slot.
 */
export function clusterHashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** Record kinds, each hashed apart so a conversation and an agent with one id spread independently. */
export type RecordKind = 'c' | 'a' | 'k' | 's';

/** The bucket of a record: FNV-1a (32 bit) of `<kind>:<id>` in UTF-8, modulo `buckets`. */
export function bucketOf(kind: RecordKind, id: string, buckets: number = BUCKET_COUNT): number {
  const text = `${kind}:${id}`;
  let hash = 0x811c9dc5;
  // Every call hashes a key: ASCII (one byte per code unit) without encoding it to a Buffer.
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return fnv1aUtf8(text, buckets);
    hash = Math.imul(hash ^ code, 0x01000193) >>> 0;
  }
  return hash % buckets;
}

/** {@link bucketOf} over the UTF-8 bytes of any text. */
function fnv1aUtf8(text: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % buckets;
}

/** The per-bucket keys (one slot). */
export interface BucketKeys {
  /** `<prefix>{b:NN}:`, the start of every key in the bucket's slot. */
  base: string;
  conversations: string;
  conversationIds: string;
  agents: string;
  cacheKeys: string;
  cacheExpiry: string;
  stateKeys: string;
  counters: string;
  /** The full-text index's doc <-> doc number hash (see `search-lua.ts` for the rest). */
  searchDocs: string;
  /** The generation of the v1 -> v2 upgrade that finished (see `upgrade-fence.ts`). */
  upgraded: string;
}

/** The keys of one conversation, all in the slot of its bucket. */
export interface ConversationKeys {
  conversation: string;
  meta: string;
  raw: string;
  chunks: string;
  memories: string;
  memoryData: string;
  memoryCreated: string;
  bucket: BucketKeys;
}

/** The keys of one agent, all in the slot of its bucket. */
export interface AgentKeys {
  chains: string;
  agent: string;
  chainAppends: string;
  bucket: BucketKeys;
}

/** A single-key record (cache entry or system state) and its bucket. */
export interface ItemKeys {
  key: string;
  bucket: BucketKeys;
}

/** Builds every key name of one store (one prefix). */
export class KeyLayout {
  /** Store-wide keys, in the `{index}` slot (read and written only when a store opens). */
  readonly store: { layout: string; buckets: string; upgrade: string; emptyRawSwept: string };
  /** The keys of every bucket, by bucket number. */
  readonly buckets: readonly BucketKeys[];

  constructor(
    readonly prefix: string,
    readonly bucketCount: number = BUCKET_COUNT,
  ) {
    const at = (name: string) => `${prefix}{index}:${name}`;
    this.store = {
      layout: at('layout'),
      buckets: at('buckets'),
      upgrade: at('upgrade'),
      emptyRawSwept: at('empty-raw-swept'),
    };
    const width = String(bucketCount - 1).length;
    this.buckets = Array.from({ length: bucketCount }, (_, n) => {
      const base = `${prefix}{b:${String(n).padStart(width, '0')}}:`;
      return {
        base,
        conversations: `${base}conversations`,
        conversationIds: `${base}conversation-ids`,
        agents: `${base}agents`,
        cacheKeys: `${base}cache-keys`,
        cacheExpiry: `${base}cache-expiry`,
        stateKeys: `${base}state-keys`,
        counters: `${base}counters`,
        searchDocs: `${base}search-docs`,
        upgraded: `${base}upgraded`,
      };
    });
  }

  private base(kind: RecordKind, id: string): { base: string; bucket: BucketKeys } {
    const bucket = bucketOf(kind, id, this.bucketCount);
    const keys = this.buckets[bucket] as BucketKeys;
    // The record's keys start with its bucket's (one slot).
    return { base: `${keys.base}${kind}:${escapeKeyPart(id)}:`, bucket: keys };
  }

  /** The keys of one conversation (one slot, shared with its bucket). */
  conversation(conversationId: string): ConversationKeys {
    const { base, bucket } = this.base('c', conversationId);
    return {
      conversation: `${base}conversation`,
      meta: `${base}meta`,
      raw: `${base}raw`,
      chunks: `${base}chunks`,
      memories: `${base}memories`,
      memoryData: `${base}memory-data`,
      memoryCreated: `${base}memory-created`,
      bucket,
    };
  }

  /** The keys of one agent (one slot, shared with its bucket). */
  agent(agentId: string): AgentKeys {
    const { base, bucket } = this.base('a', agentId);
    return { chains: `${base}chains`, agent: `${base}agent`, chainAppends: `${base}chain-appends`, bucket };
  }

  /** The key of one cache entry and its bucket. */
  cache(cacheKey: string): ItemKeys {
    const { base, bucket } = this.base('k', cacheKey);
    return { key: `${base}cache`, bucket };
  }

  /** The key of one system state object and its bucket. */
  state(stateKey: string): ItemKeys {
    const { base, bucket } = this.base('s', stateKey);
    return { key: `${base}state`, bucket };
  }
}

/** The record keys of one conversation, in the order the Lua scripts take them. */
export function conversationKeyList(keys: ConversationKeys): string[] {
  return [
    keys.conversation,
    keys.meta,
    keys.raw,
    keys.chunks,
    keys.memories,
    keys.memoryData,
    keys.memoryCreated,
  ];
}

/** The KEYS of `WRITE_RAW`: the list, its count, the any-kind index, counters, then the kinds it checks. */
export function writeRawKeys(keys: ConversationKeys): string[] {
  const { conversationIds, counters } = keys.bucket;
  const kinds = [keys.conversation, keys.chunks, keys.memories, keys.memoryData];
  return [keys.raw, keys.meta, conversationIds, counters, ...kinds];
}
