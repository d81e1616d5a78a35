/** Types shared by the storage factory, its registry and the built-in backend table. */
import type { StorageInterface } from '../core/storage-interface.js';
import type { EnvVarMap } from './env.js';

/**
 * A backend config object, as given to `createStorage(type, config)`; each backend
 * validates its own keys and refuses unknown ones.
 */
export type BackendConfig = object;

/** A concrete backend class: `new BackendClass(config)` gives a storage backend. */
export type StorageBackendClass = new (config?: BackendConfig) => StorageInterface;

/** Everything the factory knows about one backend. */
export interface BackendDefinition {
  /** The class to construct. It must load its driver lazily (in `initialize()`), never at import. */
  readonly backend: StorageBackendClass;
  /** One-line description, shown by `getAvailableBackends()`. */
  readonly description: string;
  /** npm packages the backend needs at run time; when one is missing the backend is unavailable. */
  readonly packages: readonly string[];
  /** Environment variables read by `createFromEnvConfig()` when this backend is chosen. */
  readonly env: EnvVarMap;
}

/** Options of `StorageFactory.registerBackend()`. */
export interface RegisterBackendOptions {
  /** One-line description; defaults to the class's static `description`, else `"<name> storage"`. */
  description?: string;
  /** npm packages the backend needs; missing ones make it unavailable. Default: none. */
  packages?: readonly string[];
  /** Environment variables it reads in `createFromEnvConfig()`. Default: none. */
  env?: EnvVarMap;
  /** Replace a backend already registered under this name (built-ins included). Default: false. */
  override?: boolean;
}
