/** SQLite backend: one database file with the Python reference's schema. */
export { SQLiteStorage } from './sqlite-storage.js';
export {
  DEFAULT_SQLITE_DB_PATH,
  DEFAULT_SQLITE_TIMEOUT_SECONDS,
  type ResolvedSQLiteConfig,
  type SQLiteStorageConfig,
} from './config.js';
export { isSqliteDriverInstalled, SQLITE_PACKAGES } from './driver.js';
export { SQLITE_SCHEMA_VERSION } from './schema.js';
