/** Reading the per-bucket index zsets: every bucket at once (ioredis pipelines the calls). */
import type { RedisConnection } from './connection.js';
import type { BucketKeys, KeyLayout } from './keys.js';

/** Members read per call: no single reply blocks the server on a large bucket. */
const PAGE_SIZE = 10_000;

/**
 * Up to `count` members of one index zset after `after` (`null`: from the start), in byte
 * order. Its errors name the key (the server's `WRONGTYPE` names none).
 */
export function readIndexPage(
  redis: RedisConnection,
  key: string,
  after: string | null,
  count: number,
): Promise<string[]> {
  const from = after === null ? '-' : `(${after}`;
  return redis.run(`read index ${key}`, (c) => c.zrangebylex(key, from, '+', 'LIMIT', 0, count));
}

/** Every member of one index zset in byte order (code point order), read page by page. */
export async function readIndexZset(redis: RedisConnection, key: string): Promise<string[]> {
  const members: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await readIndexPage(redis, key, after, PAGE_SIZE);
    for (const member of page) members.push(member);
    if (page.length < PAGE_SIZE) return members;
    after = page[page.length - 1] as string;
  }
}

/** The members of one index of every bucket (unsorted across buckets; each bucket in byte order). */
export async function readAllBuckets(
  redis: RedisConnection,
  keys: KeyLayout,
  index: (bucket: BucketKeys) => string,
): Promise<string[]> {
  const lists = await Promise.all(keys.buckets.map((bucket) => readIndexZset(redis, index(bucket))));
  return lists.flat();
}
