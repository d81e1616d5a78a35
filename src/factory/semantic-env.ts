/**
 * Semantic search from the environment: `CONNECTOME_SEMANTIC` turns it on or off; unset, it is
 * on as soon as `CONNECTOME_EMBEDDER_TYPE` or `CONNECTOME_VECTOR_TYPE` is set. The embedder and
 * vector store are then built from `CONNECTOME_EMBEDDER_*` and `CONNECTOME_VECTOR_*`.
 */
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

/** The `semantic` option the environment describes, or `undefined` when semantic search is off. */
export function semanticOptionsFromEnv(env: EnvSource): SemanticOptions | undefined {
  const switch_ = env[SEMANTIC_VAR];
  const on =
    switch_ === undefined
      ? env[EMBEDDER_TYPE_VAR] !== undefined || env[VECTOR_TYPE_VAR] !== undefined
      : parseEnvValue(SEMANTIC_VAR, switch_, { key: 'semantic', kind: 'boolean' }) === true;
  if (!on) return undefined;
  return { embedder: createEmbedderFromEnv(env), vectorStore: createVectorStoreFromEnv(env) };
}
