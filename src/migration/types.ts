/** Options, progress events and results of a backend-to-backend migration. */

import { RECORD_KINDS, type RecordKind } from '../core/index.js';

export { RECORD_KINDS, type RecordKind };

/**
 * The units a migration walks through, one progress bar each: conversation ids (each with
 * its conversation, raw messages, memories and chunk info), agents (their reasoning
 * chains), cache keys and system-state keys.
 */
export type MigrationPhase = 'conversations' | 'agents' | 'cache' | 'system_state';

/** Which pass a progress event belongs to (`check`: the `checkSource` read of the source). */
export type MigrationStage = 'check' | 'copy' | 'verify';

/** Progress of a migration, reported through `onProgress` (the CLI draws bars from it). */
export type MigrationProgressEvent =
  | { type: 'phase-start'; stage: MigrationStage; phase: MigrationPhase; total: number }
  | { type: 'item'; stage: MigrationStage; phase: MigrationPhase; done: number; total: number }
  | { type: 'phase-end'; stage: MigrationStage; phase: MigrationPhase; done: number; total: number };

/** Receives progress events; must not throw. */
export type ProgressListener = (event: MigrationProgressEvent) => void;

/** Records copied (or, in a dry run, that would be copied) and skipped, per kind. */
export interface KindCount {
  /** Records written to the target (dry run: records that would be written). */
  copied: number;
  /** Records not written: chains already in the target (resume), expired cache entries. */
  skipped: number;
}

/** Counts per record kind. */
export type KindCounts = Record<RecordKind, KindCount>;

/** Something the migration could not copy faithfully; it makes the migration fail (exit 1). */
export interface MigrationConflict {
  /** The kind of the record that could not be copied. */
  kind: RecordKind;
  /** Conversation id, agent id, cache key or state key. */
  id: string;
  /** What was not copied, and why. */
  message: string;
}

/** One record that differs between source and target after a migration. */
export interface MigrationDifference {
  /** The kind of the record that differs. */
  kind: RecordKind;
  /** Conversation id, agent id, cache key or state key. */
  id: string;
  /** How the target's record differs from the source's. */
  message: string;
}

/** Options of {@link verifyMigration}. */
export interface VerifyOptions {
  /** Records that only the target holds are fine (a `--merge` migration). Default false. */
  allowExtra?: boolean;
  /** Ids / keys compared at the same time. Default 4. */
  concurrency?: number;
  /** Differences kept in the result (all are counted). Default 50. */
  maxDifferences?: number;
  /**
   * Cache expiry times may differ by this much (a copy keeps the exact expiry; one an older
   * version made with a remaining TTL does not). Default 2000 ms.
   */
  expiryToleranceMs?: number;
  /** Receives the verification's progress events (stage `verify`); must not throw. */
  onProgress?: ProgressListener;
  /** Checked before each listing and each record: once it fires, the verification rejects with `MigrationAbortedError`. */
  signal?: AbortSignal;
}

/** Result of {@link verifyMigration}. */
export interface VerificationResult {
  /** True when no difference was found. */
  ok: boolean;
  /** Records compared, per kind (source side). */
  checked: Record<RecordKind, number>;
  /** All differences found. */
  differenceCount: number;
  /** The first `maxDifferences` differences. */
  differences: MigrationDifference[];
}

/** Options of {@link migrateStorage}. */
export interface MigrateOptions {
  /** Count what would be copied; nothing is written and the target is never touched. Default false. */
  dryRun?: boolean;
  /** Compare both stores record by record afterwards. Default true. */
  verify?: boolean;
  /** Allow a target that already holds data (not from this migration's unfinished run). Default false. */
  merge?: boolean;
  /**
   * Read every record of the source before writing anything, and refuse (`corrupt-source`,
   * nothing written) naming every one that does not parse. Default false: such a record fails
   * the run when the copy reaches it (a `CorruptSourceError`), after what came before it was
   * copied, and only the first is named. Costs one more read of the whole source.
   */
  checkSource?: boolean;
  /**
   * Groups of conversations / agents / groups of cache keys copied (and read back by the
   * verification) at the same time. Default 4; for the conversation groups, the target's
   * `bulkCopyDefaults` (2 into Redis and PostgreSQL, 4 into the others).
   */
  concurrency?: number;
  /**
   * Stable identity of the source store (e.g. a resolved path or host/port/prefix, never a
   * secret). Written to the resume marker, so that a re-run can tell its own unfinished
   * run from someone else's. Without it, a run into a target holding any unfinished
   * migration is refused (`foreign-marker`) unless it merges: nothing proves the same source.
   * A Redis or PostgreSQL identity in the CLI's form (`redis://host:port/db#prefix`) is compared
   * with its host in canonical form (`canonicalStoreId`: loopback names are one host).
   */
  sourceId?: string;
  /** Stable identity of the target store; equal to `sourceId` (in canonical form) means the same store (refused). */
  targetId?: string;
  /**
   * Conversation ids written per `storeConversationBatch` call (also bounded to 2,000
   * records). Default: the target's `bulkCopyDefaults` (32 into Redis, 64 into the others); `0` copies each conversation with its single calls (four writes).
   */
  conversationBatchSize?: number;
  /** Differences kept in the verification result, and conflicts and warnings kept in the summary. Default 50. */
  maxDifferences?: number;
  /** Receives the progress events of each stage the run goes through (check, copy, verify); must not throw. */
  onProgress?: ProgressListener;
  /** Stops the migration between two writes; a re-run resumes it. */
  signal?: AbortSignal;
}

/** Result of {@link migrateStorage}. */
export interface MigrationSummary {
  /** True when everything was copied (and verified) without conflict or difference. */
  ok: boolean;
  /** The run was a dry run: nothing was written. */
  dryRun: boolean;
  /** Target data other than this migration's was allowed (`merge`, or the resumed run had it). */
  merge: boolean;
  /** The target held this migration's unfinished run, which was resumed. */
  resumed: boolean;
  /** Counts per kind. */
  counts: KindCounts;
  /** Conversation ids walked through. */
  conversationIds: number;
  /** Agents walked through. */
  agents: number;
  /** The first `maxDifferences` conflicts. */
  conflicts: MigrationConflict[];
  /** All conflicts found. */
  conflictCount: number;
  /** Notes that do not fail the migration (the first `maxDifferences`, then how many more). */
  warnings: string[];
  /** `null` when verification was off or in a dry run. */
  verification: VerificationResult | null;
  /** How long the run took, in milliseconds (rounded to a whole one). */
  durationMs: number;
}

/** A fresh all-zero count per kind. */
export function emptyCounts(): KindCounts {
  return Object.fromEntries(RECORD_KINDS.map((kind) => [kind, { copied: 0, skipped: 0 }])) as KindCounts;
}
