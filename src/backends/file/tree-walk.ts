/**
 * The folder walk behind the file backend's stats: the bytes of every file, and the files of
 * each conversation and agent folder with their identities. Synchronous `readdir` and `lstat`
 * calls, paced: each is a cached metadata lookup of microseconds, where a trip through Node's
 * thread pool costs several times that in CPU and, on a busy machine, far more in waiting, and
 * a store of 10,000 conversations takes 20,000 of them. The event loop is released every
 * {@link YIELD_EVERY} calls or 10 ms (`loop-turns.ts`), so other work is not held up for long.
 * A folder unchanged since an earlier walk is not read again (see `folder-listings.ts`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type FileIdentity, identityOf } from './atomic-json.js';
import { LoopTurns } from './loop-turns.js';
import type { FolderEntry, FolderListings } from './folder-listings.js';
import { statIdentity } from './search-sources.js';

/** File-system calls made in one go before the event loop is released. */
const YIELD_EVERY = 256;

/** A file of a conversation or agent folder: its size, and its identity when it is a data file. */
export interface FolderFile {
  /** Bytes (of the link itself for a symbolic link, as the reference's sizes count). */
  size: number;
  /** Identity of the file it names (links followed); `null` when it is not a regular file. */
  identity: FileIdentity | null;
}

/** A walked data folder (`conversations/` or `agents/`). */
export interface DataDirScan {
  /** Bytes of every file under it. */
  bytes: number;
  /** The files directly inside each sub-folder, by sub-folder name and file name. */
  folders: Map<string, Map<string, FolderFile>>;
}

/** One walk's paced calls (see the module comment). */
export class TreeWalk {
  private readonly turns = new LoopTurns(YIELD_EVERY);

  /**
   * @param identified names of the files whose identity a folder scan records (the data files).
   * @param listings the store's kept folder listings.
   */
  constructor(
    private readonly identified: ReadonlySet<string>,
    private readonly listings: FolderListings,
  ) {}

  /**
   * Bytes of all files under `dir` (0 when missing), leaving out its entries named in `skip`;
   * files vanishing during the walk count 0.
   */
  async treeBytes(dir: string, skip: readonly string[] = []): Promise<number> {
    const entries = await this.list(dir);
    let bytes = 0;
    for (const entry of entries ?? []) {
      if (skip.includes(entry.name)) continue;
      const full = path.join(dir, entry.name);
      bytes += entry.isDirectory ? await this.treeBytes(full) : ((await this.lstat(full, entry))?.size ?? 0);
    }
    return bytes;
  }

  /** Walks `conversations/` or `agents/`: its bytes and the files of each sub-folder. */
  async scanDataDir(dir: string): Promise<DataDirScan> {
    const folders = new Map<string, Map<string, FolderFile>>();
    let bytes = 0;
    for (const top of (await this.list(dir)) ?? []) {
      const folder = path.join(dir, top.name);
      if (!top.isDirectory) {
        bytes += (await this.lstat(folder, top))?.size ?? 0;
        continue;
      }
      const files = new Map<string, FolderFile>();
      const entries = await this.list(folder);
      if (entries === null) continue; // removed meanwhile
      folders.set(top.name, files);
      for (const entry of entries) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory) {
          bytes += await this.treeBytes(full);
          files.set(entry.name, { size: 0, identity: null });
          continue;
        }
        const stat = await this.lstat(full, entry);
        if (stat === null) continue; // removed meanwhile
        bytes += stat.size;
        files.set(entry.name, { size: stat.size, identity: stat.identity });
      }
    }
    return { bytes, folders };
  }

  /** A folder's entries, `null` when it is missing. */
  private async list(dir: string): Promise<readonly FolderEntry[] | null> {
    await this.pace();
    return this.listings.list(dir);
  }

  /** Size and (for a data file) identity of `file`; `null` when it vanished. */
  private async lstat(
    file: string,
    entry: FolderEntry,
  ): Promise<{ size: number; identity: FileIdentity | null } | null> {
    await this.pace();
    const wanted = this.identified.has(entry.name);
    try {
      if (!wanted) {
        const plain = fs.lstatSync(file, { throwIfNoEntry: false });
        return plain === undefined ? null : { size: plain.size, identity: null };
      }
      const stat = fs.lstatSync(file, { bigint: true, throwIfNoEntry: false });
      if (stat === undefined) return null;
      // A link's own identity does not change with its target: the target's is taken.
      const identity = stat.isFile() ? identityOf(stat) : stat.isSymbolicLink() ? statIdentity(file) : null;
      return { size: Number(stat.size), identity };
    } catch {
      return null; // unreadable counts as gone, as the thread-pool walk did
    }
  }

  private pace(): Promise<void> {
    return this.turns.step();
  }
}
