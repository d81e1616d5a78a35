/**
 * The file-system calls proper-lockfile makes for our locks. Its `stat`s (right after taking a
 * lock, and of a busy lock's age) are look-ups answered from the kernel's caches in
 * microseconds: they run synchronously, with the callback deferred to the next tick, instead of
 * a hand-off to a thread-pool worker and back that costs more than the call on a busy machine.
 * `mkdir`, `rmdir` and `utimes` change the folder and may wait for a journal commit to start:
 * on the calling thread they would stall every other caller (64 concurrent cache writes ran
 * at 0.3x the raw writer instead of 0.7x), so they stay on the pool.
 */
import * as fs from 'node:fs';

type Callback<T> = (error: NodeJS.ErrnoException | null, value?: T) => void;

/** Runs `call` now and reports its outcome to `callback` on the next tick (callbacks stay asynchronous). */
function deferred<T>(call: () => T, callback: Callback<T>): void {
  let value: T;
  try {
    value = call();
  } catch (error) {
    process.nextTick(callback, error as NodeJS.ErrnoException);
    return;
  }
  process.nextTick(callback, null, value);
}

/**
 * The `fs` option given to proper-lockfile (and the lock's own look-ups). One shared object:
 * proper-lockfile caches the file system's mtime precision on it.
 */
export const lockFs = {
  mkdir: (dir: string, callback: Callback<void>) => fs.mkdir(dir, (error) => callback(error)),
  rmdir: (dir: string, callback: Callback<void>) => fs.rmdir(dir, (error) => callback(error)),
  stat: (file: string, callback: Callback<fs.Stats>) => deferred(() => fs.statSync(file), callback),
  utimes: (file: string, atime: Date, mtime: Date, callback: Callback<void>) =>
    fs.utimes(file, atime, mtime, (error) => callback(error)),
  realpath: (file: string, callback: Callback<string>) => deferred(() => fs.realpathSync(file), callback),
  mkdirSync: fs.mkdirSync,
  rmdirSync: fs.rmdirSync,
  statSync: fs.statSync,
  utimesSync: fs.utimesSync,
  realpathSync: fs.realpathSync,
};
