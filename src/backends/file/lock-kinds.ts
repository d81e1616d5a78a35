/**
 * The two ways a cross-process lock of the file backend is held (see `file-lock.ts` for the
 * queueing, leases and fairness around them):
 *
 * - **range** (Linux, `range-locks.ts`): one byte of a single file, `locks/byte-range-locks`,
 *   locked with an open file description lock (`F_OFD_SETLK`, via fs-native-extensions); the
 *   byte is the lock name's hash. Taking and freeing one is two system calls that touch no disk, and the kernel frees it
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
import lockfile from 'proper-lockfile';
import { lockFs } from './lock-fs.js';
import { loadNativeExtensions, RangeLocks } from './range-locks.js';

export { RANGE_LOCK_FILE } from './range-locks.js';

/** Which kind of cross-process lock a store uses. */
export type LockKindName = 'range' | 'folder';

/** The kind this platform supports best. */
export const PLATFORM_LOCK_KIND: LockKindName = process.platform === 'linux' ? 'range' : 'folder';

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
// Annotated, so the declarations name `typeof lockFs` instead of spelling out its types with
// `import("fs")`, a bare specifier that scripts/check-consumers.mjs refuses.
export const FOLDER_LOCK_OPTIONS: {
  readonly realpath: false;
  readonly stale: number;
  readonly retries: 0;
  readonly fs: typeof lockFs;
} = { realpath: false, stale: STALE_MS, retries: 0, fs: lockFs };

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
