/**
 * The cache on Redis: entries carry their own expiry (`SET ... PX`), so Redis removes the
 * values itself; their index entries (a zset per bucket scored by expiry) are trimmed by the
 * next writes to the same bucket, filtered by score on reads, and removed by a purge.
 */
import type { CacheRecord } from '../../core/index.js';
import type { ValueName } from '../../core/shown-text.js';
import { mapConcurrent } from '../../core/concurrency.js';
import { parseTimestamp } from '../../core/index.js';
import { encodeCacheRecord } from './codec.js';
import type { RedisConnection } from './connection.js';
import type { BucketKeys, ItemKeys, KeyLayout } from './keys.js';
import { LIST_LIVE_CACHE, PURGE_CACHE, WRITE_CACHE } from './cache-scripts.js';
import { nameWrongType, type TypedKey } from './wrong-types.js';

/** Expired index entries a cache write removes from its bucket at most (bounds the write's cost). */
export const TRIM_PER_WRITE = 16;
/** Keys a listing reads per call and bucket. */
const LIST_PAGE_SIZE = 5_000;

/** A record's expiry in epoch ms (`null`: none) and its PX from `nowMs` (0: none; at least 1 otherwise). */
function expiryOf(record: CacheRecord, nowMs: number): [number | null, number] {
  const expiresAtMs = record.expiresAt === null ? null : parseTimestamp(record.expiresAt);
  return [expiresAtMs, expiresAtMs === null ? 0 : pxUntil(expiresAtMs, nowMs)];
}

/** The PX of a value expiring at `expiresAtMs`, from `nowMs`: at least 1 (0 would mean none). */
export function pxUntil(expiresAtMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil(expiresAtMs - nowMs));
}

/**
 * A cache record's script arguments at `nowMs`: its stored value, PX in ms (0: no expiry; at
 * least 1 otherwise) and its index score (its `expiresAt` in ms; 0 when it has none).
 */
export function cacheValueArgs(record: CacheRecord, nowMs: number): [string, number, number] {
  const [expiresAtMs, ttlMs] = expiryOf(record, nowMs);
  return [encodeCacheRecord(record), ttlMs, expiresAtMs ?? 0];
}

/**
 * The PX and score of records at `nowMs` as `'<PX> <score>'` (see {@link cacheValueArgs}),
 * worked out once per distinct `expiresAt`: the entries of one batch call share theirs.
 */
export function cacheExpiryArgs(nowMs: number): (record: CacheRecord) => string {
  let last: { expiresAt: string | null; text: string } | undefined;
  return (record) => {
    if (last?.expiresAt !== record.expiresAt) {
      const [expiresAtMs, ttlMs] = expiryOf(record, nowMs);
      last = { expiresAt: record.expiresAt, text: `${ttlMs} ${expiresAtMs ?? 0}` };
    }
    return last.text;
  };
}

/**
 * Writes a cache record and its index entries in one script; with an expiry, Redis deletes the
 * value then (PX: relative, so the server's clock does not move that instant). The index score
 * is the record's `expiresAt` and the trim's now is this client's: the clock every reader
 * compares with (loads check `expiresAt`, listings and stats pass their own now).
 */
export function writeCacheValue(
  redis: RedisConnection,
  what: ValueName,
  cacheKey: string,
  keys: ItemKeys,
  record: CacheRecord,
): Promise<void> {
  const nowMs = Date.now();
  const [value, ttlMs, score] = cacheValueArgs(record, nowMs);
  const args = [cacheKey, value, ttlMs, TRIM_PER_WRITE, score, nowMs];
  const { cacheKeys, cacheExpiry } = keys.bucket;
  // Its reply (nil) is read by no caller: returned as is, without an async frame per write.
  return redis.script(what, WRITE_CACHE, [keys.key, cacheKeys, cacheExpiry], args) as Promise<void>;
}

/** The keys a bucket's cache scripts read besides the value keys, with their types. */
const cacheIndexKeys = (bucket: BucketKeys): TypedKey[] => [
  [bucket.cacheKeys, 'zset'],
  [bucket.cacheExpiry, 'zset'],
];

/**
 * One page of a bucket's cache keys live at `nowMs`, after `after` ('': from the start): the
 * live ones among up to `count` index members, and the last member read (`null`: none after).
 * An index zset of another type is a `CorruptDataError` naming it.
 */
export async function readLiveCachePage(
  redis: RedisConnection,
  bucket: BucketKeys,
  page: { nowMs: number; after: string; count: number },
): Promise<{ live: string[]; last: string | null }> {
  const what = 'list cache keys';
  const reply = (await redis
    .script(
      what,
      LIST_LIVE_CACHE,
      [bucket.cacheKeys, bucket.cacheExpiry],
      [page.nowMs, page.after, page.count],
    )
    .catch((error: unknown) => nameWrongType(redis, what, cacheIndexKeys(bucket), error))) as [
    string | null,
    string[],
  ];
  return { last: reply[0], live: reply[1] };
}

/** Keys of the cache entries live at `nowMs`, from the index alone (no per-entry read). */
export async function listLiveCacheKeys(
  redis: RedisConnection,
  keys: KeyLayout,
  nowMs: number,
): Promise<string[]> {
  const perBucket = await Promise.all(
    keys.buckets.map(async (bucket) => {
      const live: string[] = [];
      let after = '';
      for (;;) {
        const page = await readLiveCachePage(redis, bucket, { nowMs, after, count: LIST_PAGE_SIZE });
        live.push(...page.live);
        if (page.last === null) return live;
        after = page.last;
      }
    }),
  );
  return perBucket.flat();
}

/**
 * Removes the index entries of expired cache entries, and those whose value is gone (a crash,
 * an eviction, a key of another type in its place, which stays); returns how many. Each bucket is one script, so two purges never count one entry twice.
 */
export async function purgeCacheIndex(
  redis: RedisConnection,
  keys: KeyLayout,
  nowMs: number,
): Promise<number> {
  // All buckets at once (one pipelined round trip), but settled together: a failed bucket
  // does not leave the others' scripts running after the call has rejected.
  const counts = await mapConcurrent(keys.buckets, keys.buckets.length, (bucket) => {
    const valuePrefix = `${bucket.base}k:`;
    const what = 'purge expired cache';
    // Value keys of another type are read under pcall (values gone): only an index zset fails it.
    return redis
      .script(what, PURGE_CACHE, [bucket.cacheKeys, bucket.cacheExpiry], [nowMs, valuePrefix])
      .catch((error: unknown) =>
        nameWrongType(redis, what, cacheIndexKeys(bucket), error),
      ) as Promise<number>;
  });
  return counts.reduce((sum, n) => sum + n, 0);
}
