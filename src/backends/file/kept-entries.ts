/**
 * Parsed cache and state files kept by their listing, so listing `cache/` or `system/` again
 * (stats, `listCacheKeys`, `purgeExpiredCache`, `listSystemStateKeys`) costs a `stat` per
 * unchanged file instead of reading and parsing it. A file is kept only when its mtime is
 * settled (see `list-reads.ts`) and trusted only while its identity (device, inode, size,
 * mtime) is unchanged: every writer, this library's renames and the reference's in-place
 * rewrites alike, changes it. Writes and removals never use what is kept.
 */
import fs from 'node:fs';
import { CorruptDataError, type JsonValue } from '../../core/index.js';
import { type FileIdentity, identityOf, ioError } from './atomic-json.js';
import { readWithIdentitySync } from './list-reads.js';
import { isMissing } from './temp-files.js';

/** Bytes of kept files at most, counted by file size (the oldest are dropped first). */
const MAX_KEPT_BYTES = 16 * 1024 * 1024;

/** A file read (for a listing, or a key's look-up): its entry, a file that does not parse, or none. */
export type ListedFile<T> =
  { state: 'ok'; entry: T } | { state: 'corrupt'; error: CorruptDataError } | { state: 'missing' };

interface Kept<T> {
  identity: FileIdentity;
  entry: T;
  bytes: number;
}

/** The parsed files of one folder, kept while unchanged (see the module comment). */
export class KeptEntries<T> {
  private readonly kept = new Map<string, Kept<T>>();
  private bytes = 0;

  /** @param parse checks a parsed file; throws {@link CorruptDataError} for a wrong shape. */
  constructor(private readonly parse: (file: string, value: JsonValue) => T) {}

  /**
   * `file`'s entry: the kept one while the file is unchanged, else read (and kept when
   * settled). Synchronous, like the passes that call it (a listing reads every file of a folder:
   * see `fd-io.ts`).
   */
  read(file: string): ListedFile<T> {
    const known = this.kept.get(file);
    if (known !== undefined) {
      const stat = statOrUndefined(file);
      if (stat !== undefined && identityOf(stat) === known.identity)
        return { state: 'ok', entry: known.entry };
      this.forget(file);
      if (stat === undefined) return { state: 'missing' };
    }
    try {
      const { value, identity } = readWithIdentitySync(file);
      if (value === undefined) return { state: 'missing' };
      const entry = this.parse(file, value);
      if (identity !== null) this.keep(file, identity, entry);
      return { state: 'ok', entry };
    } catch (error) {
      return corruptOrThrow(error);
    }
  }

  private keep(file: string, identity: FileIdentity, entry: T): void {
    const bytes = Number(identity.split(':')[2]);
    if (bytes > MAX_KEPT_BYTES / 16) return; // a few large files would push out all the others
    this.kept.set(file, { identity, entry, bytes });
    this.bytes += bytes;
    for (const oldest of this.kept.keys()) {
      if (this.bytes <= MAX_KEPT_BYTES) break;
      this.forget(oldest);
    }
  }

  private forget(file: string): void {
    const known = this.kept.get(file);
    if (known === undefined) return;
    this.kept.delete(file);
    this.bytes -= known.bytes;
  }
}

function statOrUndefined(file: string): fs.BigIntStats | undefined {
  try {
    return fs.statSync(file, { bigint: true });
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw ioError('read', file, error);
  }
}

/** A read's failure as a listed file: corrupt (it does not parse), else thrown. */
export function corruptOrThrow(error: unknown): ListedFile<never> {
  if (error instanceof CorruptDataError) return { state: 'corrupt', error };
  throw error;
}
