/**
 * Byte-range locks (Linux), the `range` kind of `lock-kinds.ts`: one byte of a single file,
 * `locks/byte-range-locks`, per lock, locked with an open file description lock (`F_OFD_SETLK`,
 * via fs-native-extensions). The file is opened once per process and path, shared by every store
 * on it, and closed once no lock is held on it and no store uses it.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import type { CrossProcessLocks, ReleaseLock } from './lock-kinds.js';

/** The file whose bytes are the range locks, in the locks folder (no `.lock` suffix: not a lock folder). */
export const RANGE_LOCK_FILE = 'byte-range-locks';

/** The range lock file a process has open: one descriptor per path, shared by every store on it. */
interface OpenLockFile {
  fd: number;
  dev: number;
  ino: number;
  /** Stores using it. */
  users: number;
  /** Locks held on it. */
  held: number;
  /** Set once the path names another file (or none): no new lock is taken on this one. */
  retired: boolean;
  /** Set when the descriptor is closed (its number may belong to another file by then). */
  closed: boolean;
}

/** Open range lock files of this process, by path. */
const openFiles = new Map<string, OpenLockFile>();

/**
 * Closes `file` once it holds no lock (closing frees every lock on it) and no store uses it, or
 * it was retired (stores still pointing at it open the path again).
 */
function closeIfUnused(where: string, file: OpenLockFile): void {
  if (file.closed || file.held > 0 || (file.users > 0 && !file.retired)) return;
  if (openFiles.get(where) === file) openFiles.delete(where);
  file.closed = true;
  fs.closeSync(file.fd);
}

/**
 * Opens the lock file read-write (Linux grants a write lock only on a descriptor open for
 * writing), creating it if missing. A new file gets the locks folder's read and write
 * permissions: whoever may make lock folders there (a group sharing the store) may lock here.
 */
function openLockFile(file: string): number {
  const { O_RDWR, O_CREAT, O_EXCL } = fs.constants;
  for (;;) {
    try {
      return fs.openSync(file, O_RDWR);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const mode = fs.statSync(path.dirname(file)).mode & 0o666;
    let fd: number;
    try {
      fd = fs.openSync(file, O_RDWR | O_CREAT | O_EXCL, mode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // another process made it first
      throw error;
    }
    try {
      fs.fchmodSync(fd, mode); // past the umask
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return fd;
  }
}

/** How often a lock is taken again after its file was replaced under it before giving up. */
const REPLACED_RETRIES = 3;

/** The calls of fs-native-extensions used here (the package has no type declarations). */
interface ByteRangeCalls {
  /** Locks `length` bytes at `offset` of `fd` (exclusive); false when another holder has them. */
  tryLock(fd: number, offset: number, length: number): boolean;
  /** Frees a lock taken with `tryLock`. */
  unlock(fd: number, offset: number, length: number): void;
}

/** fs-native-extensions, loaded once on first use (so a platform without its native build still loads this library). */
let nativeExtensions: Promise<ByteRangeCalls> | undefined;

/** fs-native-extensions, loaded on the first call (rejects where it has no native build). */
export function loadNativeExtensions(): Promise<ByteRangeCalls> {
  nativeExtensions ??= import('fs-native-extensions').then(
    (mod: { default?: ByteRangeCalls }) => mod.default ?? (mod as unknown as ByteRangeCalls),
  );
  return nativeExtensions;
}

/** Byte-range locks of one file (Linux open file description locks). */
export class RangeLocks implements CrossProcessLocks {
  private readonly file: string;
  private opened: OpenLockFile | undefined;

  /**
   * @param locksDir the store's locks folder
   * @param fne the loaded fs-native-extensions
   */
  constructor(
    locksDir: string,
    private readonly fne: ByteRangeCalls,
  ) {
    this.file = path.join(locksDir, RANGE_LOCK_FILE);
  }

  async tryTake(target: string): Promise<ReleaseLock | undefined> {
    const { fne } = this;
    // 48 bits of the name's hash (the target's file name is its hex digest): a safe integer offset.
    const offset = Number.parseInt(path.basename(target).slice(0, 12), 16);
    for (let attempt = 0; attempt <= REPLACED_RETRIES; attempt += 1) {
      const file = this.openFile();
      if (!this.lockByte(file, offset)) return undefined;
      // A lock counts only while the path still names the locked file: one removed or replaced
      // meanwhile is what other processes lock from now on.
      let now: fs.Stats | undefined;
      try {
        now = fs.statSync(this.file, { throwIfNoEntry: false });
      } catch (error) {
        fne.unlock(file.fd, offset, 1); // not held by anyone then (ENOTDIR: the folder became a file)
        throw error;
      }
      if (now !== undefined && now.ino === file.ino && now.dev === file.dev) {
        file.held += 1;
        return async () => {
          fne.unlock(file.fd, offset, 1);
          file.held -= 1;
          closeIfUnused(this.file, file);
        };
      }
      fne.unlock(file.fd, offset, 1);
      this.retire(file);
    }
    throw new Error(`${this.file} was replaced ${REPLACED_RETRIES + 1} times while locking`);
  }

  close(): void {
    const file = this.opened;
    if (file === undefined) return;
    this.opened = undefined;
    file.users -= 1;
    closeIfUnused(this.file, file);
  }

  /** Locks one byte; false when another holder has it (Linux says `EAGAIN`, POSIX allows `EACCES` too). */
  private lockByte(file: OpenLockFile, offset: number): boolean {
    try {
      return this.fne.tryLock(file.fd, offset, 1);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') return false;
      throw error;
    }
  }

  /** This store's descriptor of the lock file, opened (or created) on first use. */
  private openFile(): OpenLockFile {
    if (this.opened !== undefined && !this.opened.retired) return this.opened;
    let file = openFiles.get(this.file);
    if (file === undefined) {
      const fd = openLockFile(this.file);
      const stat = fs.fstatSync(fd);
      file = { fd, dev: stat.dev, ino: stat.ino, users: 0, held: 0, retired: false, closed: false };
      openFiles.set(this.file, file);
    }
    if (this.opened !== file) {
      if (this.opened !== undefined) this.close();
      file.users += 1;
      this.opened = file;
    }
    return file;
  }

  private retire(file: OpenLockFile): void {
    file.retired = true;
    if (openFiles.get(this.file) === file) openFiles.delete(this.file);
    if (this.opened === file) this.close();
    else closeIfUnused(this.file, file);
  }
}
