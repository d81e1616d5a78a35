/**
 * The open step of every open (read-only ones with `write: false`): it reads the layout, and
 * creates a new store or upgrades a v1 one when writable (see `upgrade.ts`); what a layout
 * version means is `layout-state.ts` ({@link layoutOfVersion}; the public `inspectLayout`).
 */
import { CorruptDataError, StoreNotFoundError } from '../../core/index.js';
import type { RedisConnection } from './connection.js';
import { BUCKET_COUNT, clusterHashTag, KeyLayout, LAYOUT_VERSION } from './keys.js';
import { describeRedisStore, layoutOfVersion, RedisUpgradeRequiredError } from './layout-state.js';
import { upgradeFromV1, type UpgradeHooks, v1IndexKeys } from './upgrade.js';

/** What the open step may do. */
export interface PrepareOptions {
  /** False for a read-only open: nothing is created or upgraded. */
  write: boolean;
  /** Test hooks of the upgrade. */
  upgradeHooks?: UpgradeHooks;
  /** Other `{index}` keys read with the layout version, in the same `MGET` (see {@link PreparedLayout.found}). */
  alsoRead?: readonly string[];
  /** `{index}` keys (and values) a store this open creates starts with, written before its layout version. */
  startWith?: ReadonlyArray<readonly [string, string]>;
}

/** What the open step found and did. */
export interface PreparedLayout {
  /** The store's key names. */
  keys: KeyLayout;
  /** True when `{index}:layout` was absent at the first read (a new store, or one that lost the key). */
  unmarked: boolean;
  /** True when this open created the store (the prefix held none of its keys). */
  created: boolean;
  /** The values of `alsoRead` at the first read, before anything was written. */
  found: Array<string | null>;
}

/** `keys`' groups that one multi-key command may name: all of them on one server, one slot each on a cluster. */
function slotGroups(connection: RedisConnection, keys: readonly string[]): string[][] {
  if (!connection.isCluster) return [[...keys]];
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const tag = clusterHashTag(key);
    const group = groups.get(tag);
    if (group === undefined) groups.set(tag, [key]);
    else group.push(key);
  }
  return [...groups.values()];
}

/** How many of `keys` exist: one `EXISTS` on a server, one per slot on a cluster, sent together. */
async function countExisting(connection: RedisConnection, keys: readonly string[]): Promise<number> {
  const counts = await Promise.all(
    slotGroups(connection, keys).map((group) =>
      connection.run('read layout keys', (c) => c.exists(...group)),
    ),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

/**
 * What a prefix without `{index}:layout` holds. The key is written once and read only at open,
 * so under a `maxmemory-policy` other than `noeviction` it is the least recently used: a v2
 * store that lost it is recognised by keys only v2 writes (the bucket count, or a bucket's
 * counters hash, which every record write touches), and only when nothing of the v1 layout's
 * `{index}` sets or an upgrade's progress is there. A v1 store or an unfinished upgrade without
 * its layout key is refused, read-only or not: taken for a new v2 store, its data would be
 * left unread (before 2026-12-03 a writable open did that). An empty prefix is `missing`.
 * Counted first (an empty prefix, the usual case, is one `EXISTS` on a server): which keys of
 * the older layout are there is asked only when some are, for the error.
 */
async function recogniseUnmarked(connection: RedisConnection, keys: KeyLayout): Promise<'missing' | 'v2'> {
  const older = [keys.store.upgrade, ...v1IndexKeys(keys.prefix)];
  const v2 = [keys.store.buckets, ...keys.buckets.map((bucket) => bucket.counters)];
  if ((await countExisting(connection, [...older, ...v2])) === 0) return 'missing';
  if ((await countExisting(connection, older)) > 0) {
    const found = await Promise.all(
      older.map((key) => connection.run('read layout keys', (c) => c.exists(key))),
    );
    const left = older.filter((_, i) => found[i] === 1);
    if (left.length > 0) {
      throw new CorruptDataError(
        `redis key ${keys.store.layout}`,
        `missing (evicted?) while ${left.map((key) => JSON.stringify(key)).join(', ')} of the v1 layout or ` +
          `of an upgrade to v2 are there: set it back by hand ("1" for a v1 store, "1>2" while ` +
          `${JSON.stringify(keys.store.upgrade)} exists) and open the store writable, which upgrades it`,
      );
    }
    // Gone meanwhile (an upgrade finished): the v2 keys decide, as if they had not been there.
    return (await countExisting(connection, v2)) > 0 ? 'v2' : 'missing';
  }
  return 'v2';
}

/**
 * Creates a store: the bucket count, `startWith`, then the layout version, sent together (one
 * connection, in order: whoever sees the version also finds the count); each `NX` but
 * `startWith`'s. Returns whether this open wrote the version (another open may have first).
 */
async function createStore(
  connection: RedisConnection,
  keys: KeyLayout,
  startWith: ReadonlyArray<readonly [string, string]>,
): Promise<boolean> {
  const [, ...written] = await Promise.all([
    connection.run('write bucket count', (c) => c.set(keys.store.buckets, BUCKET_COUNT, 'NX')),
    ...startWith.map(([key, value]) => connection.run('write store key', (c) => c.set(key, value))),
    connection.run('write layout version', (c) => c.set(keys.store.layout, LAYOUT_VERSION, 'NX')),
  ]);
  return written[written.length - 1] === 'OK';
}

/**
 * Makes the prefix hold a v2 store: creates one when missing and upgrades a v1 one (resuming
 * an unfinished upgrade), when `write` allows; then checks the bucket count. An existing v2
 * store is one `MGET` (the layout version, the bucket count and `alsoRead`).
 */
export async function prepareLayout(
  connection: RedisConnection,
  prefix: string,
  options: PrepareOptions,
): Promise<PreparedLayout> {
  const keys = new KeyLayout(prefix);
  const { layout, buckets } = keys.store;
  const first = await connection.run('read layout version', (c) =>
    c.mget(layout, buckets, ...(options.alsoRead ?? [])),
  );
  const [version = null, firstCount = null, ...found] = first;
  let state = layoutOfVersion(keys, version);
  let count = firstCount;
  let created = false;
  if (state === 'missing') {
    state = await recogniseUnmarked(connection, keys);
    if (state === 'v2' && options.write) {
      // A v2 store that lost its layout key: a writer puts it back (NX, as a new store's below).
      await connection.run('write layout version', (c) => c.set(layout, LAYOUT_VERSION, 'NX'));
    }
  }
  if (state === 'missing' && options.write) {
    created = await createStore(connection, keys, options.startWith ?? []);
    const [again = null, storedCount = null] = await connection.run('read layout version', (c) =>
      c.mget(layout, buckets),
    );
    state = layoutOfVersion(keys, again);
    count = storedCount;
  }
  if (state === 'missing') {
    throw new StoreNotFoundError(
      'redis',
      describeRedisStore(connection.label, prefix),
      `no layout key ${JSON.stringify(keys.store.layout)}`,
    );
  }
  if (state === 'v1' || state === 'upgrading') {
    if (!options.write) {
      throw new RedisUpgradeRequiredError(describeRedisStore(connection.label, prefix), prefix, state);
    }
    await upgradeFromV1(connection, keys, options.upgradeHooks);
    count = await connection.run('read bucket count', (c) => c.get(buckets));
  }
  if (count === null && state === 'v2') {
    // Written before the version and never changed, so only an eviction (a maxmemory-policy
    // other than noeviction) or a hand delete removes it: the count is the one every v2 store
    // has. A writer puts it back; a read-only open takes it as read. (Before, such a store
    // never opened again: "bucket count null is not supported".)
    if (options.write) {
      await connection.run('write bucket count', (c) => c.set(keys.store.buckets, BUCKET_COUNT, 'NX'));
    }
    count = String(BUCKET_COUNT);
  }
  if (count !== String(BUCKET_COUNT)) {
    throw new CorruptDataError(
      `redis key ${keys.store.buckets}`,
      `bucket count ${JSON.stringify(count)} is not supported (this library uses ${BUCKET_COUNT})`,
    );
  }
  return { keys, unmarked: version === null, created, found };
}
