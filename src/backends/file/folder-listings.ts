/**
 * The entries of the folders the stats walk reads, kept while each folder is unchanged, so a
 * walk of an unchanged tree costs a `stat` per folder instead of a `readdir` (an open, two
 * reads and a close). A folder's mtime and ctime change whenever an entry is added, removed or
 * renamed in it, by any process; a listing is kept only when the folder's ctime was already
 * older than the read by {@link SETTLED_AFTER_MS}, since file systems stamp times with a coarse
 * clock and two changes within one tick would otherwise look like one.
 */
import fs, { type Stats } from 'node:fs';
import { ioError } from './atomic-json.js';
import { SETTLED_AFTER_MS } from './list-reads.js';
import { isMissing } from './temp-files.js';

/** Folders remembered at most (then forgotten all at once: only a `readdir` more each). */
const MAX_FOLDERS = 200_000;

/** An entry of a listed folder. */
export interface FolderEntry {
  /** The entry's name. */
  name: string;
  /** True for a folder (a symbolic link to one is not). */
  isDirectory: boolean;
}

interface Listing {
  identity: string;
  entries: FolderEntry[];
}

/** What changes with a folder's entries: inode, mtime and ctime. */
const identityOf = (stat: Stats): string => `${stat.dev}:${stat.ino}:${stat.mtimeMs}:${stat.ctimeMs}`;

/** Kept listings of one store's folders, valid while each folder is unchanged (see the module comment). */
export class FolderListings {
  private readonly listings = new Map<string, Listing>();

  /** The entries of `dir` (synchronous calls, see `tree-walk.ts`), `null` when it is missing. */
  list(dir: string): readonly FolderEntry[] | null {
    const started = Date.now();
    let stat: Stats | undefined;
    try {
      stat = fs.statSync(dir, { throwIfNoEntry: false });
    } catch (error) {
      if (isMissing(error)) stat = undefined;
      else throw ioError('list', dir, error);
    }
    if (stat === undefined) {
      this.listings.delete(dir);
      return null;
    }
    const identity = identityOf(stat);
    const known = this.listings.get(dir);
    if (known?.identity === identity) return known.entries;
    this.listings.delete(dir);
    const entries = readEntries(dir);
    // Taken before the read: a change during it shows as another identity next time.
    if (entries !== null && stat.ctimeMs < started - SETTLED_AFTER_MS) {
      if (this.listings.size >= MAX_FOLDERS) this.listings.clear();
      this.listings.set(dir, { identity, entries });
    }
    return entries;
  }
}

function readEntries(dir: string): FolderEntry[] | null {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory() }));
  } catch (error) {
    if (isMissing(error)) return null;
    throw ioError('list', dir, error);
  }
}
