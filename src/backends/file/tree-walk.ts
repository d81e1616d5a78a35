/**
 * The folder walk behind the file backend's stats: the bytes of every file, and the files of
 * each conversation and agent folder with their identities. Synchronous `readdir` and `lstat`
 * calls, paced: each is a cached metadata lookup of microseconds, where a trip through Node's
 * thread pool costs several times that in CPU and, on a busy machine, far more in waiting, and
 * a store of 10,000 conversations takes 20,000 of them. The event loop is released every
 * {@link YIELD_EVERY} steps (a data folder, or a file elsewhere) or 10 ms (`loop-turns.ts`), so
 * other work is not held up for long; the steps are not promises (see `LoopTurns.stepSoon`).
 * A folder unchanged since an earlier walk is not read again (see `folder-listings.ts`), and
 * the search index's segments are not `lstat`ed again while their folder is unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type FileIdentity, identityOf } from './atomic-json.js';
import { LoopTurns } from './loop-turns.js';
import type { FolderEntry, FolderListings } from './folder-listings.js';
import { statIdentity } from './search-sources.js';
import { isTempEntryName } from './temp-files.js';

/** Steps (a data folder: its listing and its files' `lstat`s; a file elsewhere) between turns of the event loop. */
const YIELD_EVERY = 256;

/** A file of a conversation or agent folder: its size, and its identity when it is a data file. */
export interface FolderFile {
  /** Bytes (of the link itself for a symbolic link, as the reference's sizes count). */
  size: number;
  /** Identity of the file it names (links followed); `null` when it is not a regular file. */
  identity: FileIdentity | null;
  /** True for a symbolic link to nothing (no file, to the loads and listings). */
  dangling?: true;
}

/** A walked data folder (`conversations/` or `agents/`). */
export interface DataDirScan {
  /** Bytes of every file under it. */
  bytes: number;
  /** The files directly inside each sub-folder, by sub-folder name and file name. */
  folders: Map<string, Map<string, FolderFile>>;
}

/** True when `file` is a symbolic link to a folder (a stray file or a link to anything else is not). */
function isFolderLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink() && fs.statSync(file).isDirectory();
  } catch {
    return false; // gone, or a link to nothing
  }
}

/** One walk's paced calls (see the module comment). */
export class TreeWalk {
  private readonly turns = new LoopTurns(YIELD_EVERY);

  /**
   * @param identified names of the files whose identity a folder scan records (the data files).
   * @param listings the store's kept folder listings.
   * @param wholeFilesDir a folder whose sub-folders' files are only ever replaced whole (the
   *   search index's), so their bytes are kept while a sub-folder is unchanged (see
   *   `FolderListings.keptBytes`); `null`: none.
   */
  constructor(
    private readonly identified: ReadonlySet<string>,
    private readonly listings: FolderListings,
    private readonly wholeFilesDir: string | null = null,
  ) {}

  /**
   * Bytes of all files under `dir` (0 when missing), leaving out its entries named in `skip`;
   * files vanishing during the walk count 0.
   */
  async treeBytes(dir: string, skip: readonly string[] = []): Promise<number> {
    const due = this.turns.stepSoon();
    if (due !== undefined) await due;
    const entries = this.listings.list(dir);
    if (entries === null) return 0;
    const wholeFiles = this.wholeFilesDir !== null && path.dirname(dir) === this.wholeFilesDir;
    const kept = wholeFiles ? this.listings.keptBytes(dir, entries) : undefined;
    const prefix = path.join(dir, path.sep); // normalised once: then concatenation is `path.join`
    let bytes = 0;
    let fileBytes = 0;
    for (const entry of entries) {
      if (skip.length > 0 && skip.includes(entry.name)) continue;
      if (entry.isDirectory) {
        bytes += await this.treeBytes(prefix + entry.name);
        continue;
      }
      const temp = isTempEntryName(entry.name);
      if (kept !== undefined && !temp) continue; // counted in `kept`
      const turn = this.turns.stepSoon();
      if (turn !== undefined) await turn;
      const size = this.lstat(prefix + entry.name, entry)?.size ?? 0;
      if (temp) bytes += size;
      else fileBytes += size;
    }
    if (kept !== undefined) return bytes + kept;
    if (wholeFiles) this.listings.keepBytes(dir, entries, fileBytes);
    return bytes + fileBytes;
  }

  /** Walks `conversations/` or `agents/`: its bytes and the files of each sub-folder. */
  async scanDataDir(dir: string): Promise<DataDirScan> {
    const folders = new Map<string, Map<string, FolderFile>>();
    let bytes = 0;
    const prefix = path.join(dir, path.sep);
    for (const top of this.listings.list(dir) ?? []) {
      // One step per folder (its listing and the `lstat` of its few files), not per call.
      const turn = this.turns.stepSoon();
      if (turn !== undefined) await turn;
      const folder = prefix + top.name;
      // A link to a folder is listed and loaded through, so its files are counted too; its
      // bytes are the link's own, as for any link. Any other file here is no conversation or agent.
      const linked = !top.isDirectory && isFolderLink(folder);
      if (!top.isDirectory) bytes += this.lstat(folder, top)?.size ?? 0;
      if (!top.isDirectory && !linked) continue;
      const entries = this.listings.list(folder);
      if (entries === null) continue; // removed meanwhile
      const files = new Map<string, FolderFile>();
      folders.set(top.name, files);
      const inner = folder + path.sep;
      for (const entry of entries) {
        const full = inner + entry.name;
        if (entry.isDirectory) {
          if (!linked) bytes += await this.treeBytes(full);
          files.set(entry.name, { size: 0, identity: null });
          continue;
        }
        const stat = this.lstat(full, entry);
        if (stat === null) continue; // removed meanwhile
        if (!linked) bytes += stat.size;
        // A link to nothing is no file: loads find none, and listings do not count it.
        if (!stat.dangling) files.set(entry.name, stat);
      }
    }
    return { bytes, folders };
  }

  /** Size and (for a data file) identity of `file`; `null` when it vanished. */
  private lstat(file: string, entry: FolderEntry): FolderFile | null {
    const wanted = this.identified.has(entry.name);
    try {
      if (!wanted) {
        const plain = fs.lstatSync(file, { throwIfNoEntry: false });
        if (plain === undefined) return null;
        const dangling = plain.isSymbolicLink() && !fs.existsSync(file);
        return { size: plain.size, identity: null, ...(dangling ? { dangling } : {}) };
      }
      const stat = fs.lstatSync(file, { bigint: true, throwIfNoEntry: false });
      if (stat === undefined) return null;
      if (!stat.isSymbolicLink())
        return { size: Number(stat.size), identity: stat.isFile() ? identityOf(stat) : null };
      // A link's own identity does not change with its target: the target's is taken.
      const dangling = !fs.existsSync(file);
      return { size: Number(stat.size), identity: statIdentity(file), ...(dangling ? { dangling } : {}) };
    } catch {
      return null; // unreadable counts as gone, as the thread-pool walk did
    }
  }
}
