/**
 * One write lock per database file, shared by every connection of this process on it.
 *
 * SQLite makes a connection that finds the file locked wait in its busy handler, which sleeps
 * on the thread of libuv's pool (4 threads by default) that runs the statement. Connections of
 * one process waiting for each other there can take every thread of the pool, leaving the
 * connection holding the lock none to run its COMMIT on: they all wait out the busy timeout
 * and fail with SQLITE_BUSY (10 stores opened at once on one file: 2-3 opened, after a
 * minute), and the process's other file work stalls meanwhile. Taking this lock in JavaScript
 * first, the connections of one process never wait in SQLite for each other; other processes
 * still meet the busy timeout.
 */
import { KeyedMutex } from '../../core/index.js';
import type { FileIdentity } from './file-identity.js';

/** The lock of every database file this process has open, by device and inode. */
const locks = new Map<string, FileWriteLock>();

/** The write lock of one database file, held by the connections of this process open on it. */
export class FileWriteLock {
  private readonly mutex = new KeyedMutex();
  private users = 1;

  private constructor(private readonly key: string) {}

  /**
   * Whether another connection of this process has the file open. While alone a connection
   * skips the lock: its own queue already keeps its statements from waiting on each other.
   */
  get shared(): boolean {
    return this.users > 1;
  }

  /** Runs `task` once every earlier task of any connection on the file has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    return this.mutex.run('', task);
  }

  /** The lock of the file `file`, counting one more connection on it. */
  static join(file: FileIdentity): FileWriteLock {
    const key = `${file.dev}:${file.ino}`;
    const known = locks.get(key);
    if (known !== undefined) {
      known.users += 1;
      return known;
    }
    const made = new FileWriteLock(key);
    locks.set(key, made);
    return made;
  }

  /** Counts one connection fewer on the file; the last one forgets the lock. */
  leave(): void {
    this.users -= 1;
    if (this.users === 0 && locks.get(this.key) === this) locks.delete(this.key);
  }
}
