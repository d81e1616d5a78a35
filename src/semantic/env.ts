/**
 * Semantic configuration from the environment, separate from the main store's
 * (`CONNECTOME_STORAGE_*`): `CONNECTOME_EMBEDDER_*` picks and configures the embedder,
 * `CONNECTOME_VECTOR_*` the vector store. Parsing follows the main store's rules (strict
 * booleans and numbers, empty values refused); the API key never appears in an error.
 */
import { ConfigError } from '../core/errors.js';
import {
  checkEnvText,
  configFromEnv,
  type EnvSource,
  type EnvVarMap,
  explainEnvConfigError,
  readEnvironment,
} from '../factory/env.js';
import type { Embedder } from './embedders/types.js';
import { createEmbedder, DEFAULT_EMBEDDER } from './registry.js';
import { createVectorStore } from './registry.js';
import type { VectorStore } from './vector-stores/types.js';

/** Chooses the embedder (default `hashing`). */
export const EMBEDDER_TYPE_VAR = 'CONNECTOME_EMBEDDER_TYPE';
/** Chooses the vector store (default `file`). */
export const VECTOR_TYPE_VAR = 'CONNECTOME_VECTOR_TYPE';
/** The vector store used when `CONNECTOME_VECTOR_TYPE` is not set. */
export const DEFAULT_VECTOR_STORE = 'file';

const API_KEY_VAR = 'CONNECTOME_EMBEDDER_API_KEY';

/** Variables of the HTTP embedders (`openai`, `ollama`); registered embedders get those that are set. */
export const SERVICE_EMBEDDER_ENV: EnvVarMap = {
  CONNECTOME_EMBEDDER_URL: { key: 'url', kind: 'url' },
  CONNECTOME_EMBEDDER_MODEL: { key: 'model', kind: 'string' },
  [API_KEY_VAR]: { key: 'apiKey', kind: 'string' },
  CONNECTOME_EMBEDDER_DIMENSIONS: { key: 'dimensions', kind: 'integer' },
  CONNECTOME_EMBEDDER_TIMEOUT_MS: { key: 'timeoutMs', kind: 'integer' },
  CONNECTOME_EMBEDDER_MAX_RETRIES: { key: 'maxRetries', kind: 'integer' },
  CONNECTOME_EMBEDDER_MAX_BATCH_SIZE: { key: 'maxBatchSize', kind: 'integer' },
  CONNECTOME_EMBEDDER_QUERY_PREFIX: { key: 'queryPrefix', kind: 'string', allowEmpty: true },
  CONNECTOME_EMBEDDER_DOCUMENT_PREFIX: { key: 'documentPrefix', kind: 'string', allowEmpty: true },
};

/** Variables of each built-in embedder. */
export const EMBEDDER_ENV: Readonly<Record<string, EnvVarMap>> = {
  hashing: { CONNECTOME_EMBEDDER_DIMENSIONS: { key: 'dimensions', kind: 'integer' } },
  openai: {
    ...SERVICE_EMBEDDER_ENV,
    CONNECTOME_EMBEDDER_REQUEST_DIMENSIONS: { key: 'requestDimensions', kind: 'boolean' },
  },
  ollama: SERVICE_EMBEDDER_ENV,
};

/** Variables of each built-in vector store. */
export const VECTOR_ENV: Readonly<Record<string, EnvVarMap>> = {
  memory: {},
  file: { CONNECTOME_VECTOR_BASE_DIR: { key: 'baseDir', kind: 'string' } },
  'sqlite-vec': {
    CONNECTOME_VECTOR_DB_PATH: { key: 'path', kind: 'string' },
    CONNECTOME_VECTOR_TIMEOUT: { key: 'connectionTimeout', kind: 'number' },
  },
};

/** The type a `*_TYPE` variable names, or the default; an empty value is an error. */
function chosenType(env: EnvSource, variable: string, fallback: string): string {
  const type = env[variable] ?? fallback;
  checkEnvText(variable, type);
  if (type === '')
    throw new ConfigError(`${variable} is set but empty; unset it to use the default`, variable);
  return type;
}

/**
 * Builds with `make`, putting a config error in terms of the variable that caused it (never
 * showing the key); an unknown type names `typeVar`.
 */
function withEnvErrors<T>(env: EnvSource, typeVar: string, vars: EnvVarMap, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof ConfigError && error.key === 'apiKey' && env[API_KEY_VAR] !== undefined) {
      throw new ConfigError(`Invalid ${API_KEY_VAR} (value not shown): ${error.message}`, API_KEY_VAR, error);
    }
    throw explainEnvConfigError(error, env, { ...vars, [typeVar]: { key: 'type', kind: 'string' } });
  }
}

/** The embedder the environment describes (`CONNECTOME_EMBEDDER_TYPE`, default `hashing`); `env` defaults to the process's plus `.env`. */
export function createEmbedderFromEnv(env: EnvSource = readEnvironment()): Embedder {
  const type = chosenType(env, EMBEDDER_TYPE_VAR, DEFAULT_EMBEDDER);
  // Own names only: a registered `constructor` or `toString` would otherwise get the inherited
  // Object member as its table and none of the variables that are set.
  const vars = (Object.hasOwn(EMBEDDER_ENV, type) ? EMBEDDER_ENV[type] : undefined) ?? SERVICE_EMBEDDER_ENV;
  const config = configFromEnv(env, vars);
  return withEnvErrors(env, EMBEDDER_TYPE_VAR, vars, () => createEmbedder(type, config));
}

/**
 * The vector store the environment describes (`CONNECTOME_VECTOR_TYPE`, default `file`). The
 * file store's base folder defaults to `CONNECTOME_STORAGE_BASE_DIR`, so vectors sit beside the data.
 */
export function createVectorStoreFromEnv(env: EnvSource = readEnvironment()): VectorStore {
  const type = chosenType(env, VECTOR_TYPE_VAR, DEFAULT_VECTOR_STORE);
  const vars = (Object.hasOwn(VECTOR_ENV, type) ? VECTOR_ENV[type] : undefined) ?? {};
  const config = configFromEnv(env, vars);
  const mainBaseDir = env.CONNECTOME_STORAGE_BASE_DIR;
  if (type === 'file' && config.baseDir === undefined && mainBaseDir) config.baseDir = mainBaseDir;
  return withEnvErrors(env, VECTOR_TYPE_VAR, vars, () => createVectorStore(type, config));
}
