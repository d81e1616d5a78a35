/**
 * The variables an env file (`--from-env`, `--to-env`, `--env`) may hold. The library reads only
 * the variables of the backend, embedder and vector store the file chooses and ignores any
 * other, so a misspelled one (`CONNECTOME_STORAGE_SQLITE_PATH` for `..._DB_PATH`) would send a
 * migration to the default location; the CLI refuses it instead.
 */
import { ConfigError } from '../core/errors.js';
import {
  type EnvSource,
  type EnvVarMap,
  SEMANTIC_MAX_INPUT_CHARS_VAR,
  SEMANTIC_VAR,
  STORAGE_TYPE_VAR,
} from '../factory/index.js';
import {
  DEFAULT_VECTOR_STORE,
  EMBEDDER_ENV,
  EMBEDDER_TYPE_VAR,
  SERVICE_EMBEDDER_ENV,
  VECTOR_ENV,
  VECTOR_TYPE_VAR,
} from '../semantic/env.js';
import { DEFAULT_EMBEDDER } from '../semantic/registry.js';

/** The names the library reads, by prefix: any other name with one of these prefixes is refused. */
const LIBRARY_VARIABLE = /^CONNECTOME_(?:STORAGE_|EMBEDDER_|VECTOR_|SEMANTIC)/;

/** The variables read for a backend with variables `storageVars` and for the semantic search `env` chooses. */
function readVariables(env: EnvSource, storageVars: EnvVarMap): Set<string> {
  const embedder = env[EMBEDDER_TYPE_VAR] ?? DEFAULT_EMBEDDER;
  const vectorStore = env[VECTOR_TYPE_VAR] ?? DEFAULT_VECTOR_STORE;
  const names = [
    STORAGE_TYPE_VAR,
    SEMANTIC_VAR,
    SEMANTIC_MAX_INPUT_CHARS_VAR,
    EMBEDDER_TYPE_VAR,
    VECTOR_TYPE_VAR,
    ...Object.keys(storageVars),
    // A registered embedder gets the HTTP embedders' variables, a registered vector store none.
    ...Object.keys(
      (Object.hasOwn(EMBEDDER_ENV, embedder) ? EMBEDDER_ENV[embedder] : undefined) ?? SERVICE_EMBEDDER_ENV,
    ),
    ...Object.keys((Object.hasOwn(VECTOR_ENV, vectorStore) ? VECTOR_ENV[vectorStore] : undefined) ?? {}),
  ];
  // The file vector store's folder defaults to the file backend's.
  if (vectorStore === 'file') names.push('CONNECTOME_STORAGE_BASE_DIR');
  return new Set(names);
}

/**
 * Refuses (a {@link ConfigError} naming the variable) a `CONNECTOME_STORAGE_*`,
 * `CONNECTOME_EMBEDDER_*`, `CONNECTOME_VECTOR_*` or `CONNECTOME_SEMANTIC*` variable of env file
 * `path` that the chosen backend (`type`, reading `storageVars`) and semantic search do not read.
 */
export function assertKnownVariables(
  env: EnvSource,
  type: string,
  storageVars: EnvVarMap,
  path: string,
): void {
  const known = readVariables(env, storageVars);
  const unknown = Object.keys(env).find((name) => LIBRARY_VARIABLE.test(name) && !known.has(name));
  if (unknown === undefined) return;
  const storageNames = [STORAGE_TYPE_VAR, ...Object.keys(storageVars)].join(', ');
  throw new ConfigError(
    `Unknown variable ${unknown} in ${path}: the ${type} backend and semantic search do not read it ` +
      `(the ${type} backend reads ${storageNames})`,
    unknown,
  );
}
