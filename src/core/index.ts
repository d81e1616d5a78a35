/** The core: the interface every backend extends and the rules they share. */
export * from './errors.js';
export * from './config.js';
export * from './connection.js';
export * from './ids.js';
export * from './json.js';
export { jsonByteLimit, MAX_JSON_BYTES } from './json-bytes.js';
export * from './stored-json.js';
export * from './order.js';
export { type AbortOptions } from './abort.js';
export {
  DEFAULT_PAGE_SIZE,
  LISTING_NAMES,
  MAX_PAGE_SIZE,
  type IterateOptions,
  type ListingName,
  type Page,
  type PageOptions,
  type WindowOptions,
} from './paging.js';
export * from './records.js';
export * from './reserved-fields.js';
export * from './redact.js';
export { type StoreView } from './shown-store.js';
export * from './logger.js';
export * from './time.js';
export * from './keyed-mutex.js';
export * from './storage-primitives.js';
export * from './storage-base.js';
export * from './storage-records.js';
export * from './batches.js';
export * from './batch-text.js';
export * from './storage-batches.js';
export * from './storage-paging.js';
export * from './storage-retention.js';
export * from './storage-search.js';
export * from './storage-semantic-search.js';
export * from './storage-semantic.js';
export * from './storage-conversation-batches.js';
export { type SemanticOptions } from './semantic/options.js';
export { EMBEDDED_KINDS, type EmbeddedKind } from './semantic/vector-ids.js';
export * from './storage-interface.js';
export * from './search/index.js';
