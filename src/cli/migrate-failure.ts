/**
 * The exit code and message of a failed migration: whether it wrote anything is told by the
 * target's resume marker, read with a short bound so that a dead target does not hold the CLI
 * for its driver's timeout.
 */
import { ReadOnlyError } from '../core/errors.js';
import type { StorageInterface } from '../core/storage-interface.js';
import {
  CorruptSourceError,
  MarkerNotClearedError,
  MIGRATION_MARKER_KEY,
  MigrationAbortedError,
  MigrationRefusedError,
} from '../migration/index.js';
import { asCliError, CliError, errorText, EXIT } from './open.js';

/**
 * How long a failed migration waits for the target to answer whether it holds a resume marker.
 * A live store answers in milliseconds; an unreachable one would hold the read (and the exit)
 * for its driver's timeout (Redis: the command timeout, 10 s by default).
 */
export const MARKER_READ_WAIT_MS = 2000;

/**
 * What the marker read found: `absent` (nothing was written), `present`, `failed` (the read
 * threw), `unanswered` (no answer within the wait; the read is still running) or `unread`.
 */
export type MarkerRead = 'absent' | 'present' | 'failed' | 'unanswered' | 'unread';

/**
 * Reads whether `target` holds a resume marker, giving up after `waitMs`. A migration writes
 * its marker before any other write and removes it only when it succeeds, so a failed run that
 * left none wrote nothing (it failed reading the source's chain counts or the target).
 */
export async function readMarkerWithin(target: StorageInterface, waitMs: number): Promise<MarkerRead> {
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<MarkerRead>((resolve) => {
    timer = setTimeout(() => resolve('unanswered'), waitMs);
  });
  const read = target.loadSystemState(MIGRATION_MARKER_KEY).then(
    (marker): MarkerRead => (marker === null ? 'absent' : 'present'),
    (): MarkerRead => 'failed',
  );
  try {
    return await Promise.race([read, unanswered]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The CLI error of a failed migration. A dry run wrote nothing, nor did a run whose target
 * holds no marker: exit 2, as a refusal, with nothing to resume. A target that could not tell
 * (`failed`, `unanswered`) may hold a partial copy: exit 3, saying so.
 */
export function migrationError(error: unknown, dryRun: boolean, marker: MarkerRead): CliError {
  if (error instanceof MigrationRefusedError) return asCliError(error, EXIT.usage);
  if (error instanceof CorruptSourceError) return corruptSourceError(error, dryRun, marker);
  // A target open read-only (a registered backend may be, whatever its spec says) refuses every
  // write, its first one (the resume marker) included: nothing was written, as in the check above.
  if (error instanceof ReadOnlyError) {
    return new CliError(`${errorText(error)}: the target is read-only; open it writable`, EXIT.usage);
  }
  if (error instanceof MigrationAbortedError) {
    // No marker: interrupted before the first write (reading the source for --check-source or
    // the chain counts), so there is nothing to resume.
    const nothing = marker === 'absent' || marker === 'unread';
    return new CliError(
      dryRun
        ? 'Interrupted; nothing was written (dry run)'
        : nothing
          ? 'Interrupted before the first write; nothing was written to the target'
          : 'Interrupted; the target holds a partial copy: run the same command again to resume',
      EXIT.interrupted,
    );
  }
  if (error instanceof CliError) return error;
  // The copy is whole: whatever the marker read says, the message tells how to finish.
  if (error instanceof MarkerNotClearedError)
    return new CliError(`Migration failed: ${errorText(error)}`, EXIT.error);
  if (dryRun) return new CliError(`Dry run failed: ${errorText(error)}. Nothing was written`, EXIT.usage);
  if (marker === 'absent') {
    return new CliError(
      `Migration failed before writing anything: ${errorText(error)}. Nothing was written to the target`,
      EXIT.usage,
    );
  }
  if (marker === 'failed' || marker === 'unanswered') {
    return new CliError(
      `Migration failed: ${errorText(error)}. The target did not answer whether anything was written ` +
        'to it; it may hold a partial copy: run the same command again to resume',
      EXIT.error,
    );
  }
  return new CliError(
    `Migration failed: ${errorText(error)}. The target holds a partial copy; run the same command again to resume`,
    EXIT.error,
  );
}

/**
 * A source record that does not parse: the exit code says, as for any failure, whether
 * anything was written, but running again fails at the same record, so the message says to
 * repair it (or move it out of the source) first, where another failure's says to run again.
 */
function corruptSourceError(error: CorruptSourceError, dryRun: boolean, marker: MarkerRead): CliError {
  const fix = 'Running it again fails there too until that data is repaired or moved out of the source';
  // A run names only the first such record it meets; the pre-pass names all of them.
  const all = '--check-source names all the data of the source that does not parse, writing nothing';
  if (dryRun)
    return new CliError(
      `Dry run failed: ${errorText(error)}. Nothing was written. ${fix}. ${all}`,
      EXIT.usage,
    );
  // `unread`: the target was never opened, so nothing was written.
  if (marker === 'absent' || marker === 'unread') {
    return new CliError(
      `Migration failed before writing anything: ${errorText(error)}. Nothing was written to the target. ${fix}. ${all}`,
      EXIT.usage,
    );
  }
  const held =
    marker === 'present'
      ? 'The target holds a partial copy'
      : 'The target did not answer whether anything was written to it; it may hold a partial copy';
  return new CliError(
    `Migration failed: ${errorText(error)}. ${held}. ${fix}; then run the same command again to resume. ${all}`,
    EXIT.error,
  );
}
