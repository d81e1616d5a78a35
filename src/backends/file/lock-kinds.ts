/**
 * The two ways a cross-process lock of the file backend is held (see `file-lock.ts` for the
 * queueing, leases and fairness around them):
 *
 * - **range** (Linux): one byte of a single file, `locks/byte-range-locks`, locked with an open
 *   file description lock (`F_OFD_SETLK`, via fs-native-extensions); the byte is the lock name's
 *   hash. Taking and freeing one is two system calls that touch no disk, and the kernel frees it
 *   when its process dies, so there is no stale lock to wait out or take over. A lock folder cost
 *   a `mkdir`, a `stat` and an `rmdir`, each a journalled change of the locks folder: W1 (store +
 *   load of new conversations) read 0.71x the raw writer with lock folders, 0.88–0.95x with no
 *   cross-process lock at all (an experiment, 2026-12-01).
 * - **folder** (every other platform, where such locks cover only whole files; and a Linux store
 *   where range locks turn out unavailable, see {@link RangeLocksOrFolders}): a `{hash}.lock`
 *   folder, proper-lockfile's `mkdir` lock with a refreshed mtime, taken over once stale.
 *
 * Every process on one store must use the same kind, so they must run on the same kind of
 * system (a store on a share between Linux and macOS hosts is not supported).
 */
import * as fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { lockFs } from './lock-fs.js';

/** Which kind of cross-process lock a store uses. */
export type LockKindName = 'range' | 'folder';

/** The kind this platform supports best. */
export const PLATFORM_LOCK_KIND: LockKindName = process.platform === 'linux' ? 'range' : 'folder';

/** The file whose bytes are the range locks, in the locks folder (no `.lock` suffix: not a lock folder). */
export const RANGE_LOCK_FILE = 'byte-range-locks';

/** A lock a process holds; resolves once it is freed. */
export type ReleaseLock = () => Promise<void>;

/** One kind of cross-process lock. */
export interface CrossProcessLocks {
  /**
   * Takes the lock `target` (a path in the locks folder named by the lock's hash), or resolves
   * `undefined` when another process holds it. Any other failure rejects (a missing locks
   * folder with an `ENOENT` error). `onLost` is called if the lock is taken away later.
   */
  tryTake(target: string, onLost: (error: Error) => void): Promise<ReleaseLock | undefined>;
  /** Frees what the kind keeps open for this store (called at shutdown, after every lock is freed). */
  close(): void;
}

/**
 * Error codes with which a file system refuses byte-range locks altogether (NFS without a lock
 * manager, some FUSE file systems): a store there uses lock folders instead. Every process on
 * that file system gets the same answer, so they all make the same switch.
 */
const RANGE_LOCKS_REFUSED: ReadonlySet<string> = new Set([
  'ENOLCK',
  'EINVAL',
  'ENOSYS',
  'EOPNOTSUPP',
  'ENOTSUP',
]);

/** A lock whose owner has not refreshed it for this long is taken over (proper-lockfile's default). */
const STALE_MS = 10_000;

/** proper-lockfile's options for every lock folder: no retries of its own, our stale time, synchronous metadata calls. */
export const FOLDER_LOCK_OPTIONS = { realpath: false, stale: STALE_MS, retries: 0, fs: lockFs } as const;

/** Lock folders (proper-lockfile). */
class FolderLocks implements CrossProcessLocks {
  async tryTake(target: string, onLost: (error: Error) => void): Promise<ReleaseLock | undefined> {
    try {
      return await lockfile.lock(target, { ...FOLDER_LOCK_OPTIONS, onCompromised: onLost });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
      throw error;
    }
  }

  close(): void {}
}

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

function loadNativeExtensions(): Promise<ByteRangeCalls> {
  nativeExtensions ??= import('fs-native-extensions').then(
    (mod: { default?: ByteRangeCalls }) => mod.default ?? (mod as unknown as ByteRangeCalls),
  );
  return nativeExtensions;
}

/** Byte-range locks of one file (Linux open file description locks). */
class RangeLocks implements CrossProcessLocks {
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

/**
 * Range locks until they turn out to be unavailable, lock folders from then on (`onRefused` is
 * told once): when fs-native-extensions does not load (no native build for this platform), or
 * the file system refuses a lock with a {@link RANGE_LOCKS_REFUSED} code.
 */
class RangeLocksOrFolders implements CrossProcessLocks {
  private kind: Promise<CrossProcessLocks> | undefined;

  constructor(
    private readonly locksDir: string,
    private readonly onRefused: (error: unknown) => void,
  ) {}

  async tryTake(target: string, onLost: (error: Error) => void): Promise<ReleaseLock | undefined> {
    // Made once, even for callers that arrive together (each instance registers on the lock file).
    this.kind ??= loadNativeExtensions().then(
      (fne) => new RangeLocks(this.locksDir, fne),
      (error: unknown) => this.folders(error),
    );
    const kind = await this.kind;
    try {
      return await kind.tryTake(target, onLost);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!(kind instanceof RangeLocks) || code === undefined || !RANGE_LOCKS_REFUSED.has(code)) throw error;
      kind.close();
      const folders = this.folders(error);
      this.kind = Promise.resolve(folders);
      return folders.tryTake(target, onLost);
    }
  }

  close(): void {
    void this.kind?.then((kind) => kind.close());
  }

  private folders(error: unknown): FolderLocks {
    // Passed as is: the native module's errors come from Node's realm, not always this one's, so
    // `instanceof Error` fails for them and a new Error of their String() read "Error: ...".
    this.onRefused(error);
    return new FolderLocks();
  }
}

/**
 * The cross-process locks of kind `kind` for the locks folder `locksDir`; `onRefused` is told
 * when range locks turn out to be refused and lock folders are used instead.
 */
export function crossProcessLocks(
  kind: LockKindName,
  locksDir: string,
  onRefused: (error: unknown) => void,
): CrossProcessLocks {
  return kind === 'range' ? new RangeLocksOrFolders(locksDir, onRefused) : new FolderLocks();
}
