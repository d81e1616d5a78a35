/**
 * Full-text search over stored records.
 */
import { RetentionStorage } from './storage-retention.js';

/** Full-text search over stored records. Extend `StorageInterface`, not this. */
export abstract class SearchableStorage extends RetentionStorage {}
