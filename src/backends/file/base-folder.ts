/**
 * Whether an open store's base folder is still there. Every read treats a missing folder or
 * file as "nothing stored", which is right inside a store but not for the store itself: once
 * its base folder is removed (a cleanup job, an admin) or a file put at its path, stats counted
 * zero of everything and listings came back empty, an emptied store looking like a healthy
 * empty one, while `healthCheck()` reported it unhealthy. Stats and empty listings look; loads
 * and writes do not (a `stat` per call would cost as much as a small read; a write already
 * fails, naming the folder it cannot create).
 */
import fs from 'node:fs';
import { BackendUnavailableError } from '../../core/index.js';
import { ioReason } from '../io-reason.js';
import { isMissing } from './temp-files.js';

/**
 * Why `baseDir` can no longer hold the store, or `null` while it is a folder (or a link to one).
 * Synchronous: one metadata look-up of a few microseconds (see `metadata-now.ts`).
 */
function baseFolderProblem(baseDir: string): string | null {
  try {
    const stat = fs.statSync(baseDir, { throwIfNoEntry: false });
    if (stat === undefined) return 'does not exist';
    return stat.isDirectory() ? null : 'is not a folder (something else is at its path)';
  } catch (error) {
    // ENOTDIR: a folder on the way to it was replaced by a file.
    return isMissing(error) ? 'does not exist' : `cannot be looked up (${ioReason(error)})`;
  }
}

/** Throws a {@link BackendUnavailableError} naming `baseDir` when it is no longer a folder. */
export function assertBaseFolder(baseDir: string): void {
  const problem = baseFolderProblem(baseDir);
  if (problem === null) return;
  throw new BackendUnavailableError(
    `File store base folder ${baseDir} ${problem} (removed or moved away since the store opened?): ` +
      `nothing stored there can be read or listed; healthCheck() reports it unhealthy`,
  );
}

/**
 * `found`, once the base folder is known to be there when it is empty: an empty listing of a
 * store whose folder is gone rejects as {@link assertBaseFolder} does instead. A listing that
 * found something costs no extra look-up.
 */
export async function listedInStore<T>(baseDir: string, found: Promise<T[]>): Promise<T[]> {
  const items = await found;
  if (items.length === 0) assertBaseFolder(baseDir);
  return items;
}
