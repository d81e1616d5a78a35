/**
 * Semantic search from the environment: `CONNECTOME_SEMANTIC` turns it on or off; unset, it is
 * on as soon as `CONNECTOME_EMBEDDER_TYPE` or `CONNECTOME_VECTOR_TYPE` is set. The embedder and
 * vector store are then built from `CONNECTOME_EMBEDDER_*` and `CONNECTOME_VECTOR_*`, and
 * `CONNECTOME_SEMANTIC_MAX_INPUT_CHARS` sets `maxInputChars`.
 */
import { ConfigError, describeValue } from '../core/errors.js';
import type { SemanticOptions } from '../core/semantic/options.js';
import {
  createEmbedderFromEnv,
  createVectorStoreFromEnv,
  EMBEDDER_TYPE_VAR,
  VECTOR_TYPE_VAR,
} from '../semantic/env.js';
import { type EnvSource, parseEnvValue } from './env.js';

/** Turns semantic search on (`true`/`1`/`yes`/`on`) or off for stores made from the environment. */
export const SEMANTIC_VAR = 'CONNECTOME_SEMANTIC';

/** The `maxInputChars` of semantic search (a whole number of at least 1) for stores made from the environment. */
export const SEMANTIC_MAX_INPUT_CHARS_VAR = 'CONNECTOME_SEMANTIC_MAX_INPUT_CHARS';

/** `CONNECTOME_SEMANTIC_MAX_INPUT_CHARS`, parsed (`undefined` when unset); throws {@link ConfigError} naming it. */
function maxInputCharsFromEnv(env: EnvSource): number | undefined {
  const value = env[SEMANTIC_MAX_INPUT_CHARS_VAR];
  if (value === undefined) return undefined;
  const spec = { key: 'maxInputChars', kind: 'integer' } as const;
  const chars = parseEnvValue(SEMANTIC_MAX_INPUT_CHARS_VAR, value, spec) as number;
  // Digits only pass the parse above, so 0 is the one value left that the option refuses.
  if (chars < 1) {
    throw new ConfigError(
      `Invalid ${SEMANTIC_MAX_INPUT_CHARS_VAR}=${describeValue(value)}: expected a whole number of at least 1`,
      SEMANTIC_MAX_INPUT_CHARS_VAR,
    );
  }
  return chars;
}

/**
 * The `semantic` option the environment describes, or `undefined` when semantic search is off.
 * `CONNECTOME_SEMANTIC_MAX_INPUT_CHARS` is checked either way (a bad value throws
 * {@link ConfigError} naming it).
 */
export function semanticOptionsFromEnv(env: EnvSource): SemanticOptions | undefined {
  // Read even when search is off: a bad value is a ConfigError now, not a surprise on the day
  // search is switched on (the variable names only this option, so it is never someone else's).
  const maxInputChars = maxInputCharsFromEnv(env);
  const switch_ = env[SEMANTIC_VAR];
  const on =
    switch_ === undefined
      ? env[EMBEDDER_TYPE_VAR] !== undefined || env[VECTOR_TYPE_VAR] !== undefined
      : parseEnvValue(SEMANTIC_VAR, switch_, { key: 'semantic', kind: 'boolean' }) === true;
  if (!on) return undefined;
  const options: SemanticOptions = {
    embedder: createEmbedderFromEnv(env),
    vectorStore: createVectorStoreFromEnv(env),
  };
  if (maxInputChars !== undefined) options.maxInputChars = maxInputChars;
  return options;
}
