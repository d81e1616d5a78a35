/**
 * The file vector store's writer lock: one open instance per vector folder, across processes
 * and within one. Each write appends at the end of the log as this instance knows it, so a
 * second writer would overwrite frames (and the next open would find a broken log).
 *
 * Across processes it is the file backend's cross-process lock (`lock-kinds.ts`: a byte of
 * `byte-range-locks` in the vector folder on Linux, which the kernel frees when its process
 * dies; a refreshed lock folder elsewhere, taken over once stale), held from the store's open
 * to its `close()`. Within a process that lock is shared by every instance (range locks belong
 * to the open file, which a process opens once), so a set of the folders held here comes first.
 * That set holds each folder's real path: one folder reached through a symlink (or `..`) is
 * still one folder.
 */
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from '../../../core/errors.js';
import { ioReason } from '../../../backends/io-reason.js';
import { crossProcessLocks, PLATFORM_LOCK_KIND, RANGE_LOCK_FILE } from '../../../backends/file/lock-kinds.js';
import { VectorStoreInUseError } from '../../errors.js';

/** Vector folders an instance of this process holds. */
const heldHere = new Set<string>();

// Range locks use the first 48 bits of the target's hex name as the byte to lock.
const TARGET_NAME = createHash('sha256').update('vector writer', 'utf8').digest('hex').slice(0, 32);

/** The entry of the vector folder that holds its writer lock on this platform (a file, or a lock folder while held). */
export function writerLockEntry(): string {
  return PLATFORM_LOCK_KIND === 'range' ? RANGE_LOCK_FILE : `${TARGET_NAME}.lock`;
}

/**
 * The error of a lock that could not be taken at all, naming the folder, then the failed call's
 * code and words, and its path when that is not the folder (the lock file inside it).
 */
function cannotLock(dir: string, error: unknown): StorageError {
  const callPath = (error as { path?: unknown } | null)?.path;
  return new StorageError(`Cannot lock vector store ${dir}: ${ioReason(error, callPath !== dir)}`, {
    cause: error,
  });
}

/** The real path of the vector folder `dir`, the key of {@link heldHere}. */
async function realFolder(dir: string): Promise<string> {
  try {
    return await realpath(dir);
  } catch (error) {
    throw cannotLock(dir, error);
  }
}

/** The writer lock on one vector folder, held until {@link WriterLock.release}. */
export interface WriterLock {
  /** Throws when the lock was taken away (its refreshes stalled past the stale time); call before each write. */
  assertHeld(): void;
  /** Frees the lock (idempotent). */
  release(): Promise<void>;
}

/**
 * Takes the writer lock of the vector folder `dir` (which must exist), without waiting.
 *
 * @throws {VectorStoreInUseError} when another instance, here or in another process, holds it.
 * @throws {StorageError} when the lock cannot be taken at all (no permission, folder gone).
 */
export async function lockVectorFolder(dir: string): Promise<WriterLock> {
  const key = await realFolder(dir);
  if (heldHere.has(key)) throw new VectorStoreInUseError(dir);
  heldHere.add(key);
  // A refusal of range locks switches to lock folders; every process on the folder does the same.
  const locks = crossProcessLocks(PLATFORM_LOCK_KIND, dir, () => undefined);
  let lost: Error | undefined;
  let release: (() => Promise<void>) | undefined;
  try {
    release = await locks.tryTake(path.join(dir, TARGET_NAME), (error) => {
      lost = error;
    });
  } catch (error) {
    heldHere.delete(key);
    locks.close();
    throw cannotLock(dir, error);
  }
  if (release === undefined) {
    heldHere.delete(key);
    locks.close();
    throw new VectorStoreInUseError(dir);
  }
  const free = release;
  let released: Promise<void> | undefined;
  return {
    assertHeld() {
      if (lost !== undefined)
        throw new StorageError(`Vector store ${dir}: lost its writer lock: ${ioReason(lost, true)}`, {
          cause: lost,
        });
    },
    release() {
      released ??= free()
        .catch(() => undefined)
        .finally(() => {
          heldHere.delete(key);
          locks.close();
        });
      return released;
    },
  };
}
