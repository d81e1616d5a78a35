/**
 * The D3 names of a keyed folder (`keyed-files.ts`): which names a key's file may have, and
 * which one a write of the key goes to.
 */
import fs from 'node:fs';
import type { JsonValue } from '../../core/index.js';
import { ioError, type WrittenTemp } from './atomic-json.js';
import type { Backups } from './backups.js';
import type { AssertLockHeld } from './file-lock.js';
import type { ListedFile } from './kept-entries.js';
import { probeKeyedFile, probeKeyedFileNow } from './keyed-probes.js';
import {
  candidateRank,
  hashedKeyFileName,
  isPlainKey,
  legacyKeyFileName,
  sanitizedKeyFileName,
} from './layout.js';
import type { FileNames } from './name-folding.js';

/** A key's file renamed into place by `KeyedFiles.place`, its folder not yet synced. */
export interface PlacedEntry {
  /** The file written. */
  target: string;
  /** The folders to sync (`syncRenamed`). */
  written: WrittenTemp;
  /**
   * The key's old copy to remove once the new file is synced, usually `null`: at its hashed
   * name, or (`backup: false`: its name has no room for a backup suffix) the reference's name
   * of a key whose sanitized name passes 200 bytes.
   */
  oldCopy: { file: string; backup: boolean } | null;
}

/** What choosing a key's file needs of its folder. */
export interface KeyedFolder<T> {
  /** The folder. */
  dir: string;
  /** The store's name rules. */
  names: FileNames;
  /** Checks a parsed file and says whose it is. */
  parse: (file: string, value: JsonValue) => T;
  /** The folder's backups (told of a file moved aside), or `null`. */
  backups: Backups | null;
}

/** {@link candidateRank} with names compared as the file system `names` describes compares them. */
export function rankIn(names: FileNames, key: string, name: string): number {
  return names.folds ? candidateRank(key, name, (a, b) => names.sameEntry(a, b)) : candidateRank(key, name);
}

/**
 * True unless names fold and the file `name` resolves to in `dir` is on disk under another
 * spelling (a case twin's file): only then is it not certainly this name's own.
 */
export async function holdsExactName(names: FileNames, dir: string, name: string): Promise<boolean> {
  return (await names.twinOf(dir, name)) === null;
}

/** The file {@link chooseTarget} picked, and whether the file there did not parse (`undefined`: not read). */
export interface ChosenTarget {
  file: string;
  unreadable: boolean | undefined;
}

/**
 * Picks `key`'s file (D3), under its lock: its reference name when that name is free or already
 * its own, else the hashed name (`hashed`, its path); a plain key first moves another key's file
 * out of its way. `lookup`: the reference name is looked up (and a file there read) through the
 * pool or at once. The reference name's read also tells whether the file a write there replaces
 * parses (its backup is named by that, see `backup-names.ts`).
 */
export async function chooseTarget<T extends { key: string }>(
  folder: KeyedFolder<T>,
  key: string,
  hashed: string,
  assertHeld: AssertLockHeld,
  lookup: 'pool' | 'now',
): Promise<ChosenTarget> {
  const { dir, names, parse, backups } = folder;
  const atHashed = { file: hashed, unreadable: undefined };
  const sanitizedName = sanitizedKeyFileName(key);
  if (sanitizedName === null) return atHashed;
  const sanitized = names.pathOf(dir, sanitizedName);
  const probe: ListedFile<T> =
    lookup === 'now' ? probeKeyedFileNow(sanitized, parse) : await probeKeyedFile(sanitized, parse, 'pool');
  if (isPlainKey(key)) {
    const occupant = probe.state === 'ok' ? probe.entry.key : key;
    const foreign = occupant !== key && rankIn(names, occupant, sanitizedName) !== -1;
    // Where names fold, a plain case twin (`abc` for `Abc`) holds the same name by the same
    // right: the first keeps it, this key takes its hashed name and nothing moves. A corrupt
    // file under another spelling may be the twin's: it is not replaced either.
    if (
      (foreign && isPlainKey(occupant)) ||
      (probe.state === 'corrupt' && !(await holdsExactName(names, dir, sanitizedName)))
    ) {
      return atHashed;
    }
    // Only another key's live entry moves to that key's hashed name. A file there that is not
    // any key's entry (a backup named like this key) would turn into a stale copy of its key
    // there, even bring back a deleted key; it is backed up and replaced like any old file.
    if (foreign) {
      const moved = names.pathOf(dir, hashedKeyFileName(occupant));
      assertHeld();
      await fs.promises.rename(sanitized, moved).catch((error: unknown) => {
        throw ioError('move aside', sanitized, error);
      });
      backups?.forget(sanitized);
      backups?.forget(moved);
    }
    return { file: sanitized, unreadable: probe.state === 'corrupt' };
  }
  const free = probe.state === 'missing' || (probe.state === 'ok' && probe.entry.key === key);
  return free ? { file: sanitized, unreadable: false } : atHashed;
}

/**
 * The reference's file of `key` in `folder` when its sanitized name passes 200 bytes (see
 * `legacyKeyFileName`) and the file there is this key's, else `null`; under the key's lock.
 */
export async function legacyCopyOf<T extends { key: string }>(
  folder: KeyedFolder<T>,
  key: string,
  lookup: 'pool' | 'now',
): Promise<string | null> {
  const name = legacyKeyFileName(key);
  if (name === null) return null;
  const file = folder.names.pathOf(folder.dir, name);
  const probe =
    lookup === 'now'
      ? probeKeyedFileNow(file, folder.parse)
      : await probeKeyedFile(file, folder.parse, 'pool');
  return probe.state === 'ok' && probe.entry.key === key ? file : null;
}
