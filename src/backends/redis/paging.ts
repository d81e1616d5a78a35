/**
 * Keyset pages and window reads on Redis. Each bucket's index zset (score 0) is in byte order,
 * which is code point order, so a page is `ZRANGE key (<after> + BYLEX LIMIT 0 n` per bucket
 * (all 64 pipelined in one round trip) and a merge of the per-bucket pages. Raw messages are a
 * list, so their window is one `LRANGE`; memories are an id list plus hashes, read by range
 * in one script.
 */
import type { JsonObject, JsonValue, ListingName } from '../../core/index.js';
import { compareCodePoints, sortInCodePointOrder } from '../../core/order.js';
import { readIndexPage } from './bucket-index.js';
import { readLiveCachePage } from './cache.js';
import { decodeJson, decodeMemories } from './codec.js';
import type { RedisConnection } from './connection.js';
import type { BucketKeys, ConversationKeys, KeyLayout } from './keys.js';
import { READ_MEMORIES } from './memory-scripts.js';
import { READ_RAW } from './record-scripts.js';
import { quoteName } from '../../core/shown-text.js';

/** What one bucket gave: its ids after the cursor (live ones for the cache), and how far it read. */
interface BucketRead {
  ids: string[];
  /** The last index member read, or `null` when the bucket has nothing more after the cursor. */
  readTo: string | null;
}

/** Reads up to `count` index members of one bucket after `after` (`null`: from the start). */
type BucketReader = (bucket: BucketKeys, after: string | null, count: number) => Promise<BucketRead>;

/** The index zset of each plain listing. */
const INDEX: Record<Exclude<ListingName, 'cacheKeys'>, keyof BucketKeys> = {
  conversations: 'conversations',
  allConversationIds: 'conversationIds',
  agents: 'agents',
  systemStateKeys: 'stateKeys',
};

/**
 * Up to `limit` ids of `listing` after `after`, in code point order. A first round reads about
 * twice a bucket's share of the page from every bucket (ids are spread evenly by hash); the ids
 * up to the smallest "read to" of the buckets that have more are final. When they are too few
 * (a skewed store, or many expired cache entries), the buckets that have more are read further,
 * `limit` members each, until the page is full or every bucket is exhausted.
 */
export async function readRedisIdPage(
  redis: RedisConnection,
  keys: KeyLayout,
  listing: ListingName,
  page: { after: string | null; limit: number; nowMs: number; keep?: IdFilter },
): Promise<string[]> {
  const read = bucketReader(redis, listing, page.nowMs, page.keep);
  const buckets = keys.buckets;
  const firstCount = Math.min(page.limit, Math.ceil((page.limit * 2) / buckets.length) + 8);
  const reads = await Promise.all(buckets.map((bucket) => read(bucket, page.after, firstCount)));
  const ids: string[] = reads.flatMap((r) => r.ids);
  for (;;) {
    // Every bucket that has more is read up to `horizon` at least: ids up to it are complete.
    const open = reads.filter((r) => r.readTo !== null).map((r) => r.readTo as string);
    const horizon = open.length === 0 ? null : open.reduce((a, b) => (compareCodePoints(a, b) <= 0 ? a : b));
    sortInCodePointOrder(ids);
    const final = horizon === null ? ids : ids.filter((id) => compareCodePoints(id, horizon) <= 0);
    if (horizon === null || final.length >= page.limit) return final.slice(0, page.limit);
    await Promise.all(
      reads.map(async (r, i) => {
        if (r.readTo === null) return;
        const more = await read(buckets[i] as BucketKeys, r.readTo, page.limit);
        ids.push(...more.ids);
        r.readTo = more.readTo;
      }),
    );
  }
}

/**
 * Which of the ids one bucket's index gave are listed (all of them when absent): the page goes
 * on from the last member read, so an id left out does not end a bucket early.
 */
export type IdFilter = (ids: string[]) => Promise<string[]>;

/** How one bucket of `listing` is read. */
function bucketReader(
  redis: RedisConnection,
  listing: ListingName,
  nowMs: number,
  keep?: IdFilter,
): BucketReader {
  if (listing === 'cacheKeys') {
    // The cache index holds expired entries until a write or purge trims them: the script
    // returns the live ones among the members it read, and the last member read.
    return async (bucket, after, count) => {
      const { live, last } = await readLiveCachePage(redis, bucket, { nowMs, after: after ?? '', count });
      return { ids: live, readTo: last };
    };
  }
  const index = INDEX[listing];
  return async (bucket, after, count) => {
    const ids = await readIndexPage(redis, bucket[index], after, count);
    const readTo = ids.length === count ? (ids[ids.length - 1] as string) : null;
    return { ids: keep === undefined || ids.length === 0 ? ids : await keep(ids), readTo };
  };
}

/** Raw messages at `offset` (up to `limit`, all when `null`): one `LRANGE`. */
export async function readRedisRawWindow(
  redis: RedisConnection,
  k: ConversationKeys,
  conversationId: string,
  window: { offset: number; limit: number | null },
): Promise<JsonValue[]> {
  const stop = window.limit === null ? -1 : window.offset + window.limit - 1;
  const what = `load raw messages of ${quoteName(conversationId)}`;
  const items = (await redis.script(what, READ_RAW, [k.raw, k.meta], [window.offset, stop])) as
    string[] | null;
  return (items ?? []).map((json, i) => decodeJson(json, `${k.raw} item ${window.offset + i}`));
}

/** Memories at `offset` (up to `limit`, all when `null`), in insertion order. */
export async function readRedisMemoryWindow(
  redis: RedisConnection,
  k: ConversationKeys,
  conversationId: string,
  window: { offset: number; limit: number | null },
): Promise<JsonObject[]> {
  const stop = window.limit === null ? -1 : window.offset + window.limit - 1;
  const flat = (await redis.script(
    `load memories of ${quoteName(conversationId)}`,
    READ_MEMORIES,
    [k.memories, k.memoryData, k.memoryCreated],
    [window.offset, stop],
  )) as Array<string | null>;
  return decodeMemories(flat, k, conversationId);
}
