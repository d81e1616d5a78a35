/**
 * The entries of the folders the stats walk reads, kept while each folder is unchanged, so a
 * walk of an unchanged tree costs a `stat` per folder instead of a `readdir` (an open, two
 * reads and a close). A folder's mtime and ctime change whenever an entry is added, removed or
 * renamed in it, by any process; a listing is kept only when the folder's ctime was already
 * older than the read by {@link SETTLED_AFTER_MS}, since file systems stamp times with a coarse
 * clock and two changes within one tick would otherwise look like one.
 *
 * For folders whose files are only ever replaced whole (created under a temp name, renamed,
 * removed: the search index's segments), the bytes of their files are kept with the listing
 * too, as none can change size without the folder changing (see {@link FolderListings.keptBytes}).
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

/** A kept listing: what changes with a folder's entries (inode, mtime, ctime), its entries. */
interface Listing {
  dev: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  entries: FolderEntry[];
  /** Bytes of the files among `entries`, temp files left out, once a walk summed them. */
  fileBytes?: number;
}

/** True when `stat` is the folder `known` was listed from, unchanged (compared as numbers: no string per folder). */
const unchanged = (known: Listing, stat: Stats): boolean =>
  known.ino === stat.ino &&
  known.mtimeMs === stat.mtimeMs &&
  known.ctimeMs === stat.ctimeMs &&
  known.dev === stat.dev;

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
    const known = this.listings.get(dir);
    if (known !== undefined && unchanged(known, stat)) return known.entries;
    this.listings.delete(dir);
    const entries = readEntries(dir);
    // Taken before the read: a change during it shows as another identity next time.
    if (entries !== null && stat.ctimeMs < started - SETTLED_AFTER_MS) {
      if (this.listings.size >= MAX_FOLDERS) this.listings.clear();
      const { dev, ino, mtimeMs, ctimeMs } = stat;
      this.listings.set(dir, { dev, ino, mtimeMs, ctimeMs, entries });
    }
    return entries;
  }

  /**
   * The bytes of the files among `entries` (temp files left out) summed by an earlier walk, when
   * `entries` is still the kept listing of `dir` (what {@link list} just returned), else
   * `undefined`. Only for folders whose files are replaced whole, never rewritten in place: a
   * file created, renamed or removed there changes the folder, and so its listing; a temp file
   * may still be growing, so the caller measures those each time.
   */
  keptBytes(dir: string, entries: readonly FolderEntry[]): number | undefined {
    const known = this.listings.get(dir);
    return known?.entries === entries ? known.fileBytes : undefined;
  }

  /** Keeps `bytes` as {@link keptBytes} of `dir` while `entries` is its kept listing. */
  keepBytes(dir: string, entries: readonly FolderEntry[], bytes: number): void {
    const known = this.listings.get(dir);
    if (known?.entries === entries) known.fileBytes = bytes;
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
