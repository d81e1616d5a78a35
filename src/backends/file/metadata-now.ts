/**
 * Look-ups made synchronously on the calling thread. A `stat` of a file in a folder the store
 * is working in is answered from the kernel's inode and name caches in microseconds; through
 * the thread pool it costs a hand-off to a worker and back, which on a busy machine costs more
 * CPU and time than the call. Calls that change the file system (`mkdir`, `link`, `rename`,
 * `unlink`) may wait for a journal commit to start and stay on the pool, as do the data calls
 * (reads, writes, fsyncs): on the calling thread they would stall every other caller.
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
