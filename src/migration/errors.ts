/** Errors of the migration engine. */
import { CorruptDataError, StorageError } from '../core/errors.js';

/** Why a migration refused to start (nothing was written). */
export type RefusalReason =
  | 'same-store'
  | 'target-not-empty'
  | 'foreign-marker'
  /** Another run is writing into the target now (its marker's heartbeat is recent). */
  | 'migration-running'
  | 'invalid-option'
  /** The target's `maxReasoningChainsPerAgent` is below an agent's chain count in the source. */
  | 'chain-limit'
  /** The source holds files that do not parse whose records its listings leave out (`listUnlistedFiles()`), which a copy would lose. */
  | 'corrupt-source';

/**
 * A migration that refused to start; nothing was written to the target. Its `cause`, when it
 * has one, is what reading the caller's options threw (reason `invalid-option`).
 */
export class MigrationRefusedError extends StorageError {
  /** Why the migration refused, e.g. `target-not-empty`. */
  readonly reason: RefusalReason;

  constructor(reason: RefusalReason, message: string, cause?: unknown) {
    super(message, { cause, code: 'MIGRATION_REFUSED' });
    this.reason = reason;
  }
}

/** Thrown when a migration's `signal` aborts it; the target holds a resumable partial copy. */
export class MigrationAbortedError extends StorageError {
  constructor(reason?: unknown) {
    super(
      `Migration aborted${reason instanceof Error ? `: ${reason.message}` : ''}; run it again to resume`,
      { cause: reason, code: 'MIGRATION_ABORTED' },
    );
  }
}

/**
 * A migration that copied and verified everything but could not remove the target's resume
 * marker (`cause`: the removal's error). The target holds the whole copy; running the same
 * command again finishes it (it resumes; pass `merge` when the removal landed after all and
 * the rerun is refused as `target-not-empty`).
 */
export class MarkerNotClearedError extends StorageError {
  constructor(key: string, cause: unknown) {
    super(
      `The copy is complete and verified, but removing the target's migration marker (${key}) failed` +
        `${cause instanceof Error ? `: ${cause.message}` : ''}. Run the same command again to finish ` +
        '(if it is refused as target-not-empty, the marker was removed after all: add --merge, merge: true)',
      { cause, code: 'MIGRATION_MARKER_NOT_CLEARED' },
    );
  }
}

/** Throws {@link MigrationAbortedError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MigrationAbortedError(signal.reason);
}

/**
 * A read of the migration's source found data that does not parse (its `location`, as the
 * source's {@link CorruptDataError} named it). Unlike a failed write or an unreachable store,
 * running the same migration again fails at the same record until it is repaired or moved out
 * of the source. Still a `CorruptDataError`, with the source's as its `cause`.
 */
export class CorruptSourceError extends CorruptDataError {
  constructor(error: CorruptDataError) {
    const prefix = `Corrupt data at ${error.location}: `;
    const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    super(error.location, reason, error);
    this.message = `Corrupt data in the source at ${error.location}: ${reason}`;
  }
}
