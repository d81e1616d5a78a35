/** Top-level shortcuts for the {@link StorageFactory} (the reference's module functions). */
import type { FileStorage } from '../backends/file/index.js';
import type { SQLiteStorage } from '../backends/sqlite/index.js';
import type { StorageInterface } from '../core/storage-interface.js';
import type { EnvSource } from './env.js';
import { StorageFactory } from './registry.js';
import type { BackendConfig } from './types.js';

/** Creates a backend (not yet initialized) by type, default `file`; see {@link StorageFactory.createStorage}. */
export function createStorage(type = 'file', config?: BackendConfig): StorageInterface {
  return StorageFactory.createStorage(type, config);
}

/** Creates a {@link FileStorage} in `baseDir` (default `./storage_data`). */
export function createFileStorage(baseDir?: string): FileStorage {
  return StorageFactory.createDefaultFileStorage(baseDir);
}

/** Creates a {@link SQLiteStorage} on `dbPath` (default `./storage_data/connectome.db`). */
export function createSqliteStorage(dbPath?: string): SQLiteStorage {
  return StorageFactory.createDefaultSqliteStorage(dbPath);
}

/** Creates the backend that the `CONNECTOME_STORAGE_*` variables describe; see {@link StorageFactory.createFromEnvConfig}. */
export function createStorageFromEnv(env?: EnvSource): StorageInterface {
  return StorageFactory.createFromEnvConfig(env);
}

/** Every registered backend with its one-line description; see {@link StorageFactory.getAvailableBackends}. */
export function getAvailableBackends(): Record<string, string> {
  return StorageFactory.getAvailableBackends();
}
