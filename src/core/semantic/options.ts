/**
 * The `semantic` option every built-in backend takes: an embedder and a vector store, given as
 * instances (the core never imports a model runtime or a vector-store driver; it only sees the
 * `Embedder` and `VectorStore` interfaces).
 */
import { z } from 'zod';
import { MAX_DIMENSIONS } from '../../semantic/embedders/checks.js';
import type { Embedder } from '../../semantic/embedders/types.js';
import type { VectorStore } from '../../semantic/vector-stores/types.js';

/** Semantic search for a store: records are embedded on write and `search()` takes `mode: 'vector' | 'hybrid'`. */
export interface SemanticOptions {
  /** Turns record text into vectors (e.g. `createEmbedder('openai', {...})`). Default: the hashing embedder. */
  embedder?: Embedder;
  /** Holds the vectors; opened by the store's `initialize()` and closed by its `shutdown()`. */
  vectorStore: VectorStore;
  /**
   * Longest text embedded, in UTF-16 code units: a longer record (or query) is embedded by its
   * first `maxInputChars` characters, so one over-long record (a tool output) never exceeds a
   * model's context and fails every write of its conversation. Default
   * {@link DEFAULT_MAX_INPUT_CHARS}.
   */
  maxInputChars?: number;
}

/** Default `maxInputChars`: 8000 characters stay within an 8192-token model for nearly any text. */
export const DEFAULT_MAX_INPUT_CHARS = 8000;

const EMBEDDER_METHODS = ['embed'] as const;
const VECTOR_STORE_METHODS = ['ensureIndex', 'upsert', 'delete', 'query', 'close'] as const;

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return methods.every((name) => typeof record[name] === 'function');
}

function isEmbedder(value: unknown): value is Embedder {
  if (!hasMethods(value, EMBEDDER_METHODS)) return false;
  // As `checkedEmbedder` (which wraps it) requires, so a bad one fails the config, before any I/O.
  const { id, dimensions } = value as { id?: unknown; dimensions?: unknown };
  return (
    typeof id === 'string' &&
    id !== '' &&
    !id.includes('\u0000') &&
    Number.isInteger(dimensions) &&
    (dimensions as number) >= 1 &&
    (dimensions as number) <= MAX_DIMENSIONS
  );
}

function isVectorStore(value: unknown): value is VectorStore {
  return hasMethods(value, VECTOR_STORE_METHODS);
}

/** The `semantic` config option: `{ embedder, vectorStore, maxInputChars }`, checked by shape (instances are kept as given). */
export const semanticOption = z
  .object({
    embedder: z
      .custom<Embedder>(isEmbedder, {
        message: `expected an Embedder (a non-empty id, dimensions from 1 to ${MAX_DIMENSIONS}, embed()), e.g. createEmbedder()`,
      })
      .optional(),
    vectorStore: z.custom<VectorStore>(isVectorStore, {
      message: 'expected a VectorStore (ensureIndex, upsert, delete, query, close), e.g. createVectorStore()',
    }),
    maxInputChars: z.number().int().min(1).optional(),
  })
  .strict()
  .optional();
