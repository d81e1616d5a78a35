/**
 * Look-ups made synchronously on the calling thread. A `stat` of a file in a folder the store
 * is working in is answered from the kernel's inode and name caches in microseconds; through
 * the thread pool it costs a hand-off to a worker and back, which on a busy machine costs more
 * CPU and time than the call. Calls that change the file system (`mkdir`, `link`, `rename`,
 * `unlink`) may wait for a journal commit to start and stay on the pool, as do the data calls
 * (reads, writes, fsyncs): on the calling thread they would stall every other caller. So do
 * look-ups of names that are usually missing in a folder other writes are changing: those go
 * through the pool ({@link existsSoon}).
 */
import fs, { type BigIntStats } from 'node:fs';
import { ioError } from './durable-dirs.js';
import { isMissing } from './temp-files.js';

/** `file`'s stat (following links), `null` when it does not exist; other errors name `action` and the file. */
export function statNow(file: string, action: string): BigIntStats | null {
  try {
    return fs.statSync(file, { bigint: true, throwIfNoEntry: false }) ?? null;
  } catch (error) {
    if (isMissing(error)) return null; // ENOTDIR: a path component is a file
    throw ioError(action, file, error);
  }
}

/**
 * Whether `file` exists (`follow`: a link counts by its target); an error other than "missing"
 * counts as yes, so the caller's own call on the file reports it.
 */
export function existsNow(file: string, follow: boolean): boolean {
  try {
    const options = { throwIfNoEntry: false } as const;
    return (follow ? fs.statSync(file, options) : fs.lstatSync(file, options)) !== undefined;
  } catch (error) {
    return !isMissing(error);
  }
}

/**
 * {@link existsNow} through the thread pool, for a name that is usually missing in a folder
 * other writes are changing (a new cache or state key's file names). The kernel answers a miss
 * for a name it has never seen only after taking the folder's lock, which a concurrent create
 * or rename holds while it waits on the journal: on the calling thread that stalled every
 * caller (64 concurrent cache set + get of new keys: ~360 µs per pair in `lstat`, 1,150–1,290
 * pairs/s against 1,650–1,860 through the pool; sequential calls: no difference measured).
 */
export async function existsSoon(file: string, follow: boolean): Promise<boolean> {
  try {
    await (follow ? fs.promises.stat(file) : fs.promises.lstat(file));
    return true;
  } catch (error) {
    return !isMissing(error);
  }
}
