/**
 * The open step that creates a new store or upgrades a v1 one (see `upgrade.ts`); which layout
 * a prefix holds is `layout-state.ts` (a read-only open calls {@link inspectLayout} alone).
 */
import { CorruptDataError, StoreNotFoundError } from '../../core/index.js';
import type { RedisConnection } from './connection.js';
import { BUCKET_COUNT, KeyLayout, LAYOUT_VERSION } from './keys.js';
import { describeRedisStore, inspectLayout, RedisUpgradeRequiredError } from './layout-state.js';
import { upgradeFromV1, type UpgradeHooks, v1IndexKeys } from './upgrade.js';

/** What the open step may do. */
export interface PrepareOptions {
  /** False for a read-only open: nothing is created or upgraded. */
  write: boolean;
  /** Test hooks of the upgrade. */
  upgradeHooks?: UpgradeHooks;
}

/**
 * What a prefix without `{index}:layout` holds. The key is written once and read only at open,
 * so under a `maxmemory-policy` other than `noeviction` it is the least recently used: a v2
 * store that lost it is recognised by keys only v2 writes (the bucket count, or a bucket's
 * counters hash, which every record write touches), and only when nothing of the v1 layout's
 * `{index}` sets or an upgrade's progress is there. A v1 store or an unfinished upgrade without
 * its layout key is refused, read-only or not: taken for a new v2 store, its data would be
 * left unread (before 2026-12-03 a writable open did that). An empty prefix is `missing`.
 */
async function recogniseUnmarked(connection: RedisConnection, keys: KeyLayout): Promise<'missing' | 'v2'> {
  const what = 'read layout keys';
  const older = [keys.store.upgrade, ...v1IndexKeys(keys.prefix)];
  const found = await Promise.all(older.map((key) => connection.run(what, (c) => c.exists(key))));
  const left = older.filter((_, i) => found[i] === 1);
  if (left.length > 0) {
    throw new CorruptDataError(
      `redis key ${keys.store.layout}`,
      `missing (evicted?) while ${left.map((key) => JSON.stringify(key)).join(', ')} of the v1 layout or ` +
        `of an upgrade to v2 are there: set it back by hand ("1" for a v1 store, "1>2" while ` +
        `${JSON.stringify(keys.store.upgrade)} exists) and open the store writable, which upgrades it`,
    );
  }
  if ((await connection.run(what, (c) => c.exists(keys.store.buckets))) === 1) return 'v2';
  const counters = await Promise.all(
    keys.buckets.map((bucket) => connection.run(what, (c) => c.exists(bucket.counters))),
  );
  return counters.includes(1) ? 'v2' : 'missing';
}

/**
 * Makes the prefix hold a v2 store: creates one when missing and upgrades a v1 one (resuming
 * an unfinished upgrade), when `write` allows; then checks the bucket count. Returns the layout.
 */
export async function prepareLayout(
  connection: RedisConnection,
  prefix: string,
  options: PrepareOptions,
): Promise<KeyLayout> {
  const keys = new KeyLayout(prefix);
  let state = await connection.run('read layout version', (c) => inspectLayout(c, prefix));
  if (state === 'missing') {
    state = await recogniseUnmarked(connection, keys);
    if (state === 'v2' && options.write) {
      // A v2 store that lost its layout key: a writer puts it back (NX, as a new store's below).
      await connection.run('write layout version', (c) => c.set(keys.store.layout, LAYOUT_VERSION, 'NX'));
    }
  }
  if (state === 'missing' && options.write) {
    // Bucket count first: whoever sees the version also finds the count.
    await connection.run('write bucket count', (c) => c.set(keys.store.buckets, BUCKET_COUNT, 'NX'));
    await connection.run('write layout version', (c) => c.set(keys.store.layout, LAYOUT_VERSION, 'NX'));
    state = await connection.run('read layout version', (c) => inspectLayout(c, prefix));
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
  }
  let count = await connection.run('read bucket count', (c) => c.get(keys.store.buckets));
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
  return keys;
}
