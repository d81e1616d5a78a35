/**
 * Repair, once per store, of what `storeRawMessages(id, [])` left before the empty-list rule
 * (an empty list is no stored data: see `WRITE_RAW`). Redis cannot hold an empty list, so such
 * a write kept the count `raw = 0` (and `raw-bytes = 0`) in the conversation's meta hash and
 * the id in its bucket's any-kind index (`conversation-ids`); it added nothing to a counter.
 * Such an id stayed listed by `listAllConversationIds` until it was written again.
 *
 * A writable open sweeps every bucket's any-kind index once: for each id whose meta says
 * `raw = 0`, one script removes the count and, when no conversation, chunk info or memory of
 * the id is stored, its index entry; then `<prefix>{index}:empty-raw-swept` records that the
 * store needs no sweep again. A store this version creates is written with that marker, as it
 * holds nothing to sweep (before, its first open swept 64 empty buckets: 64 `ZRANGEBYLEX`, 16
 * round trips). Each page of ids is one script that looks at every id again, so the sweep is
 * safe beside other processes, of this version or an earlier one: an id written meanwhile is
 * judged by what it holds when its page runs. A process of an earlier version
 * that writes an empty list after the sweep leaves the old state again for that id; its next
 * raw-message write or its last memory's deletion by this version clears it (see README).
 */
import { mapConcurrent } from '../../core/concurrency.js';
import type { RedisConnection } from './connection.js';
import type { BucketKeys, KeyLayout } from './keys.js';
import { LuaScript } from './scripts.js';

/** Ids looked at per script (5 keys each): short enough that no script blocks the server long. */
const PAGE_SIZE = 500;

/**
 * The keys the scripts read per id: its meta, then what else it may hold (conversation, chunk
 * info, memory id list, memory data: either memory key may survive an eviction of the other).
 */
function idKeys(keys: KeyLayout, id: string): string[] {
  const k = keys.conversation(id);
  return [k.meta, k.conversation, k.chunks, k.memories, k.memoryData];
}

/** Buckets swept at once. */
const BUCKET_CONCURRENCY = 4;

/**
 * Clears the `raw = 0` state of the page's ids. KEYS: conversation-ids, then per id its
 * {@link idKeys}. ARGV: the ids. A key of another type than expected is left alone (the
 * record's own writes report it). Returns the ids removed from the index.
 */
const CLEAR_EMPTY_RAW = new LuaScript(
  'clearEmptyRaw',
  `local removed = 0
for i = 1, #ARGV do
  local k = 2 + (i - 1) * 5
  local raw = redis.pcall('HGET', KEYS[k], 'raw')
  if raw == '0' then
    redis.call('HDEL', KEYS[k], 'raw', 'raw-bytes')
    if redis.call('EXISTS', KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]) == 0 then
      removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
    end
  end
end
return removed`,
);

/** Sweeps one bucket's any-kind index page by page; returns the ids removed from it. */
async function sweepBucket(redis: RedisConnection, keys: KeyLayout, bucket: BucketKeys): Promise<number> {
  let removed = 0;
  let from = '-';
  for (;;) {
    const ids = await redis.run('read conversation ids to repair', (c) =>
      c.zrangebylex(bucket.conversationIds, from, '+', 'LIMIT', 0, PAGE_SIZE),
    );
    if (ids.length === 0) return removed;
    const scriptKeys = [bucket.conversationIds, ...ids.flatMap((id) => idKeys(keys, id))];
    removed += Number(await redis.script('repair empty raw-message lists', CLEAR_EMPTY_RAW, scriptKeys, ids));
    if (ids.length < PAGE_SIZE) return removed;
    // Keyset paging: an id removed by the page does not shift the next one.
    from = `(${ids[ids.length - 1] as string}`;
  }
}

/**
 * Repairs the empty raw-message lists an earlier version left (see the module comment), unless
 * the store was swept already: `swept`, the marker as the open read it, else one GET. Returns
 * the ids that left the any-kind index.
 */
export async function repairEmptyRawLists(
  redis: RedisConnection,
  keys: KeyLayout,
  swept?: string | null,
): Promise<number> {
  const marker = keys.store.emptyRawSwept;
  const found =
    swept !== undefined ? swept : await redis.run('read empty raw-list repair marker', (c) => c.get(marker));
  if (found !== null) return 0;
  const counts = await mapConcurrent([...keys.buckets], BUCKET_CONCURRENCY, (bucket) =>
    sweepBucket(redis, keys, bucket),
  );
  await redis.run('write empty raw-list repair marker', (c) => c.set(marker, '1'));
  return counts.reduce((sum, n) => sum + n, 0);
}

/**
 * Of the page's ids, those that are only an empty raw-message list of an earlier version (the
 * meta's `raw = 0`, no conversation, chunk info or memory). KEYS: per id its {@link idKeys}.
 * ARGV: the ids. Reads only (a read-only open uses it).
 */
const FIND_EMPTY_RAW = new LuaScript(
  'findEmptyRaw',
  `local found = {}
for i = 1, #ARGV do
  local k = 1 + (i - 1) * 5
  if redis.pcall('HGET', KEYS[k], 'raw') == '0' and redis.call('EXISTS', KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]) == 0 then
    found[#found + 1] = ARGV[i]
  end
end
return found`,
);

/**
 * `ids` without those the sweep would remove, read without writing: what a read-only open of
 * a store not swept yet lists (a writable open sweeps instead). One script per page of ids.
 */
export async function withoutEmptyRawIds(
  redis: RedisConnection,
  keys: KeyLayout,
  ids: readonly string[],
): Promise<string[]> {
  const empty = new Set<string>();
  for (let start = 0; start < ids.length; start += PAGE_SIZE) {
    const page = ids.slice(start, start + PAGE_SIZE);
    const scriptKeys = page.flatMap((id) => idKeys(keys, id));
    const found = (await redis.script(
      'find empty raw-message lists',
      FIND_EMPTY_RAW,
      scriptKeys,
      page,
    )) as string[];
    for (const id of found) empty.add(id);
  }
  return empty.size === 0 ? [...ids] : ids.filter((id) => !empty.has(id));
}
