/** PostgreSQL backend: one schema of a PostgreSQL database, through `pg`. */
export { PostgresStorage } from './postgres-storage.js';
export {
  DEFAULT_POSTGRES_SCHEMA,
  DEFAULT_POSTGRES_URL,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryConfig,
  type PostgresQueryResult,
  type PostgresStorageConfig,
  type ResolvedPostgresConfig,
} from './config.js';
export { POSTGRES_SCHEMA_VERSION, POSTGRES_TABLES } from './schema.js';
