/**
 * `connectome-storage/backend`: what a custom backend needs beyond the package root (README,
 * "Adding a backend"): the records and options its protected primitives take and return, and
 * the helpers its native overrides use. The root holds `StorageInterface` itself, the errors
 * and the public types. Built like the root (the ES module entry re-exports this CommonJS
 * module), so both entries share one module instance.
 */
export { type RecordName } from './core/batch-text.js';
export {
  applyInOrder,
  cacheBatchFailure,
  type CacheRecordWrite,
  collapseMemoryWrites,
  type KeyedItem,
  keyedItems,
  lastWriteWins,
} from './core/batches.js';
export { parseBackendConfig, sharedOptionsShape } from './core/config.js';
export { KeyedMutex } from './core/keyed-mutex.js';
export {
  type CacheEntryRead,
  type HealthProbe,
  type MemoryWrite,
  type StatsSnapshot,
  upsertMemoriesInList,
  upsertMemoryInList,
} from './core/records.js';
export { TextExtractor } from './core/search/fields.js';
export { type SearchCandidate } from './core/search/hits.js';
export { type NormalizedSearchQuery } from './core/search/query.js';
export { parseEach, type SkipItem, type SkippedRecord, SkippedRecords } from './core/search/unreadable.js';
export { type ConversationWrite } from './core/storage-conversation-batches.js';
export { selectSequenced, type SequencedChainRead } from './core/storage-retention.js';
export { parseStoredJson, parseStoredJsonObject, type StoredLocation } from './core/stored-json.js';
