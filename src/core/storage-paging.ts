/**
 * Paged listings and windowed loads for long-running applications.
 */
import { BatchStorage } from './storage-batches.js';

/** Paged listings and windowed loads for long-running applications. Extend `StorageInterface`, not this. */
export abstract class PagedStorage extends BatchStorage {}
