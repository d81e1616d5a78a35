/**
 * Which key layout a prefix holds ({@link inspectLayout}, public) and the error of a read-only
 * open that finds one needing an upgrade. Apart from `layout.ts`'s open step, which needs the
 * connection: the package's public declarations must not reach ioredis's own types.
 */
import { CorruptDataError, StoreNeedsUpgradeError } from '../../core/index.js';
import type { RedisClient } from './config.js';
import type { IoredisClient } from './ioredis-client.js';
import { KeyLayout, LAYOUT_VERSION, UPGRADING_LAYOUT_VERSION, V1_LAYOUT_VERSION } from './keys.js';

/** What a prefix holds: nothing, the v1 layout, the v2 layout, or a v1 -> v2 upgrade under way. */
export type LayoutState = 'missing' | 'v1' | 'v2' | 'upgrading';

/**
 * A read-only open of a prefix that holds the v1 layout (or a v1 -> v2 upgrade that did not
 * finish): open it once writable, which upgrades it in place.
 */
export class RedisUpgradeRequiredError extends StoreNeedsUpgradeError {
  constructor(
    store: string,
    /** The store's key prefix. */
    readonly prefix: string,
    /** What the prefix holds: `v1`, the v1 layout; `upgrading`, a v1 -> v2 upgrade that did not finish. */
    readonly layout: 'v1' | 'upgrading',
  ) {
    super('redis', store, 1, Number(LAYOUT_VERSION));
  }
}

/** The store as messages name it: the server (`label` is already redacted) and the key prefix. */
export function describeRedisStore(label: string, prefix: string): string {
  return `${label} prefix ${JSON.stringify(prefix)}`;
}

/** The layout at `prefix` (one GET); an unknown version is `CorruptDataError`. */
export async function inspectLayout(client: RedisClient, prefix: string): Promise<LayoutState> {
  const keys = new KeyLayout(prefix);
  // Public: typed by the config's RedisClient, which keeps ioredis's own types out of the package's.
  return layoutOfVersion(keys, await (client as unknown as IoredisClient).get(keys.store.layout));
}

/** What the value of `{index}:layout` (`version`, null when absent) says; an unknown one is `CorruptDataError`. */
export function layoutOfVersion(keys: KeyLayout, version: string | null): LayoutState {
  if (version === UPGRADING_LAYOUT_VERSION) return 'upgrading';
  if (version === null) return 'missing';
  if (version === V1_LAYOUT_VERSION) return 'v1';
  if (version === LAYOUT_VERSION) return 'v2';
  throw new CorruptDataError(
    `redis key ${keys.store.layout}`,
    `key layout version ${JSON.stringify(version)} is not supported (this library writes ${LAYOUT_VERSION})`,
  );
}
