/**
 * Semantic search building blocks: embedders (texts → vectors), vector stores (nearest
 * neighbours, scoped by agent, conversation and kind), their registries and environment
 * configuration, and reciprocal rank fusion.
 */
export * from './errors.js';
export * from './embedders/types.js';
export { checkedEmbedder, MAX_DIMENSIONS, MAX_TEXTS_PER_CALL } from './embedders/checks.js';
export {
  DEFAULT_HASHING_DIMENSIONS,
  HashingEmbedder,
  type HashingEmbedderConfig,
} from './embedders/hashing.js';
export type { ServiceEmbedderConfig } from './embedders/service.js';
export { OpenAIEmbedder, type OpenAIEmbedderConfig } from './embedders/openai.js';
export { OllamaEmbedder, type OllamaEmbedderConfig } from './embedders/ollama.js';
export * from './vector-stores/types.js';
export { MAX_ITEMS_PER_CALL, MAX_KIND_BYTES, MAX_VECTOR_ID_BYTES } from './vector-stores/validation.js';
export { MemoryVectorStore } from './vector-stores/memory.js';
export {
  FileVectorStore,
  type FileVectorStoreConfig,
  vectorDirOf,
} from './vector-stores/file/file-vector-store.js';
export { SqliteVecStore, type SqliteVecStoreConfig } from './vector-stores/sqlite-vec/sqlite-vec-store.js';
export * from './registry.js';
export * from './env.js';
export * from './fusion.js';
