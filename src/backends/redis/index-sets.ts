/** Reading the global index sets and checking their entries against the data they point to. */
import { mapConcurrent } from '../../core/concurrency.js';
import type { RedisConnection } from './connection.js';

/** How many per-entry checks run at once (ioredis pipelines them). */
const CONCURRENCY = 128;
/** SSCAN batch size: no single call blocks the server on a large set. */
const SCAN_COUNT = 1000;

/**
 * Maps `items` through `fn` with at most {@link CONCURRENCY} calls in flight; keeps order.
 * After the first failure no further item starts (see {@link mapConcurrent}): the caller gets
 * its error, and going on would keep a down server's connection busy (and a purge writing).
 */
export function mapIndexEntries<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  return mapConcurrent(items, CONCURRENCY, (item) => fn(item));
}

/** Every member of an index set, read with SSCAN (never SMEMBERS on a set of unknown size). */
export async function readIndex(connection: RedisConnection, key: string): Promise<string[]> {
  const members = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await connection.run(`read index ${key}`, (client) =>
      client.sscan(key, cursor, 'COUNT', SCAN_COUNT),
    );
    for (const member of batch) members.add(member);
    cursor = next;
  } while (cursor !== '0');
  return [...members];
}

/** The members of an index set for which `exists` holds (entries whose data is gone are skipped). */
export async function liveMembers(
  connection: RedisConnection,
  indexKey: string,
  exists: (member: string) => Promise<boolean>,
): Promise<string[]> {
  const members = await readIndex(connection, indexKey);
  const alive = await mapIndexEntries(members, exists);
  return members.filter((_, i) => alive[i]);
}
