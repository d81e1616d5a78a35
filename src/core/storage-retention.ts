/**
 * Retention of reasoning chains: stable per-agent sequence numbers and trimming.
 */
import { PagedStorage } from './storage-paging.js';

/** Retention of reasoning chains: stable per-agent sequence numbers and trimming. Extend `StorageInterface`, not this. */
export abstract class RetentionStorage extends PagedStorage {}
