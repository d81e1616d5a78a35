/** The storage factory, its helpers and environment configuration. */
export { StorageFactory } from './registry.js';
export {
  createFileStorage,
  createSqliteStorage,
  createStorage,
  createStorageFromEnv,
  getAvailableBackends,
} from './helpers.js';
export {
  configFromEnv,
  DEFAULT_STORAGE_TYPE,
  type EnvConfigValue,
  type EnvSource,
  type EnvStorageConfig,
  type EnvValueKind,
  type EnvVarMap,
  type EnvVarSpec,
  FILE_ENV,
  parseEnvValue,
  POSTGRES_ENV,
  readEnvironment,
  READ_ONLY_ENV,
  REDIS_ENV,
  SQLITE_ENV,
  STORAGE_TYPE_VAR,
  storageConfigFromEnv,
} from './env.js';
export { isPackageInstalled } from './availability.js';
export type {
  BackendConfig,
  BackendDefinition,
  RegisterBackendOptions,
  StorageBackendClass,
} from './types.js';
export { SEMANTIC_MAX_INPUT_CHARS_VAR, SEMANTIC_VAR, semanticOptionsFromEnv } from './semantic-env.js';
