/**
 * The layout key of a Redis store (`<prefix>{index}:layout`): written on the first writable
 * open, and the mark that a prefix holds a store. Everything a read-only open checks about a
 * prefix lives here, so a new key layout only has to change this file.
 */
import { CorruptDataError, StoreNotFoundError } from '../../core/index.js';
import type { RedisConnection } from './connection.js';
import { type KeyLayout, LAYOUT_VERSION } from './keys.js';

/** The store as messages name it: the server (`label` is already redacted) and the key prefix. */
export function describeRedisStore(label: string, keys: KeyLayout): string {
  return `${label} prefix ${JSON.stringify(keys.prefix)}`;
}

/**
 * Claims the prefix for this layout version (writable) or checks that it holds a store
 * (read-only: a missing layout key is a {@link StoreNotFoundError}, and nothing is written).
 * A layout version other than ours is refused either way.
 */
export async function checkLayoutVersion(
  connection: RedisConnection,
  keys: KeyLayout,
  readOnly: boolean,
): Promise<void> {
  const key = keys.index.layout;
  if (!readOnly) await connection.run('write layout version', (c) => c.set(key, LAYOUT_VERSION, 'NX'));
  const version = await connection.run('read layout version', (c) => c.get(key));
  if (version === null && readOnly) {
    throw new StoreNotFoundError(
      'redis',
      describeRedisStore(connection.label, keys),
      `no layout key ${JSON.stringify(key)}`,
    );
  }
  if (version !== LAYOUT_VERSION) {
    throw new CorruptDataError(
      `redis key ${key}`,
      `key layout version ${JSON.stringify(String(version))} is not supported (this library writes ${LAYOUT_VERSION})`,
    );
  }
}
