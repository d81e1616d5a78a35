/**
 * connectome-storage: one storage interface for AI-agent memory data (conversations,
 * memories, reasoning chains, cache, state) with file, SQLite, Redis and PostgreSQL backends, a factory and
 * environment configuration.
 */
export * from './core/index.js';
export { FileStorage, type FileStorageConfig } from './backends/file/index.js';
export { SQLiteStorage, type SQLiteStorageConfig } from './backends/sqlite/index.js';
export {
  RedisStorage,
  RedisUpgradeRequiredError,
  inspectLayout as inspectRedisLayout,
  type LayoutState as RedisLayoutState,
  type RedisClient,
  type RedisStorageConfig,
} from './backends/redis/index.js';
export {
  PostgresStorage,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryConfig,
  type PostgresQueryResult,
  type PostgresStorageConfig,
} from './backends/postgres/index.js';
export * from './factory/index.js';
export * from './migration/index.js';
export * from './semantic/index.js';
