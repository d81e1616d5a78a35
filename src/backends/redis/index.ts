/** The Redis backend: `RedisStorage` and its config. */
export { RedisStorage } from './redis-storage.js';
export type { RedisClient, RedisStorageConfig } from './config.js';
export { DEFAULT_KEY_PREFIX, DEFAULT_REDIS_URL } from './config.js';
export { inspectLayout, type LayoutState, RedisUpgradeRequiredError } from './layout-state.js';
