/**
 * Batches on Redis. A conversation's memories and an agent's chains live in one slot, so each
 * such batch is one script (all or nothing; chains: `appendChainRecords` in `chains.ts`). Cache
 * keys spread over buckets (slots): on a standalone server a cache batch (a write or a delete)
 * is one script (all or nothing) and a batch load one `MGET` (and, when it misses keys, an `EXISTS` of them); on a cluster, one of each per
 * bucket, sent together (pipelined), each bucket's part all or nothing, and a failure reports
 * which items are known written (`BatchPartiallyAppliedError`).
 */
import {
  cacheBatchFailure,
  type CacheRecord,
  type CacheRecordWrite,
  keyedItems,
  type MemoryWrite,
} from '../../core/index.js';
import { cacheExpiryArgs, TRIM_PER_WRITE } from './cache.js';
import { decodeCacheRecord, encodeCacheRecord } from './codec.js';
import type { RedisConnection } from './connection.js';
import type { BucketKeys, KeyLayout } from './keys.js';
import { searchOwner, type SearchWriter } from './search-writer.js';
import { REMOVE_CACHES, UPSERT_MEMORIES, WRITE_CACHES } from './batch-scripts.js';
import { quoteName } from '../../core/shown-text.js';

const q = quoteName;

/**
 * Upserts memories of one conversation in order, in one script (with their search docs). A
 * memory whose created_at was not chosen by the caller and equals the first such one's (a
 * batch stamps them all with one time) sends none: the script takes the batch's default.
 */
export async function upsertMemoryBatch(
  redis: RedisConnection,
  keys: KeyLayout,
  search: SearchWriter,
  conversationId: string,
  writes: readonly MemoryWrite[],
): Promise<void> {
  const k = keys.conversation(conversationId);
  const stamp = writes.find((write) => !write.explicitCreatedAt)?.record.created_at ?? null;
  const fallback = JSON.stringify(stamp);
  const args = [conversationId, search.flag, searchOwner(conversationId), fallback, String(writes.length)];
  for (const write of writes) {
    // created_at is kept apart for D7: '' for the default, else the chosen flag and its JSON.
    const createdAt = write.record.created_at ?? null;
    const chosen = write.explicitCreatedAt ? '1' : '0';
    const created = !write.explicitCreatedAt && createdAt === stamp ? '' : chosen + JSON.stringify(createdAt);
    args.push(write.memoryId, JSON.stringify(write.record), created);
  }
  if (search.enabled) for (const write of writes) args.push(search.spec('memories', write.record));
  const scriptKeys = [k.memories, k.memoryData, k.memoryCreated, k.bucket.conversationIds, k.bucket.counters];
  await redis.script(
    `store ${writes.length} memories of ${q(conversationId)}`,
    UPSERT_MEMORIES,
    scriptKeys,
    args,
  );
}

/** Groups items by the bucket of their cache key, keeping their order within each bucket. */
function byBucket<T>(keys: KeyLayout, items: readonly T[], keyOf: (item: T) => string): Map<BucketKeys, T[]> {
  const groups = new Map<BucketKeys, T[]>();
  for (const item of items) {
    const { bucket } = keys.cache(keyOf(item));
    const group = groups.get(bucket);
    if (group === undefined) groups.set(bucket, [item]);
    else group.push(item);
  }
  return groups;
}

/**
 * Writes cache records in order (the last of a repeated key wins: one bucket holds every
 * write of a key, in order): one script on a standalone server (all or nothing), one per
 * bucket on a cluster (a script's keys must share a slot there), all sent at once.
 */
export async function writeCacheRecordBatch(
  redis: RedisConnection,
  keys: KeyLayout,
  method: string,
  writes: readonly CacheRecordWrite[],
): Promise<void> {
  const groups = [...byBucket(keys, writes, (write) => write.key)];
  const scripts = redis.isCluster ? groups.map((group) => [group]) : [groups];
  const results = await Promise.allSettled(
    scripts.map((part) => {
      const nowMs = Date.now();
      const expiry = cacheExpiryArgs(nowMs);
      const shared = expiry(part[0]![1][0]!.record);
      const scriptKeys = part.flatMap(([bucket]) => [bucket.cacheKeys, bucket.cacheExpiry]);
      const args: Array<string | number> = [TRIM_PER_WRITE, nowMs, part.length, ...shared.split(' ')];
      for (const [, group] of part) args.push(group.length);
      for (const [, group] of part) {
        for (const write of group) {
          // '' when the entry shares the batch's PX and score (the first entry's).
          const own = expiry(write.record);
          scriptKeys.push(keys.cache(write.key).key);
          args.push(write.key, encodeCacheRecord(write.record), own === shared ? '' : own);
        }
      }
      const count = part.reduce((sum, [, group]) => sum + group.length, 0);
      const first = part[0]![1][0]!.key;
      return redis.script(`store ${count} cache entries from ${q(first)}`, WRITE_CACHES, scriptKeys, args);
    }),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure === undefined) return;
  const written = new Set<string>();
  results.forEach((result, i) => {
    if (result.status !== 'fulfilled') return;
    for (const [, group] of scripts[i]!) for (const write of group) written.add(write.key);
  });
  throw cacheBatchFailure(method, writes, written, failure.reason);
}

/**
 * Deletes the cache entries of `keys` (absent or repeated keys are fine) with their index
 * entries: one script on a standalone server (all or nothing), one per bucket on a cluster,
 * all sent at once; a failure reports the items of the buckets whose script succeeded.
 */
export async function removeCacheRecordBatch(
  redis: RedisConnection,
  keys: KeyLayout,
  cacheKeys: readonly string[],
): Promise<void> {
  const groups = [...byBucket(keys, [...new Set(cacheKeys)], (key) => key)];
  const scripts = redis.isCluster ? groups.map((group) => [group]) : [groups];
  const results = await Promise.allSettled(
    scripts.map((part) => {
      const scriptKeys = part.flatMap(([bucket]) => [bucket.cacheKeys, bucket.cacheExpiry]);
      const args: string[] = [String(part.length)];
      for (const [, group] of part) args.push(String(group.length));
      for (const [, group] of part) {
        for (const key of group) {
          scriptKeys.push(keys.cache(key).key);
          args.push(key);
        }
      }
      const count = part.reduce((sum, [, group]) => sum + group.length, 0);
      const what = `delete ${count} cache entries from ${q(part[0]![1][0]!)}`;
      return redis.script(what, REMOVE_CACHES, scriptKeys, args);
    }),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure === undefined) return;
  const removed = new Set<string>();
  results.forEach((result, i) => {
    if (result.status !== 'fulfilled') return;
    for (const [, group] of scripts[i]!) for (const key of group) removed.add(key);
  });
  throw cacheBatchFailure('deleteCacheEntries', keyedItems(cacheKeys), removed, failure.reason);
}

/**
 * Rejects like the single load (`GET`: `WRONGTYPE`) when one of the value keys an `MGET`
 * answered nil for holds another type: one `EXISTS` of those keys, and only when it counts
 * any, a `TYPE` of each. A key written or deleted since the `MGET` (another client's) is a
 * string or gone by then, and is left as the `MGET` saw it.
 */
async function rejectWrongTyped(
  redis: RedisConnection,
  group: readonly string[],
  valueKeys: readonly string[],
  texts: ReadonlyArray<string | null>,
): Promise<void> {
  const missing = group.flatMap((key, i) => (texts[i] === null ? [i] : []));
  const nilKeys = missing.map((i) => valueKeys[i]!);
  const what = `check ${missing.length} cache entries`;
  if ((await redis.run(what, (c) => c.exists(...nilKeys))) === 0) return;
  const types = await redis.run(what, (c) => Promise.all(nilKeys.map((key) => c.type(key))));
  types.forEach((type, j) => {
    if (type === 'string' || type === 'none') return;
    throw redis.corrupt(
      `load cache entry ${q(group[missing[j]!]!)}`,
      `WRONGTYPE ${nilKeys[j]!} is a ${type}, expected a string`,
    );
  });
}

/**
 * The stored cache records of `keys` (expired or not), aligned with `keys`: one MGET on a
 * standalone server, one per bucket on a cluster (an MGET's keys must share a slot there).
 * `MGET` answers nil for a key of another type, where the single load's `GET` fails, so when
 * it answers nil for any key those keys are checked ({@link rejectWrongTyped}: one round trip
 * more, none for a batch whose keys all hold a value). A key given twice is decoded at each
 * position, so each gets an object of its own, as two single loads would.
 */
export async function readCacheRecordBatch(
  redis: RedisConnection,
  keys: KeyLayout,
  cacheKeys: readonly string[],
): Promise<Array<CacheRecord | null>> {
  const found = new Map<string, { text: string | null; valueKey: string }>();
  const unique = [...new Set(cacheKeys)];
  const groups = redis.isCluster ? [...byBucket(keys, unique, (key) => key).values()] : [unique];
  await Promise.all(
    groups.map(async (group) => {
      const valueKeys = group.map((key) => keys.cache(key).key);
      const texts = await redis.run(`load ${group.length} cache entries from ${q(group[0]!)}`, (c) =>
        c.mget(...valueKeys),
      );
      if (texts.includes(null)) await rejectWrongTyped(redis, group, valueKeys, texts);
      group.forEach((key, i) => found.set(key, { text: texts[i] ?? null, valueKey: valueKeys[i]! }));
    }),
  );
  return cacheKeys.map((key) => {
    const stored = found.get(key);
    return stored === undefined ? null : decodeCacheRecord(stored.text, stored.valueKey);
  });
}
