/**
 * The file-system calls proper-lockfile makes for our locks (`mkdir`, `stat`, `rmdir`,
 * `utimes`), run synchronously on the calling thread with the callback deferred to the next
 * tick. Each is a metadata call on the small, hot locks folder that completes in microseconds;
 * through the thread pool each cost a hand-off to a worker and back, which on a busy machine
 * cost more CPU and time than the call itself: taking and freeing a lock was three round trips
 * per write, as many as the rest of a cache write's steps that do not touch the data.
 */
import fs from 'node:fs';

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
 * The `fs` option given to proper-lockfile. One shared object: proper-lockfile caches the
 * file system's mtime precision on it.
 */
export const lockFs = {
  mkdir: (dir: string, callback: Callback<void>) => deferred(() => void fs.mkdirSync(dir), callback),
  rmdir: (dir: string, callback: Callback<void>) => deferred(() => fs.rmdirSync(dir), callback),
  stat: (file: string, callback: Callback<fs.Stats>) => deferred(() => fs.statSync(file), callback),
  utimes: (file: string, atime: Date, mtime: Date, callback: Callback<void>) =>
    deferred(() => fs.utimesSync(file, atime, mtime), callback),
  realpath: (file: string, callback: Callback<string>) => deferred(() => fs.realpathSync(file), callback),
  mkdirSync: fs.mkdirSync,
  rmdirSync: fs.rmdirSync,
  statSync: fs.statSync,
  utimesSync: fs.utimesSync,
  realpathSync: fs.realpathSync,
};
