/**
 * Writer marks: each writable open of a file store leaves an empty file named after its host
 * and process in `.connectome-storage/writers/`, touches it every {@link MARK_REFRESH_MS} and
 * removes it at `shutdown()`. Temp files are only left behind by a writer that did not shut
 * down, so the start-up sweep for them, which reads every conversation and agent folder (22–60
 * ms per 1,000 conversations at every open, warm or cold; seconds for a large store), runs
 * only when the marks say a writer may have died since the last sweep:
 *
 * - a mark not touched for {@link MARK_STALE_MS}: its writer is gone (or its pid was reused),
 *   whatever the host;
 * - a mark of this host whose process is gone, or of this process (this thread) that no open
 *   store holds: a store whose `shutdown()` could not remove it (a disk that turned
 *   read-only), so its failed writes may have left temp files this process will never remove;
 * - a fresh mark of another host: its process cannot be checked, so every open sweeps (and
 *   keeps the mark) until it is removed or goes stale;
 * - no folder of marks: a store last opened by a version without them.
 *
 * Dead writers' marks are removed once the sweep has finished.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureDirDurable, fsyncDir, ioError, readdirOrEmpty } from './atomic-json.js';
import { withDescriptorSlot } from './descriptor-budget.js';
import type { StoreLayout } from './layout.js';
import { HOST_TAG, isOwnSuffix, isProcessAlive, uniqueSuffix } from './temp-files.js';

/** The folder of writer marks, inside the store's own folder. */
export const WRITERS_DIR = 'writers';

/** How often an open store touches its mark. */
export const MARK_REFRESH_MS = 10 * 60 * 1000;

/** A mark not touched for this long belongs to no live writer (six missed refreshes). */
export const MARK_STALE_MS = 60 * 60 * 1000;

/** `{host}-{pid}-{suffix}.writer`; the suffix differs per open (a process may open a store twice). */
const MARK_NAME = /^([0-9a-f]{8})-(\d+)-([0-9a-f]{12})\.writer$/;

/** Names of the marks of this thread's stores that are open (made and not yet removed). */
const liveMarks = new Set<string>();

/** A fresh mark name for a writer with process id `pid` on this host (tests mark dead writers with it). */
export function writerMarkName(pid: number = process.pid): string {
  return `${HOST_TAG}-${pid}-${uniqueSuffix()}.writer`;
}

/** What a writable open learned from the marks, and its own mark. */
export interface WriterMarks {
  /** True when a writer may have died since the last sweep: the start-up sweep must run. */
  readonly sweepNeeded: boolean;
  /** Removes the marks of the writers found dead (once the sweep has finished); never throws. */
  forgetDead(): Promise<void>;
  /** Stops the refreshes and removes this open's own mark (at shutdown, once every write has finished); never throws. */
  remove(): Promise<void>;
}

/** What a mark says of its writer. */
type MarkState = 'alive' | 'dead' | 'unknown';

function markState(dir: string, name: string, nowMs: number): MarkState | null {
  const match = MARK_NAME.exec(name);
  if (!match) return null;
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
  } catch {
    return 'unknown'; // unreadable: sweep to be safe
  }
  if (stat === undefined) return null; // forgotten meanwhile by another opening process
  if (nowMs - stat.mtimeMs > MARK_STALE_MS) return 'dead';
  const [, host, pid, suffix] = match as unknown as [string, string, string, string];
  if (host !== HOST_TAG) return 'unknown';
  if (Number(pid) === process.pid && isOwnSuffix(suffix)) return liveMarks.has(name) ? 'alive' : 'dead';
  return isProcessAlive(Number(pid)) ? 'alive' : 'dead';
}

/**
 * Reads the marks of `layout`'s store and adds this open's own, durably, before this open
 * makes any temp file; the mark is touched every `refreshMs` until {@link WriterMarks.remove}.
 * A failure is a `StorageError` naming the folder or file.
 */
export async function markWriter(layout: StoreLayout, refreshMs = MARK_REFRESH_MS): Promise<WriterMarks> {
  const dir = path.join(layout.internalDir, WRITERS_DIR);
  const existed = fs.existsSync(dir);
  const dead: string[] = [];
  let unknown = false;
  const nowMs = Date.now();
  for (const name of await readdirOrEmpty(dir)) {
    const state = markState(dir, name, nowMs);
    if (state === 'dead') dead.push(name);
    else if (state === 'unknown') unknown = true;
  }
  const ownName = writerMarkName();
  const own = path.join(dir, ownName);
  const create = () => withDescriptorSlot(own, async () => (await fs.promises.open(own, 'a')).close());
  try {
    // A folder of marks lost in a power failure only makes the next open sweep (no data lost).
    await ensureDirDurable(dir, false);
    await create();
    await fsyncDir(dir);
  } catch (error) {
    throw ioError('mark this writer in', dir, error);
  }
  liveMarks.add(ownName);
  // Touched, or made again if another process took it for dead (this one was suspended, say);
  // a failure only risks a needless sweep by the next open, so it is not reported.
  const touch = async () => {
    const now = new Date();
    await fs.promises.utimes(own, now, now).catch(create);
  };
  const timer = setInterval(() => void touch().catch(() => undefined), refreshMs);
  timer.unref();
  return {
    sweepNeeded: !existed || unknown || dead.length > 0,
    forgetDead: async () => {
      // A mark left (no permission, say) only means another sweep at the next open.
      for (const name of dead) await fs.promises.unlink(path.join(dir, name)).catch(() => undefined);
    },
    remove: async () => {
      clearInterval(timer);
      liveMarks.delete(ownName);
      // A mark left behind only means one sweep more at the next open: not worth failing a shutdown.
      await fs.promises.unlink(own).catch(() => undefined);
    },
  };
}
