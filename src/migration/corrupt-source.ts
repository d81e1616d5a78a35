/**
 * The refusal of a source holding records its listings leave out. The file backend keeps a
 * cache entry's or a system state's key inside its file, so its listings skip a file that does
 * not parse (its key cannot be known), and a copy that follows the listings leaves that record
 * behind; the verification, reading the same listings, finds nothing missing. Such a store
 * names those files (`listUnlistedFiles()`, a file store's), so a run asks first and refuses
 * instead of losing them silently. (A backend whose records are rows lists every key it holds:
 * reading an unreadable one fails the copy with a `CorruptDataError` naming it.) The verification
 * asks too, and rejects naming them, where it would have found nothing missing.
 */
import type { StorageInterface } from '../core/storage-interface.js';
import { CorruptDataError } from '../core/errors.js';
import { CorruptSourceError, MigrationRefusedError } from './errors.js';

/** Files named in the refusal; the rest are counted. */
const SHOWN_FILES = 10;

/** A store that can name the files whose records its listings leave out (a `FileStorage`). */
interface ListsUnlistedFiles {
  listUnlistedFiles(): Promise<string[]>;
}

/** The first {@link SHOWN_FILES} of `files`, and how many more. */
function shown(files: readonly string[]): string {
  const more = files.length > SHOWN_FILES ? `, and ${files.length - SHOWN_FILES} more` : '';
  return `${files.slice(0, SHOWN_FILES).join(', ')}${more}`;
}

function listsUnlistedFiles(store: StorageInterface): store is StorageInterface & ListsUnlistedFiles {
  return typeof (store as Partial<ListsUnlistedFiles>).listUnlistedFiles === 'function';
}

/**
 * The files of `source` whose records its listings leave out (`listUnlistedFiles()`, relative
 * to its folder); none for a store that cannot have any.
 */
export function unlistedFiles(source: StorageInterface): Promise<string[]> {
  return listsUnlistedFiles(source) ? source.listUnlistedFiles() : Promise.resolve([]);
}

/**
 * Rejects with {@link MigrationRefusedError} (reason `corrupt-source`, naming the files) when
 * the source holds records its listings leave out (a file store's cache or state files that do
 * not parse); a store that cannot have such records passes. Reads only those files (once read,
 * the copy's own listing of the same keys costs a `stat` each); writes nothing.
 */
export async function refuseCorruptSource(source: StorageInterface): Promise<void> {
  const files = await unlistedFiles(source);
  if (files.length === 0) return;
  throw new MigrationRefusedError(
    'corrupt-source',
    `The source holds ${files.length} file(s) that do not parse (relative to its folder): ` +
      `${shown(files)}. A migration would leave their records behind (a ` +
      'cache or state file holds its own key, so the listings skip it). Repair those files, or move them ' +
      'out of the store (keep a copy), then run again. Nothing was written',
  );
}

/**
 * Rejects with a {@link CorruptSourceError} (at the first such file, naming them all) when the
 * source holds records its listings leave out: a verification that follows the listings would
 * find nothing missing, and these records cannot be compared. A store that cannot have any passes.
 */
export async function throwIfSourceUnlisted(source: StorageInterface): Promise<void> {
  const files = await unlistedFiles(source);
  if (files.length === 0) return;
  const reason =
    "does not parse, so the source's listings leave its record out and it cannot be compared " +
    `(${files.length} such file(s), relative to the source's folder: ${shown(files)}); ` +
    'repair them or move them out of the source (keep a copy)';
  throw new CorruptSourceError(new CorruptDataError(files[0] as string, reason));
}
