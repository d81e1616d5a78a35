/**
 * Writer marks: each writable open of a file store leaves an empty file named after its host
 * and process in `.connectome-storage/writers/` and removes it at `shutdown()`. Temp files are
 * only left behind by a writer that did not shut down, so the start-up sweep for them, which
 * reads every conversation and agent folder (about 60 ms per 1,000 conversations at every open,
 * seconds for a large store), runs only when the marks say a writer may have died: its process
 * on this host is gone, the mark was made on another host (whose processes cannot be checked),
 * or there is no folder of marks (a store last opened by a version without them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureDirDurable, fsyncDir, ioError, readdirOrEmpty } from './atomic-json.js';
import type { StoreLayout } from './layout.js';
import { HOST_TAG, isMissing, isProcessAlive, uniqueSuffix } from './temp-files.js';

/** The folder of writer marks, inside the store's own folder. */
export const WRITERS_DIR = 'writers';

/** `{host}-{pid}-{suffix}.writer`; the suffix differs per open (a process may open a store twice). */
const MARK_NAME = /^([0-9a-f]{8})-(\d+)-[0-9a-f]{12}\.writer$/;

/** A fresh mark name for a writer with process id `pid` on this host (tests mark dead writers with it). */
export function writerMarkName(pid: number = process.pid): string {
  return `${HOST_TAG}-${pid}-${uniqueSuffix()}.writer`;
}

/** What a writable open learned from the marks, and its own mark. */
export interface WriterMarks {
  /** True when a writer may have died since the last sweep: the start-up sweep must run. */
  readonly sweepNeeded: boolean;
  /** Removes the marks of the writers found dead (once the sweep has finished). */
  forgetDead(): Promise<void>;
  /** Removes this open's own mark (at shutdown, once every write has finished). */
  remove(): Promise<void>;
}

/**
 * Reads the marks of `layout`'s store and adds this open's own, durably, before this open
 * makes any temp file. A failure is a `StorageError` naming the folder or file.
 */
export async function markWriter(layout: StoreLayout): Promise<WriterMarks> {
  const dir = path.join(layout.internalDir, WRITERS_DIR);
  const existed = fs.existsSync(dir);
  const dead: string[] = [];
  let unknown = false;
  for (const name of await readdirOrEmpty(dir)) {
    const match = MARK_NAME.exec(name);
    if (!match) continue;
    if (match[1] !== HOST_TAG) unknown = true;
    else if (!isProcessAlive(Number(match[2]))) dead.push(name);
  }
  const own = path.join(dir, writerMarkName());
  try {
    await ensureDirDurable(dir);
    await (await fs.promises.open(own, 'wx')).close();
    await fsyncDir(dir);
  } catch (error) {
    throw ioError('mark this writer in', dir, error);
  }
  const unlink = async (file: string): Promise<void> => {
    try {
      await fs.promises.unlink(file);
    } catch (error) {
      // Another process opening the store may have forgotten the same dead writer first.
      if (!isMissing(error)) throw ioError('remove writer mark', file, error);
    }
  };
  return {
    sweepNeeded: !existed || unknown || dead.length > 0,
    forgetDead: async () => {
      for (const name of dead) await unlink(path.join(dir, name));
    },
    remove: () => unlink(own),
  };
}
