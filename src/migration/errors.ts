/** Errors of the migration engine. */
import { StorageError } from '../core/errors.js';

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
  /** The source holds files that do not parse (its stats' `corrupt_files`), whose records a copy would lose. */
  | 'corrupt-source';

/** A migration that refused to start; nothing was written to the target. */
export class MigrationRefusedError extends StorageError {
  readonly reason: RefusalReason;

  constructor(reason: RefusalReason, message: string) {
    super(message, { code: 'MIGRATION_REFUSED' });
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

/** Throws {@link MigrationAbortedError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MigrationAbortedError(signal.reason);
}
