/**
 * Folders made and synced durably: a new entry (a file renamed in, a folder created) survives a
 * crash once its folder is fsynced. Used by the atomic JSON writes and at start-up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StorageError } from '../../core/index.js';
import { closeFdNow, fsyncFd } from './fd-io.js';
import {
  acquireSlot,
  holdFd,
  isOutOfDescriptors,
  releaseSlot,
  tryAcquireSlot,
  waitForDescriptor,
} from './descriptor-budget.js';
import { ioReason } from '../io-reason.js';
import { makeDirs } from '../make-dirs.js';
import { unsyncedEntry } from './durable-entries.js';

/**
 * Wraps an I/O failure in a {@link StorageError} naming the path once, then the code and the
 * system's words (see {@link ioReason}); the original error is its `cause`.
 */
export function ioError(action: string, file: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  return new StorageError(`Cannot ${action} ${file}: ${ioReason(cause)}`, { cause });
}

/**
 * The error for a file write in `folder` that failed with `cause` because `folder` is a file
 * (or a link to one): a stray file named as an id, such as a `.DS_Store` at `agents/note`.
 * `null` for any other failure. Only called once a write failed, so it costs a write nothing.
 */
export async function strayFileError(folder: string, cause: unknown): Promise<StorageError | null> {
  if ((cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOTDIR') return null;
  const found = await fs.promises.stat(folder).catch(() => null);
  if (found === null || found.isDirectory()) return null;
  return new StorageError(
    `Cannot write in ${folder}: it is a file, not the folder this library keeps there; the ` +
      'file is left as it is (move it away to store data there)',
    { cause },
  );
}

/**
 * Fsyncs a folder so a rename or a new entry in it survives a crash. Platforms that cannot
 * open folders (Windows) skip it.
 */
export async function fsyncDir(dir: string): Promise<void> {
  await syncAndCloseDir(await openDir(dir));
}

/** Errors of opening or syncing a folder where folders cannot be synced (Windows): skipped. */
function cannotSyncDirs(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'EACCES';
}

/**
 * Opens a folder to sync it later: its descriptor, `null` where folders cannot be opened. The
 * open is made at once, not on the thread pool: it changes nothing on disk, and the folder is
 * one the store is writing into, so its inode is in memory (see `fd-io.ts`). The descriptor
 * holds a slot of the descriptor budget (waited for when none is free) until it is closed;
 * EMFILE is waited out (see `descriptor-budget.ts`).
 */
export async function openDir(dir: string): Promise<number | null> {
  const wait = acquireSlot();
  if (wait !== null) await wait;
  const since = Date.now();
  for (let tries = 1; ; tries += 1) {
    try {
      return openDirHoldingSlot(dir);
    } catch (error) {
      if (!isOutOfDescriptors(error)) throw error;
      // The slot is kept while waiting: its release never depends on another slot.
      await waitForDescriptor(dir, error, tries, since).catch((tired: unknown) => {
        releaseSlot();
        throw tired;
      });
    }
  }
}

/**
 * {@link openDir} only if a budget slot is free now, for a caller that already holds one (a
 * writer with its temp file open must never wait for a second slot): `undefined` when none is
 * free or the process is out of descriptors, leaving the open to a later {@link openDir}.
 */
export function tryOpenDir(dir: string): number | null | undefined {
  if (!tryAcquireSlot()) return undefined;
  try {
    return openDirHoldingSlot(dir);
  } catch (error) {
    if (!isOutOfDescriptors(error)) throw error;
    releaseSlot();
    return undefined;
  }
}

/**
 * Opens `dir` with a budget slot already taken, which the descriptor then holds; gives it back
 * on failure, except on EMFILE/ENFILE (the caller retries or gives it back).
 */
function openDirHoldingSlot(dir: string): number | null {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (error) {
    if (isOutOfDescriptors(error)) throw error;
    releaseSlot();
    if (cannotSyncDirs(error)) return null;
    throw error;
  }
  holdFd(fd);
  return fd;
}

/** Fsyncs a folder opened by {@link openDir} (on the thread pool), then closes it at once. */
export async function syncAndCloseDir(fd: number | null): Promise<void> {
  if (fd === null) return;
  try {
    await fsyncFd(fd);
  } catch (error) {
    if (!cannotSyncDirs(error)) throw error;
  } finally {
    closeFdNow(fd);
  }
}

/** Closes a folder opened by {@link openDir} without syncing it. */
export function closeDir(fd: number | null): void {
  if (fd !== null) closeFdNow(fd);
}

/**
 * Creates `dir` (and parents) if needed, fsyncing each parent that gained an entry. Used at
 * start-up. `entryMatters: false`: a folder found there is not synced into its parent (see
 * {@link ensureDirsDurable}), for folders whose loss in a power failure loses no data.
 */
export async function ensureDirDurable(dir: string, entryMatters = true): Promise<void> {
  await ensureDirsDurable([dir], undefined, entryMatters ? new Set() : new Set([dir]));
}

/**
 * {@link ensureDirDurable} of each of `dirs`; a folder found there whose entry this process
 * does not know to be on disk (its maker may have died before syncing it, see
 * `durable-entries.ts`) has its parent fsynced too, once per parent, unless it is in
 * `scratch` (its loss loses no data). A failure is passed to `wrap` with the folder involved
 * (thrown as is without it).
 */
export async function ensureDirsDurable(
  dirs: readonly string[],
  wrap: (dir: string, error: unknown) => unknown = (_dir, error) => error,
  scratch: ReadonlySet<string> = new Set(),
): Promise<void> {
  const found = new Map<string, (() => void)[]>();
  for (const dir of dirs) {
    try {
      const first = await makeDirs(dir);
      const entry = scratch.has(dir) ? null : unsyncedEntry(dir);
      if (first === undefined) {
        const parent = path.dirname(dir);
        if (entry !== null) found.set(parent, [...(found.get(parent) ?? []), entry]);
        continue;
      }
      // Every folder from the first created one down to `dir` is new: fsync each one's parent.
      for (let current = dir; ; current = path.dirname(current)) {
        await fsyncDir(path.dirname(current));
        if (current === first || path.dirname(current) === current) break;
      }
      entry?.();
    } catch (error) {
      throw wrap(dir, error);
    }
  }
  for (const [parent, entries] of found) {
    await fsyncDir(parent).catch((error: unknown) => {
      throw wrap(parent, error);
    });
    entries.forEach((entry) => entry());
  }
}

/**
 * Creates `dir` and any missing folders between it and `root`, durably, but never `root`
 * itself: a base folder that vanished while the store is open (removed, or a volume that was
 * unmounted) is reported instead of being silently replaced by a new, empty store.
 */
export async function ensureDirUnder(root: string, dir: string): Promise<void> {
  for (const parent of await makeDirUnder(root, dir)) await fsyncDir(parent);
}

/**
 * {@link ensureDirUnder} without the syncs: returns the folders that gained an entry, which the
 * caller must fsync before it reports success. A writer syncs them after its own file, so the
 * new folders reach the disk in the same journal commit as the file instead of one of their own.
 */
export async function makeDirUnder(root: string, dir: string): Promise<string[]> {
  const rel = path.relative(root, dir);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new StorageError(`Folder ${dir} is not inside the base folder ${root}`);
  }
  const parent = path.dirname(dir);
  try {
    await fs.promises.mkdir(dir);
    return [parent];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return [];
    if (code !== 'ENOENT') throw ioError('create folder', dir, error);
    if (parent === root) {
      throw new StorageError(
        `Cannot create ${dir}: the base folder ${root} is missing (removed or unmounted?)`,
        {
          cause: error,
        },
      );
    }
    const above = await makeDirUnder(root, parent);
    await fs.promises.mkdir(dir).catch((again: unknown) => {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create folder', dir, again);
    });
    // Deepest first: a folder's own entry is synced before the entry that names it.
    return [parent, ...above];
  }
}
