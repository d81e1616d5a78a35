/**
 * The CLI's message for an interrupted migration: a run interrupted before its first write (the
 * target holds no marker: it was still reading the source for `--check-source` or the chain
 * counts) wrote nothing, where it said the target held a partial copy to resume.
 */
import { migrationError } from '../../src/cli/migrate-failure.js';
import { EXIT } from '../../src/cli/open.js';
import {
  MarkerNotClearedError,
  MIGRATION_MARKER_KEY,
  MigrationAbortedError,
} from '../../src/migration/index.js';

it.each([
  ['absent', 'Interrupted before the first write; nothing was written to the target'],
  ['unread', 'Interrupted before the first write; nothing was written to the target'],
  ['present', 'Interrupted; the target holds a partial copy: run the same command again to resume'],
  ['failed', 'Interrupted; the target holds a partial copy: run the same command again to resume'],
] as const)('an interrupted run whose marker read %s', (marker, message) => {
  const error = migrationError(new MigrationAbortedError(new Error('interrupted')), false, marker);
  expect(error.message).toBe(message);
  expect(error.exitCode).toBe(EXIT.interrupted);
});

it.each(['absent', 'present', 'failed'] as const)(
  'a run whose marker removal failed (marker read %s) says the copy is whole and how to finish',
  (marker) => {
    // Until 2026-12-06 a removal that had landed read as "failed before writing anything".
    const cause = new Error('connection lost before the reply');
    const error = migrationError(new MarkerNotClearedError(MIGRATION_MARKER_KEY, cause), false, marker);
    expect(error.exitCode).toBe(EXIT.error);
    expect(error.message).toContain('The copy is complete and verified');
    expect(error.message).toContain('connection lost before the reply');
    expect(error.message).toContain('Run the same command again to finish');
    expect(error.message).not.toContain('Nothing was written');
  },
);
