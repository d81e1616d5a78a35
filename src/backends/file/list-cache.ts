/**
 * The list files (memories, reasoning chains) this process wrote or loaded last, kept parsed,
 * so the next read-modify-write of one under its lock, or the next load, costs a `stat` instead
 * of reading and parsing the whole file (at 1,000 memories that file is ~300 KB). An entry is trusted only while the file on disk
 * still has the identity (device, inode, size, mtime) it had when this process wrote it: another
 * process renames a new file in (a new inode), the Python reference rewrites it in place (a new
 * size or mtime), and either makes the entry stale, so the file is read again. Loads keep the
 * lists they read as well, once a file has not changed for a while (see `list-reads.ts`).
 */
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import type { JsonValue } from '../../core/index.js';
import { type FileIdentity, identityOf, identitySize } from './atomic-json.js';
import { readWithIdentity } from './list-reads.js';
import { statNow } from './metadata-now.js';

/** Parsed bytes kept at most, counted by file size (least recently used are dropped first). */
const MAX_CACHED_BYTES = 32 * 1024 * 1024;

/** A list file as read for an update: its items, and its stat when one was taken. */
export interface ListSnapshot {
  /** The items; shared with the cache, so callers copy instead of changing it. */
  list: JsonValue[];
  /** The file's stat taken just before (`null`: missing), or `undefined` when none was taken. */
  stat: BigIntStats | null | undefined;
}

interface Entry {
  identity: FileIdentity;
  list: JsonValue[];
  bytes: number;
}

/** Parsed list files of one store, valid while the files are unchanged (see the module comment). */
export class ListFileCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  /** `file`'s items: cached when the file is still the one written here, else `readFromDisk()`. */
  async load(file: string, readFromDisk: () => Promise<JsonValue[]>): Promise<ListSnapshot> {
    const entry = this.entries.get(file);
    if (entry === undefined) return { list: await readFromDisk(), stat: undefined };
    const stat = statNow(file, 'read');
    if (stat !== null && identityOf(stat) === entry.identity) {
      this.entries.delete(file); // re-inserted as the most recently used
      this.entries.set(file, entry);
      return { list: entry.list, stat };
    }
    this.forget(file);
    return { list: stat === null ? [] : await readFromDisk(), stat };
  }

  /**
   * `file`'s items for a load (`null`: no file): the kept list while the file is unchanged, else
   * read from disk and kept when its content is settled (see `list-reads.ts`). The list is shared
   * with the cache: callers copy what they hand out.
   */
  async read(
    file: string,
    parse: (file: string, value: JsonValue, text: string) => JsonValue[],
  ): Promise<JsonValue[] | null> {
    const entry = this.entries.get(file);
    if (entry !== undefined) {
      const stat = statNow(file, 'read');
      if (stat !== null && identityOf(stat) === entry.identity) {
        this.entries.delete(file); // re-inserted as the most recently used
        this.entries.set(file, entry);
        return entry.list;
      }
      this.forget(file);
      if (stat === null) return null;
    }
    const { value, identity, text } = await readWithIdentity(file);
    if (value === undefined) return null;
    const list = parse(file, value, text);
    if (identity !== null) this.remember(file, identity, list);
    return list;
  }

  /** Records `list` as the content of `file`, just written with `identity`. */
  remember(file: string, identity: FileIdentity, list: JsonValue[]): void {
    this.forget(file);
    const size = identitySize(identity);
    if (size > MAX_CACHED_BYTES / 4) return; // one huge file would push out all the others
    this.entries.set(file, { identity, list, bytes: size });
    this.bytes += size;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= MAX_CACHED_BYTES) break;
      this.entries.delete(oldest);
      this.bytes -= old.bytes;
    }
  }

  /** Drops what is known about `file` (removed, or written without a known content). */
  forget(file: string): void {
    const entry = this.entries.get(file);
    if (entry === undefined) return;
    this.entries.delete(file);
    this.bytes -= entry.bytes;
  }

  /** Drops every file under `dir` (a folder that was removed). */
  forgetUnder(dir: string): void {
    for (const file of [...this.entries.keys()]) {
      if (file.startsWith(dir + path.sep)) this.forget(file);
    }
  }
}
