/**
 * connectome-storage: one storage interface for AI-agent memory data (conversations,
 * memories, reasoning chains, cache, state) with file, SQLite, Redis and PostgreSQL backends, a factory and
 * environment configuration.
 *
 * The package root: the API the README documents, and every type its signatures use (so a
 * user can name any argument or result). What a custom backend needs beyond it is in
 * `connectome-storage/backend` (`src/backend.ts`); everything else is internal.
 * `test/package/exports.test.ts` holds this list to the README and to those signatures.
 */

// The storage backends and their config types.
export { type FileStorageConfig } from './backends/file/config.js';
export { FileStorage } from './backends/file/file-storage.js';
export {
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryConfig,
  type PostgresQueryResult,
  type PostgresStorageConfig,
} from './backends/postgres/config.js';
export { PostgresStorage } from './backends/postgres/postgres-storage.js';
export { type RedisClient, type RedisStorageConfig } from './backends/redis/config.js';
export {
  inspectLayout as inspectRedisLayout,
  type LayoutState as RedisLayoutState,
  RedisUpgradeRequiredError,
} from './backends/redis/layout-state.js';
export { RedisStorage } from './backends/redis/redis-storage.js';
export { type SQLiteStorageConfig } from './backends/sqlite/config.js';
export { SQLiteStorage } from './backends/sqlite/sqlite-storage.js';

// The interface every store has, the records, options and results of its methods, and the errors.
export { type AbortOptions } from './core/abort.js';
export {
  type CacheEntryBatchItem,
  type CacheRecordBatchItem,
  MAX_BATCH_ITEMS,
  type MemoryBatchItem,
} from './core/batches.js';
export { type ConfigValueKind, type SharedStorageOptions } from './core/config.js';
export {
  BackendUnavailableError,
  BatchPartiallyAppliedError,
  ConfigError,
  CorruptChainsError,
  CorruptDataError,
  InvalidIdError,
  NotInitializedError,
  OperationAbortedError,
  ReadOnlyError,
  SerializationError,
  StorageError,
  type StorageErrorCode,
  StoreNeedsUpgradeError,
  StoreNotFoundError,
  ValidationError,
} from './core/errors.js';
export { MAX_KEY_BYTES, MAX_TTL_SECONDS } from './core/ids.js';
export { type JsonObject, type JsonPrimitive, type JsonValue, MAX_JSON_DEPTH } from './core/json.js';
export { MAX_JSON_BYTES } from './core/json-bytes.js';
export { type StorageLogger, type StorageLogLevel, type StorageLogMethod } from './core/logger.js';
export { compareCodePoints } from './core/order.js';
export {
  DEFAULT_PAGE_SIZE,
  type IterateOptions,
  type ListingName,
  MAX_PAGE_SIZE,
  type Page,
  type PageOptions,
  type WindowOptions,
} from './core/paging.js';
export {
  type CacheRecord,
  type HealthReport,
  isCacheExpired,
  type RecordKind,
  type StatsCounts,
  type StorageStats,
} from './core/records.js';
export {
  DEFAULT_TEXT_RULE_VERSION,
  LIBRARY_TIMESTAMP_FIELDS,
  type SearchFields,
} from './core/search/fields.js';
export { type SearchHit, type SearchRecordRef } from './core/search/hits.js';
export { type SearchKind, type SearchMode, type SearchQuery } from './core/search/query.js';
export { bm25Score, type CorpusStats } from './core/search/scoring.js';
export { SNIPPET_MARK_START } from './core/search/snippet.js';
export { countTokens, type TokenCounts, tokenize } from './core/search/tokenizer.js';
export { type UnreadablePolicy } from './core/search/unreadable.js';
export { type SemanticOptions } from './core/semantic/options.js';
export { type StoreView } from './core/shown-store.js';
export {
  type BulkCopyDefaults,
  type ConversationBatchItem,
  MAX_CONVERSATION_BATCH_RECORDS,
  type StoredConversation,
} from './core/storage-conversation-batches.js';
export { StorageInterface } from './core/storage-interface.js';
export { type SequencedChain, type SequencedChainOptions } from './core/storage-retention.js';
export { canonicalTimestamp } from './core/time.js';

// The factory: backends by name, from config or the environment, and registering your own.
export { type EnvSource, type EnvValueKind, type EnvVarMap, type EnvVarSpec } from './factory/env.js';
export {
  createFileStorage,
  createSqliteStorage,
  createStorage,
  createStorageFromEnv,
  getAvailableBackends,
} from './factory/helpers.js';
export { StorageFactory } from './factory/registry.js';
export {
  type BackendConfig,
  type RegisterBackendOptions,
  type StorageBackendClass,
} from './factory/types.js';

// Migration between stores and its verification.
export {
  CorruptSourceError,
  MarkerNotClearedError,
  MigrationAbortedError,
  MigrationRefusedError,
  type RefusalReason,
} from './migration/errors.js';
export { migrateStorage } from './migration/migrate.js';
export {
  type KindCount,
  type KindCounts,
  type MigrateOptions,
  type MigrationConflict,
  type MigrationDifference,
  type MigrationPhase,
  type MigrationProgressEvent,
  type MigrationStage,
  type MigrationSummary,
  type ProgressListener,
  type VerificationResult,
  type VerifyOptions,
} from './migration/types.js';
export { verifyMigration } from './migration/verify.js';

// Semantic search: embedders, vector stores and fusion.
export {
  type Embedder,
  type EmbedderFactory,
  type EmbedOptions,
  type EmbedPurpose,
} from './semantic/embedders/types.js';
export { createEmbedderFromEnv, createVectorStoreFromEnv } from './semantic/env.js';
export {
  DEFAULT_HASHING_DIMENSIONS,
  HashingEmbedder,
  type HashingEmbedderConfig,
} from './semantic/embedders/hashing.js';
export { OllamaEmbedder, type OllamaEmbedderConfig } from './semantic/embedders/ollama.js';
export { OpenAIEmbedder, type OpenAIEmbedderConfig } from './semantic/embedders/openai.js';
export { type ServiceEmbedderConfig } from './semantic/embedders/service.js';
export {
  EmbedderError,
  type EmbedderErrorTexts,
  type EmbedderFailure,
  VectorStoreInUseError,
} from './semantic/errors.js';
export {
  type FusedResult,
  type FusionOptions,
  type RankedEntry,
  reciprocalRankFusion,
} from './semantic/fusion.js';
export {
  createEmbedder,
  createVectorStore,
  getAvailableEmbedders,
  getAvailableVectorStores,
  registerEmbedder,
  registerVectorStore,
} from './semantic/registry.js';
export {
  FileVectorStore,
  type FileVectorStoreConfig,
} from './semantic/vector-stores/file/file-vector-store.js';
export { MemoryVectorStore } from './semantic/vector-stores/memory.js';
export {
  SqliteVecStore,
  type SqliteVecStoreConfig,
} from './semantic/vector-stores/sqlite-vec/sqlite-vec-store.js';
export {
  type EnsureIndexOptions,
  type IndexSignature,
  type VectorFilter,
  type VectorIdPageOptions,
  type VectorInput,
  type VectorItem,
  type VectorMatch,
  type VectorMetric,
  type VectorQuery,
  type VectorStore,
  type VectorStoreFactory,
} from './semantic/vector-stores/types.js';
