/**
 * The refusal of a source holding files that do not parse. The file backend keeps a cache entry
 * or a system state's key inside its file, so its listings skip a file that does not parse (its
 * key cannot be known), and a copy that follows the listings leaves that record behind; the
 * verification, reading the same listings, finds nothing missing. Its stats name such files
 * (`corrupt_files`), so a run reads them first and refuses instead of losing them silently.
 * (A backend whose records are rows lists every key it holds: reading an unreadable one fails
 * the copy with a `CorruptDataError` naming it.)
 */
import type { StorageInterface } from '../core/storage-interface.js';
import { MigrationRefusedError } from './errors.js';

/** Files named in the refusal; the rest are counted (stats lists them all). */
const SHOWN_FILES = 10;

/**
 * Rejects with {@link MigrationRefusedError} (reason `corrupt-source`, naming the files) when
 * the source's stats list files that do not parse (`corrupt_files`); a backend that reports
 * none passes. Reads the source's stats; writes nothing.
 */
export async function refuseCorruptSource(source: StorageInterface): Promise<void> {
  const listed = (await source.getStorageStats()).corrupt_files;
  if (!Array.isArray(listed) || listed.length === 0) return;
  const files = listed.map(String);
  const more = files.length > SHOWN_FILES ? `, and ${files.length - SHOWN_FILES} more` : '';
  throw new MigrationRefusedError(
    'corrupt-source',
    `The source holds ${files.length} file(s) that do not parse (its stats' corrupt_files, relative to its ` +
      `folder): ${files.slice(0, SHOWN_FILES).join(', ')}${more}. A migration would leave their records ` +
      'behind (a cache or state file holds its own key, so the listings skip it) or fail at them. Repair ' +
      'those files, or move them out of the store (keep a copy), then run again. Nothing was written',
  );
}
