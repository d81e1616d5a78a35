/**
 * Batch writes and reads (many records per call, done natively by each backend).
 */
import { RecordStorage } from './storage-records.js';

/** Batch writes and reads (many records per call, done natively by each backend). Extend `StorageInterface`, not this. */
export abstract class BatchStorage extends RecordStorage {}
