/** Reading the per-bucket index zsets: every bucket at once (ioredis pipelines the calls). */
import type { RedisConnection } from './connection.js';
import type { BucketKeys, KeyLayout } from './keys.js';

/** Members read per call: no single reply blocks the server on a large bucket. */
const PAGE_SIZE = 10_000;

/** Every member of one index zset in byte order (code point order), read page by page. */
export async function readIndexZset(redis: RedisConnection, key: string): Promise<string[]> {
  const members: string[] = [];
  let from = '-';
  for (;;) {
    const page = await redis.run(`read index ${key}`, (c) =>
      c.zrangebylex(key, from, '+', 'LIMIT', 0, PAGE_SIZE),
    );
    for (const member of page) members.push(member);
    if (page.length < PAGE_SIZE) return members;
    from = `(${page[page.length - 1] as string}`;
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
