/**
 * Locks that serialise read-modify-write of one resource (a conversation folder, an agent's
 * chains, the files of one cache/state key) within this process AND across processes sharing
 * the base folder.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import fse from 'fs-extra';
import lockfile from 'proper-lockfile';
import { KeyedMutex, StorageError } from '../../core/index.js';
import { isMissing } from './temp-files.js';

/**
 * A lock whose owner has not refreshed it for this long is taken over (proper-lockfile's
 * default). Our critical sections take milliseconds; refreshes run every `stale / 2`.
 */
const STALE_MS = 10_000;

/**
 * Waiting policy: short randomised back-off so a busy lock is retried quickly, for about
 * 30 s in all, i.e. long enough to outlast a stale lock left by a killed process.
 */
const RETRIES = { retries: 160, factor: 1.5, minTimeout: 5, maxTimeout: 200, randomize: true };

/**
 * One queue per lock path for the whole process, so several instances on one folder wait
 * in memory instead of polling the lock folder.
 */
const processQueue = new KeyedMutex();

/** Throws when the lock was lost (its owner stalled past the stale time); call before committing. */
export type AssertLockHeld = () => void;

/** Cross-process locks kept as `{locksDir}/{hash}.lock` folders (proper-lockfile). */
export class FileLocks {
  constructor(private readonly locksDir: string) {}

  /**
   * Runs `task` holding the lock `name` (any string; it is hashed into a file name, so ids of
   * any length and case stay distinct). Rejects with a {@link StorageError} when the lock
   * cannot be had within about 30 s.
   */
  async run<T>(name: string, task: (assertHeld: AssertLockHeld) => Promise<T>): Promise<T> {
    const target = this.targetFor(name);
    return processQueue.run(target, async () => {
      let lost: Error | undefined;
      const release = await this.acquire(target, name, (error) => {
        lost = error;
      });
      const assertHeld: AssertLockHeld = () => {
        if (lost) throw new StorageError(`Lost the lock on ${name}: ${lost.message}`, { cause: lost });
      };
      try {
        return await task(assertHeld);
      } finally {
        // A lost lock is already gone (and may be someone else's now): leave it alone.
        if (!lost) await release().catch(() => undefined);
      }
    });
  }

  /** Removes lock folders whose owners died (stale), leaving live ones alone. */
  async removeStale(): Promise<void> {
    let names: string[];
    try {
      names = await fse.readdir(this.locksDir);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const name of names) {
      if (!name.endsWith('.lock')) continue;
      const target = path.join(this.locksDir, name.slice(0, -'.lock'.length));
      // Taking and releasing the lock uses proper-lockfile's own stale rule; a live one says ELOCKED.
      await processQueue.run(target, async () => {
        const release = await lockfile
          .lock(target, { realpath: false, stale: STALE_MS, retries: 0, onCompromised: () => undefined })
          .catch(() => undefined);
        await release?.().catch(() => undefined);
      });
    }
  }

  private targetFor(name: string): string {
    const digest = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
    return path.join(this.locksDir, digest);
  }

  private async acquire(
    target: string,
    name: string,
    onCompromised: (error: Error) => void,
  ): Promise<() => Promise<void>> {
    const options = { realpath: false, stale: STALE_MS, retries: RETRIES, onCompromised };
    try {
      return await lockfile.lock(target, options);
    } catch (error) {
      // The locks folder was removed under us: recreate it once and try again.
      if (!isMissing(error)) throw lockError(name, error);
    }
    await fse.ensureDir(this.locksDir);
    try {
      return await lockfile.lock(target, options);
    } catch (error) {
      throw lockError(name, error);
    }
  }
}

function lockError(name: string, cause: unknown): StorageError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(`Cannot lock ${name}: ${reason}`, { cause });
}
