/**
 * The options objects of `migrateStorage` and `verifyMigration`, read once each before
 * anything else, as a listing reads its options: an unknown name is refused, so that a typo
 * never silently falls back to a default (until 2026-12-06 `{ dryrun: true }` made a real
 * copy), and a read that throws (a getter, a revoked Proxy) is refused with what it threw as
 * the `cause`, where it escaped as the caller's own error.
 */
import { readOptions } from '../core/paging.js';
import { MigrationRefusedError } from './errors.js';
import type { MigrateOptions, VerifyOptions } from './types.js';

/** Every option of `migrateStorage` (the record keeps the list whole: the compiler checks it). */
const MIGRATE_OPTIONS: Readonly<Record<keyof MigrateOptions, true>> = {
  dryRun: true,
  verify: true,
  merge: true,
  checkSource: true,
  concurrency: true,
  sourceId: true,
  targetId: true,
  conversationBatchSize: true,
  maxDifferences: true,
  onProgress: true,
  signal: true,
};

/** Every option of `verifyMigration`. */
const VERIFY_OPTIONS: Readonly<Record<keyof VerifyOptions, true>> = {
  allowExtra: true,
  concurrency: true,
  maxDifferences: true,
  expiryToleranceMs: true,
  onProgress: true,
  signal: true,
};

/**
 * The options given to `migrateStorage`, each read once, their values still unchecked.
 * @throws {MigrationRefusedError} (reason `invalid-option`) for options that are no object, hold
 * an unknown name, or cannot be read.
 */
export function readMigrateOptions(options: unknown): MigrateOptions {
  const names = Object.keys(MIGRATE_OPTIONS) as (keyof MigrateOptions)[];
  // Typed as the options they name: the caller checks every value before using it.
  return readOptions(options, names, (reason, cause) => {
    throw new MigrationRefusedError('invalid-option', `migrateStorage options: ${reason}`, cause);
  }) as MigrateOptions;
}

/**
 * The options given to `verifyMigration`, each read once, their values still unchecked.
 * @throws {ValidationError} (field `options`) for options that are no object, hold an unknown
 * name, or cannot be read.
 */
export function readVerifyOptions(options: unknown): VerifyOptions {
  return readOptions(options, Object.keys(VERIFY_OPTIONS) as (keyof VerifyOptions)[]) as VerifyOptions;
}
