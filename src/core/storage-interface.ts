/**
 * The abstract storage interface. It is built in layers, one file each, so every part of the
 * API stays small: `StorageBase` (lifecycle, read-only flag, health), `RecordStorage` (one
 * record per call), `BatchStorage`, `PagedStorage`, `RetentionStorage`, `SearchableStorage`,
 * `SemanticSearchStorage`, `SemanticStorage` and `ConversationBatchStorage`.
 * A backend implements the protected primitives of `StoragePrimitives` (and may override the
 * defaults a layer builds on them with native ones).
 */
import { ConversationBatchStorage } from './storage-conversation-batches.js';

/**
 * One storage interface for conversations, raw messages, memories, reasoning chains,
 * chunk info, a TTL cache and system state. Extend it to add a backend.
 */
export abstract class StorageInterface extends ConversationBatchStorage {}
