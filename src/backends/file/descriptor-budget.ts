/**
 * A process-wide budget of the file descriptors the file backend holds across event-loop turns:
 * the temp file of a write (open, write, fsync, close on the thread pool), a file being read on
 * the pool, a folder opened early to fsync after a rename. Without it a burst of calls made at
 * once (3,000 `storeConversation`) opens a descriptor for each before any is closed (the pool
 * runs the queued `open`s before the writes and closes queued behind them) and every call past
 * the process's limit fails with EMFILE. With it, calls past the budget wait for a slot in
 * arrival order; the pool has 4 threads, so a few dozen descriptors in flight keep it busy.
 *
 * Rules that keep it free of deadlock: a slot's release never waits for another slot (a holder
 * only writes, reads, fsyncs and closes); a holder that wants a second descriptor (the early
 * folder open beside a temp file) only takes a free slot ({@link tryAcquireSlot}). Descriptors
 * opened and closed within one turn (the synchronous passes of `readFileAndStatSync`) take none.
 *
 * An EMFILE or ENFILE that happens anyway (the rest of the application holds descriptors) is
 * waited out by {@link waitForDescriptor}: the open is retried when one of ours is closed or
 * after a short, growing pause, until a bounded time has passed.
 */
import fs from 'node:fs';
import { StorageError } from '../../core/index.js';

/** The budget when the descriptor limit is unknown (no `/proc/self/limits`: macOS, Windows). */
export const FALLBACK_MAX_OPEN_FILES = 64;

/** The default budget never exceeds this: 4 pool threads gain nothing from hundreds in flight. */
const DEFAULT_CAP = 256;

/**
 * The default budget: a quarter of the soft `RLIMIT_NOFILE` (Linux, from `/proc/self/limits`),
 * leaving the rest to the application, its sockets and Node itself; at least 8, at most 256;
 * {@link FALLBACK_MAX_OPEN_FILES} where the limit cannot be read.
 */
export function defaultMaxOpenFiles(): number {
  let soft: number;
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (match === null) return FALLBACK_MAX_OPEN_FILES;
    soft = match[1] === 'unlimited' ? Infinity : Number(match[1]);
  } catch {
    return FALLBACK_MAX_OPEN_FILES;
  }
  return Math.max(8, Math.min(DEFAULT_CAP, Math.floor(soft / 4)));
}

let defaultLimit: number | null = null;
/** Budgets asked for by open stores (`maxOpenFiles`); the smallest one applies. */
const asked: number[] = [];
let inUse = 0;
/** Callers waiting for a slot, first come first served (`head` avoids an O(n) `shift`). */
let waiting: (() => void)[] = [];
let head = 0;
/** Opens that met EMFILE and wait for one of our descriptors to close. */
let afterClose: (() => void)[] = [];
/**
 * Which descriptors hold a slot, released by {@link releaseFd}: a flag per descriptor number
 * (they are small integers, reused once closed), grown as needed; cheaper than a `Set`.
 */
let held = new Uint8Array(1024);

/** The budget in force now. */
export function maxOpenFiles(): number {
  defaultLimit ??= defaultMaxOpenFiles();
  return asked.length === 0 ? defaultLimit : Math.min(...asked);
}

/**
 * Applies `limit` (a store's `maxOpenFiles`) until the returned function is called (at the
 * store's shutdown): stores of one process share one budget, the smallest asked for.
 */
export function askForBudget(limit: number): () => void {
  asked.push(limit);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    asked.splice(asked.indexOf(limit), 1);
    wakeWaiting(); // a larger budget may let waiters in
  };
}

/** Slots taken now (tests). */
export function slotsInUse(): number {
  return inUse;
}

/** Takes a slot if one is free now; never waits. */
export function tryAcquireSlot(): boolean {
  if (inUse >= maxOpenFiles() || head < waiting.length) return false;
  inUse += 1;
  return true;
}

/**
 * Takes a slot: `null` when taken at once (no promise, no microtask: the uncontended path),
 * else a promise resolved once a released slot is handed over.
 */
export function acquireSlot(): Promise<void> | null {
  if (tryAcquireSlot()) return null;
  return new Promise((resolve) => waiting.push(resolve));
}

/** Gives a slot back, handing it to the first waiter if any. */
export function releaseSlot(): void {
  inUse -= 1;
  wakeWaiting();
  if (afterClose.length > 0) {
    const wake = afterClose;
    afterClose = [];
    wake.forEach((resume) => resume());
  }
}

function wakeWaiting(): void {
  while (head < waiting.length && inUse < maxOpenFiles()) {
    inUse += 1;
    const next = waiting[head] as () => void;
    head += 1;
    next();
  }
  if (head === waiting.length && head > 0) {
    waiting = [];
    head = 0;
  }
}

/** Records that `fd` holds the caller's slot: closing it by {@link releaseFd} gives the slot back. */
export function holdFd(fd: number): void {
  if (fd >= held.length) {
    const grown = new Uint8Array(Math.max(fd + 1, held.length * 2));
    grown.set(held);
    held = grown;
  }
  held[fd] = 1;
}

/** Gives back the slot of `fd` if it holds one (call once `fd` is closed); otherwise nothing. */
export function releaseFd(fd: number): void {
  if (held[fd] !== 1) return;
  held[fd] = 0;
  releaseSlot();
}

/**
 * `EMFILE` or `ENFILE` when `error` (or an error it wraps as its `cause`, such as a
 * `StorageError` naming the file) says the process or the system ran out of descriptors.
 */
function outOfDescriptorsCode(error: unknown): string | null {
  for (let cause = error, depth = 0; depth < 4 && typeof cause === 'object' && cause !== null; depth += 1) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return null;
}

/** Whether `error` says the process (EMFILE) or the system (ENFILE) ran out of descriptors. */
export function isOutOfDescriptors(error: unknown): boolean {
  return outOfDescriptorsCode(error) !== null;
}

let patienceMs = 10_000;

/** Sets how long an open keeps retrying after EMFILE (tests); `null` restores 10 s. */
export function setOutOfDescriptorsPatience(ms: number | null): void {
  patienceMs = ms ?? 10_000;
}

/**
 * Waits before retrying an open of `file` that failed with `error` (EMFILE/ENFILE) on attempt
 * `attempt` (1, 2, …) of one that started at `since` (`Date.now()`): until one of our
 * descriptors is closed or a pause of 2^attempt ms (at most 100 ms) passes. Rejects with a
 * `StorageError` naming `file` once the patience is spent.
 */
export function waitForDescriptor(
  file: string,
  error: unknown,
  attempt: number,
  since: number,
): Promise<void> {
  if (Date.now() - since >= patienceMs) {
    const code = outOfDescriptorsCode(error) ?? 'EMFILE';
    return Promise.reject(
      new StorageError(
        `Cannot open ${file}: the process ran out of file descriptors (${code}) and none was ` +
          `freed within ${patienceMs} ms; raise the limit (ulimit -n) or lower maxOpenFiles`,
        { cause: error },
      ),
    );
  }
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.min(100, 2 ** attempt));
    function done(): void {
      clearTimeout(timer);
      afterClose = afterClose.filter((resume) => resume !== done);
      resolve();
    }
    afterClose.push(done);
  });
}

/**
 * Runs `use` (which opens, uses and closes descriptors for `file`, such as `copyFile` or a
 * `FileHandle` opened and closed inside it) holding one budget slot, retrying it while it fails
 * with EMFILE/ENFILE as {@link waitForDescriptor} says; `use` must be safe to run again after
 * such a failure (it failed at an open, before changing anything). The caller holds no slot.
 */
export async function withDescriptorSlot<T>(file: string, use: () => Promise<T>): Promise<T> {
  const wait = acquireSlot();
  if (wait !== null) await wait;
  try {
    const since = Date.now();
    for (let tries = 1; ; tries += 1) {
      try {
        return await use();
      } catch (error) {
        if (!isOutOfDescriptors(error)) throw error;
        await waitForDescriptor(file, error, tries, since);
      }
    }
  } finally {
    releaseSlot();
  }
}
