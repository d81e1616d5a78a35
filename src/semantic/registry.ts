/**
 * Embedders and vector stores by name: the built-ins, and the ones users register (e.g. a
 * transformers.js model loaded from a local path) without this library depending on a model
 * runtime. Every embedder made here is wrapped so its output is checked.
 */
import { ConfigError, describeValue } from '../core/errors.js';
import { checkedEmbedder } from './embedders/checks.js';
import { HashingEmbedder, type HashingEmbedderConfig } from './embedders/hashing.js';
import { OllamaEmbedder, type OllamaEmbedderConfig } from './embedders/ollama.js';
import { OpenAIEmbedder, type OpenAIEmbedderConfig } from './embedders/openai.js';
import type { Embedder, EmbedderFactory } from './embedders/types.js';
import { FileVectorStore, type FileVectorStoreConfig } from './vector-stores/file/file-vector-store.js';
import { MemoryVectorStore } from './vector-stores/memory.js';
import { SqliteVecStore, type SqliteVecStoreConfig } from './vector-stores/sqlite-vec/sqlite-vec-store.js';
import type { VectorStore, VectorStoreFactory } from './vector-stores/types.js';

/** The embedder used when none is named. */
export const DEFAULT_EMBEDDER = 'hashing';

const embedders = new Map<string, EmbedderFactory>([
  ['hashing', (config) => new HashingEmbedder(config as HashingEmbedderConfig)],
  ['openai', (config) => new OpenAIEmbedder(config as OpenAIEmbedderConfig)],
  ['ollama', (config) => new OllamaEmbedder(config as OllamaEmbedderConfig)],
]);
const BUILT_IN_EMBEDDERS = new Set(embedders.keys());

const vectorStores = new Map<string, VectorStoreFactory>([
  ['memory', (config) => new MemoryVectorStore(config as Record<string, never>)],
  ['file', (config) => new FileVectorStore(config as FileVectorStoreConfig)],
  ['sqlite-vec', (config) => new SqliteVecStore(config as SqliteVecStoreConfig)],
]);
const BUILT_IN_STORES = new Set(vectorStores.keys());

function checkRegistration(
  what: string,
  name: unknown,
  factory: unknown,
  builtIns: Set<string>,
): asserts name is string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(name)) {
    throw new ConfigError(
      `${what} name must be letters, digits, ".", "_" or "-", got ${describeValue(name)}`,
      'name',
    );
  }
  if (builtIns.has(name))
    throw new ConfigError(`${what} "${name}" is built in and cannot be replaced`, 'name');
  if (typeof factory !== 'function')
    throw new ConfigError(`${what} "${name}": the factory must be a function`, 'name');
}

/** Registers an embedder factory under `name` (a later registration of the same name replaces it). */
export function registerEmbedder(name: string, factory: EmbedderFactory): void {
  checkRegistration('Embedder', name, factory, BUILT_IN_EMBEDDERS);
  embedders.set(name, factory);
}

/** Names of every embedder {@link createEmbedder} knows, sorted. */
export function getAvailableEmbedders(): string[] {
  return [...embedders.keys()].sort();
}

/**
 * Creates the embedder registered as `name` (default `hashing`) with `config`; its arguments
 * and output are checked (wrong sizes, non-finite numbers → `EmbedderError`).
 */
export function createEmbedder(name: string = DEFAULT_EMBEDDER, config: unknown = {}): Embedder {
  const factory = embedders.get(name);
  if (factory === undefined) {
    throw new ConfigError(
      `Unknown embedder ${describeValue(name)}. Known: ${getAvailableEmbedders().join(', ')}`,
      'type',
    );
  }
  return checkedEmbedder(factory(config));
}

/** Registers a vector store factory under `name` (a later registration of the same name replaces it). */
export function registerVectorStore(name: string, factory: VectorStoreFactory): void {
  checkRegistration('Vector store', name, factory, BUILT_IN_STORES);
  vectorStores.set(name, factory);
}

/** Names of every vector store {@link createVectorStore} knows, sorted. */
export function getAvailableVectorStores(): string[] {
  return [...vectorStores.keys()].sort();
}

/** Creates the vector store registered as `name` (`memory`, `file`, `sqlite-vec` or a registered one). */
export function createVectorStore(name: string, config: unknown = {}): VectorStore {
  const factory = vectorStores.get(name);
  if (factory === undefined) {
    throw new ConfigError(
      `Unknown vector store ${describeValue(name)}. Known: ${getAvailableVectorStores().join(', ')}`,
      'type',
    );
  }
  return factory(config);
}
