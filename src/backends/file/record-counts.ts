/**
 * How many records each list file (raw messages, memories, reasoning chains) held when this
 * process last read or wrote it, so stats count a file again only when it changed. An entry is
 * trusted only while the file on disk has the identity (device, inode, size, mtime) it was
 * counted with: any other writer (another process, the Python reference rewriting in place)
 * changes one of them, and the file is read again.
 */
import path from 'node:path';
import type { JsonObject } from '../../core/index.js';
import type { FileIdentity } from './atomic-json.js';
import { CHAINS_FILE, CONVERSATION_FILES } from './layout.js';

/** Files remembered at most (then forgotten all at once: only a re-count more each). */
const MAX_FILES = 200_000;

/** The list field of each list file, by file name. */
export const LIST_FIELDS: Readonly<Record<string, string>> = {
  [CONVERSATION_FILES.rawMessages]: 'messages',
  [CONVERSATION_FILES.memories]: 'memories',
  [CHAINS_FILE]: 'chains',
};

/** Record counts of list files, valid while each file keeps the identity it was counted with. */
export class RecordCounts {
  private readonly counts = new Map<string, { identity: FileIdentity; count: number }>();

  /** The count of `file` when it was counted with `identity`, else `undefined`. */
  get(file: string, identity: FileIdentity): number | undefined {
    const known = this.counts.get(file);
    return known?.identity === identity ? known.count : undefined;
  }

  /** Records that `file`, with `identity`, holds `count` records. */
  set(file: string, identity: FileIdentity, count: number): void {
    if (this.counts.size >= MAX_FILES && !this.counts.has(file)) this.counts.clear();
    this.counts.set(file, { identity, count });
  }

  /** Records a list file just written with `envelope` (nothing for other files or an unknown identity). */
  written(file: string, envelope: JsonObject, identity: FileIdentity | undefined): void {
    const field = LIST_FIELDS[path.basename(file)];
    const list = field === undefined ? undefined : envelope[field];
    if (identity === undefined || !Array.isArray(list)) return this.forget(file);
    this.set(file, identity, list.length);
  }

  /** Drops what is known about `file`. */
  forget(file: string): void {
    this.counts.delete(file);
  }

  /** Drops every file under `dir` (a folder that was removed). */
  forgetUnder(dir: string): void {
    for (const file of [...this.counts.keys()]) if (file.startsWith(dir + path.sep)) this.counts.delete(file);
  }
}
