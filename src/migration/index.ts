/** Backend-to-backend migration: copy every record through the public API, verify, resume. */
export { migrateStorage } from './migrate.js';
export { verifyMigration } from './verify.js';
export {
  CorruptSourceError,
  MarkerNotClearedError,
  MigrationAbortedError,
  MigrationRefusedError,
  type RefusalReason,
} from './errors.js';
export { MIGRATION_MARKER_KEY, inspectTarget, type MigrationMarker, type TargetState } from './marker.js';
export { describeDifference } from './compare.js';
export { canonicalStoreId, sameStoreId } from './identity.js';
export * from './types.js';
