/**
 * Removals of a keyed folder's files (`keyed-files.ts`): a key's file on delete or purge, and
 * the old copy a write leaves at the key's hashed name when the key moves back to its
 * reference name (or at the reference's name of a key too long for it, see `legacyKeyFileName`).
 */
import fs from 'node:fs';
import { logEvent, StorageError, type StorageLogger } from '../../core/index.js';
import { ioReason } from '../io-reason.js';
import { fsyncDir, ioError } from './atomic-json.js';
import type { Backups } from './backups.js';
import type { AssertLockHeld } from './file-lock.js';
import { holdsExactName, type KeyedFolder } from './keyed-names.js';
import { probeKeyedFile } from './keyed-probes.js';
import { candidateKeyFileNames, hashedKeyFileName, isPlainKey } from './layout.js';
import { isMissing } from './temp-files.js';

/**
 * Deletes `key`'s files in `folder` for which `predicate` holds (`null`: whatever they hold,
 * and also a corrupt file that can only be this key's), each with its backups, which hold only
 * older values of the deleted key (until 2026-12-06 they stayed); the caller holds the key's lock.
 * Returns whether something was deleted. `syncAfter: false` leaves the folder's last fsync to
 * the caller (a batch, one for all its keys: `keyed-batch-removals.ts`).
 */
export async function removeKeyFiles<T extends { key: string }>(
  folder: KeyedFolder<T>,
  key: string,
  predicate: ((entry: T) => boolean) | null,
  assertHeld: AssertLockHeld,
  syncAfter = true,
): Promise<boolean> {
  const { dir, names, parse, backups } = folder;
  let removed = false;
  // The name reads try last goes first: a second copy there is a stale one (a crash before its
  // write's `dropOldCopy`, or a removal that failed), and a delete that stops between the two
  // (a crash, a failed unlink) must leave the current value, never bring the stale one back.
  // Synced before the next: only then is that order what a crash can leave.
  const candidates = candidateKeyFileNames(key).reverse();
  for (const [i, name] of candidates.entries()) {
    const file = names.pathOf(dir, name);
    const probe = await probeKeyedFile(file, parse);
    // A corrupt file is removed only where no other key could live: a plain key's own
    // name (exactly, where names fold), or this key's hashed name.
    const owned =
      predicate === null &&
      probe.state === 'corrupt' &&
      (name === hashedKeyFileName(key) || (isPlainKey(key) && (await holdsExactName(names, dir, name))));
    const mine = probe.state === 'ok' && probe.entry.key === key && (predicate?.(probe.entry) ?? true);
    if (!mine && !owned) {
      // A plain key's own name is no other key's: its backups are this key's even with the file
      // gone (a delete cut short after its unlink), and a delete run again removes them.
      const ownName = predicate === null && probe.state === 'missing' && isPlainKey(key) && !names.folds;
      if (ownName && name === candidates.at(-1) && ((await backups?.removeAll(file)) ?? 0) > 0)
        removed = true;
      continue;
    }
    assertHeld();
    const existed = await unlinkEntry(file, backups, false);
    // After the file: a delete cut short leaves backups, never the value back as live.
    if (backups !== null) await backups.removeAll(file);
    removed = existed || removed;
    if (existed && i < candidates.length - 1) await fsyncDir(dir);
  }
  if (removed && syncAfter) await fsyncDir(dir);
  return removed;
}

/** Deletes `file` if present (backed up first when `backupFirst`); returns whether it existed. */
export async function unlinkEntry(
  file: string,
  backups: Backups | null,
  backupFirst: boolean,
): Promise<boolean> {
  if (backupFirst) await backups?.beforeOverwrite(file);
  let existed = true;
  try {
    await fs.promises.unlink(file);
  } catch (error) {
    if (!isMissing(error)) {
      await backups?.abandon(file);
      throw ioError('remove', file, error);
    }
    existed = false;
  }
  await backups?.landed(file, null);
  backups?.forget(file);
  return existed;
}

/**
 * Removes a key's old copy (at its hashed name once its new file is in place under the
 * reference name, or the other way round for a key too long for the reference name; backed
 * up first when `backups` is given). Reads and listings try the new name first, so a copy left behind is what a crash
 * just before this removal leaves: never read while the new file is there, and removed by the
 * key's next write or delete. A failure here therefore does not fail the write that landed: it
 * is logged (`warn`, with the path, and the failed call's code, words and call: the thrown
 * error's cause, as its message names the path again).
 */
export async function removeOldCopy(
  file: string,
  backups: Backups | null,
  logger: StorageLogger | undefined,
): Promise<void> {
  try {
    await unlinkEntry(file, backups, true);
  } catch (error) {
    logEvent(
      logger,
      'warn',
      'file storage: could not remove the old copy of a key moved to its reference name',
      {
        path: file,
        error: ioReason(error instanceof StorageError && error.cause !== undefined ? error.cause : error),
      },
    );
  }
}
