/**
 * The backend spec an env file (`--from-env FILE`) gives: its `CONNECTOME_STORAGE_*` variables
 * alone (not the process environment) choose and configure the store, as `backend-spec.ts`
 * describes a store named on the command line.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import dotenv from 'dotenv';
import { ConfigError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import {
  type EnvSource,
  type EnvVarMap,
  FILE_ENV,
  POSTGRES_ENV,
  REDIS_ENV,
  semanticOptionsFromEnv,
  SQLITE_ENV,
  STORAGE_TYPE_VAR,
  storageConfigFromEnv,
} from '../factory/index.js';
import { ioReason } from '../backends/io-reason.js';
import { type BackendSpec, describeBackend, shownStore } from './backend-spec.js';
import { assertKnownVariables } from './env-file.js';
import { checkEnvUrlParams } from './spec-options.js';

/** Environment variables per built-in backend, for `--from-env` files. */
const ENV_VARS: Readonly<Record<string, EnvVarMap>> = {
  file: FILE_ENV,
  sqlite: SQLITE_ENV,
  redis: REDIS_ENV,
  postgres: POSTGRES_ENV,
};

/**
 * The store an env file describes: its `CONNECTOME_STORAGE_*` variables only (the process
 * environment is not consulted, so a shell variable cannot redirect a migration).
 */
export function specFromEnvFile(path: string, cwd: string = process.cwd()): BackendSpec {
  let env: EnvSource;
  const file = resolve(cwd, path);
  try {
    env = dotenv.parse(readFileSync(file));
  } catch (error) {
    // Node's message names the path again; the given one only adds when it is not the resolved one.
    const given = file === path ? '' : ` (given as ${path})`;
    throw new ConfigError(`Cannot read env file ${file}${given}: ${ioReason(error)}`, path, error);
  }
  const { type, config } = storageConfigFromEnv(env, (name) => {
    // Own keys only: `constructor` or `__proto__` found Object's members (until 2026-12-06).
    const key = name.toLowerCase();
    const vars = Object.hasOwn(ENV_VARS, key) ? ENV_VARS[key] : undefined;
    if (vars === undefined) {
      throw new ConfigError(
        `Unsupported storage type '${name}' in ${STORAGE_TYPE_VAR} of ${path}. Available types: ${Object.keys(ENV_VARS).join(', ')}`,
        STORAGE_TYPE_VAR,
      );
    }
    // A misspelled variable would be ignored, and the store go to its default location.
    assertKnownVariables(env, name.toLowerCase(), vars, path);
    return vars;
  });
  const spec = describeBackend(type.toLowerCase(), config, cwd);
  if (typeof config.url === 'string') {
    checkEnvUrlParams(spec.type, config.url, `the URL ${redactUrl(config.url)} of ${path}`);
  }
  // CONNECTOME_SEMANTIC / _VECTOR_* / _EMBEDDER_* of the file give the store semantic search.
  const semantic = semanticOptionsFromEnv(env);
  const withSemantic = semantic === undefined ? spec.config : { ...spec.config, semantic };
  return { ...spec, config: withSemantic, display: `${spec.display} (from ${shownStore(path)})` };
}
