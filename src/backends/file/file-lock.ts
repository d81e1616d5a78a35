/**
 * Locks that serialise read-modify-write of one resource (a conversation folder, an agent's
 * chains, the files of one cache/state key) within this process AND across processes sharing
 * the base folder.
 *
 * Across processes a lock is one byte of a lock file on Linux, else a `{hash}.lock` folder
 * (`lock-kinds.ts`). Within a process, callers queue in memory and only the head of the
 * queue polls the lock. Polling alone is unfair: a process whose queue never empties hands the
 * lock from one of its callers to the next without a gap, so another process could wait until it
 * gives up. A waiting process therefore announces itself in `{hash}.waiting` (see
 * `lock-waiters.ts`), and a process that has held a lock through back-to-back hand-offs for
 * {@link FAIR_SHARE_MS} lets it go for a moment when someone else announced.
 *
 * Taking and freeing a lock folder costs three file-system calls (`mkdir`, `stat`, `rmdir`), as
 * much as the write it guards on a busy machine. So a process keeps a lock it just used for
 * 10 ms (a lease, see `lock-leases.ts`): its queued callers, and a caller that comes right after (a loop of
 * appends), run under the lock already held. Another process waits at most that long more, and
 * the fair share above still applies to a lease held through many calls. (A range lock is
 * cheap to take; leases work the same for both kinds, so fairness does too.)
 */
import { shownText } from '../../core/shown-text.js';
import { createHash } from 'node:crypto';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { KeyedMutex, logEvent, StorageError, type StorageLogger } from '../../core/index.js';
import { ioReason } from '../io-reason.js';
import { readdirOrEmpty } from './atomic-json.js';
import {
  addLease,
  dropLease,
  idleLeasesUnder,
  keepIdle,
  type Lease,
  leaseOf,
  pendingRelease,
} from './lock-leases.js';
import {
  type CrossProcessLocks,
  crossProcessLocks,
  FOLDER_LOCK_OPTIONS,
  type LockKindName,
  PLATFORM_LOCK_KIND,
  type ReleaseLock,
} from './lock-kinds.js';
import {
  ANNOUNCE_EVERY_MS,
  announceWaiting,
  othersWaiting,
  removeOldAnnouncement,
  withdrawWaiting,
} from './lock-waiters.js';
import { isMissing } from './temp-files.js';

/** How long a caller waits for a busy lock before failing: well past a lock folder's stale time (10 s). */
const WAIT_LIMIT_MS = 60_000;

/** Polling back-off while a lock is busy: short, so a freed lock is noticed quickly. */
const POLL_MIN_MS = 2;
const POLL_MAX_MS = 25;

/** Longest unbroken hold (through in-process hand-offs and lingering) before a process yields to waiting ones. */
const FAIR_SHARE_MS = 100;

/** How long a yielding process leaves the lock free: long enough for any poller to come by. */
const YIELD_MS = 3 * POLL_MAX_MS;

/** How often a process holding a lease past its fair share looks for waiting processes. */
const WAITER_CHECK_MS = POLL_MAX_MS;

/**
 * One queue per lock path for the whole process, so several instances on one folder wait
 * in memory instead of polling the lock folder.
 */
const processQueue = new KeyedMutex();

/** Throws when the lock was lost (its owner stalled past the stale time); call before committing. */
export type AssertLockHeld = () => void;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The cross-process locks of one store, in its locks folder (byte ranges of one file, or lock folders). */
export class FileLocks {
  private readonly kind: CrossProcessLocks;

  /**
   * @param locksDir the locks folder.
   * @param recreateDir recreates `locksDir` when it was removed while the store is open
   *   (without it, a missing folder fails the lock at once).
   * @param logger receives stale-lock takeovers, lost locks and a switch from range locks to lock folders.
   * @param kind which kind of lock (the platform's best by default; tests choose).
   */
  constructor(
    private readonly locksDir: string,
    private readonly recreateDir?: () => Promise<void>,
    private readonly logger?: StorageLogger,
    kind: LockKindName = PLATFORM_LOCK_KIND,
  ) {
    this.kind = crossProcessLocks(kind, locksDir, (error) =>
      logEvent(
        logger,
        'warn',
        'file storage: byte-range locks unavailable (not built for this platform, or refused by the file system); using lock folders',
        {
          locks: locksDir,
          error: ioReason(error),
        },
      ),
    );
  }

  /**
   * Runs `task` holding the lock `name` (any string; it is hashed into a file name, so ids of
   * any length and case stay distinct). Rejects with a {@link StorageError} when the lock
   * cannot be had within {@link WAIT_LIMIT_MS}, or at once when the lock folder is unusable.
   * `target` is `name`'s {@link targetFor}, when the caller has it already.
   */
  async run<T>(
    name: string,
    task: (assertHeld: AssertLockHeld) => Promise<T>,
    target = this.targetFor(name),
  ): Promise<T> {
    return processQueue.run(target, async () => {
      const lease = await this.take(target, name);
      const assertHeld: AssertLockHeld = () => {
        const { lost } = lease;
        if (lost)
          throw new StorageError(`Lost the lock on ${shownText(name)}: ${ioReason(lost, true)}`, {
            cause: lost,
          });
      };
      try {
        return await task(assertHeld);
      } finally {
        keepIdle(target, lease);
      }
    });
  }

  /**
   * Frees the idle leases on this store's locks (at shutdown), so no lock is left held, and
   * what the lock kind keeps open for this store.
   */
  async releaseIdle(): Promise<void> {
    await Promise.all(idleLeasesUnder(this.locksDir + path.sep).map((target) => dropLease(target)));
    this.kind.close();
  }

  /**
   * The lease on `target` for the caller at the head of the queue: the one this process holds,
   * unless it is lost or other processes waited through a whole fair share; else a fresh one.
   */
  private async take(target: string, name: string): Promise<Lease> {
    const held = leaseOf(target);
    if (held !== undefined) {
      clearTimeout(held.idleTimer);
      held.idleTimer = undefined;
      if (held.lost === undefined && !(await this.turnIsUp(target, held))) return held;
      const yielding = held.lost === undefined;
      await dropLease(target);
      if (yielding) await sleep(YIELD_MS);
    }
    await pendingRelease(target);
    const lease: Lease = {
      release: async () => undefined,
      lost: undefined,
      idleTimer: undefined,
      takenAt: 0,
      waitersCheckedAt: 0,
    };
    lease.release = await this.acquire(target, name, (error) => {
      lease.lost = error;
      logEvent(this.logger, 'error', 'file storage: lost a lock (its holder stalled past the stale time)', {
        lock: name,
        // With the call's path: `lock` is the caller's name, no path.
        error: ioReason(error, true),
      });
    });
    lease.takenAt = Date.now();
    addLease(target, lease);
    return lease;
  }

  /** Removes lock folders whose owners died (stale) and old waiting announcements; live ones stay. */
  async removeStale(): Promise<void> {
    for (const name of await readdirOrEmpty(this.locksDir)) {
      if (name.endsWith('.waiting')) {
        await removeOldAnnouncement(path.join(this.locksDir, name));
        continue;
      }
      if (!name.endsWith('.lock')) continue;
      const target = path.join(this.locksDir, name.slice(0, -'.lock'.length));
      // Taking and releasing the lock uses proper-lockfile's own stale rule; a live one says ELOCKED.
      await processQueue.run(target, async () => {
        const release = await lockfile
          .lock(target, { ...FOLDER_LOCK_OPTIONS, onCompromised: () => undefined })
          .catch(() => undefined);
        if (release === undefined) return; // live (or unreadable): not ours to take
        // The lock folder existed and its owner was gone: this was a takeover.
        logEvent(this.logger, 'warn', 'file storage: took over a stale lock left by a dead process', {
          lock: path.join(this.locksDir, name),
        });
        await release().catch(() => undefined);
      });
    }
  }

  /** The lock file (or byte) `name` is held by; batches take their locks in the order of these. */
  targetFor(name: string): string {
    const digest = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
    return path.join(this.locksDir, digest);
  }

  /**
   * Takes the lock, polling while another process holds it. Only "held" is retried: any other
   * failure (folder missing, no permission, disk full) is reported at once instead of being
   * retried until the wait limit.
   */
  private async acquire(
    target: string,
    name: string,
    onCompromised: (error: Error) => void,
  ): Promise<ReleaseLock> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    let announced = false;
    let announcedAt = 0;
    let recreated = false;
    for (let attempt = 0; ; attempt += 1) {
      let release: ReleaseLock | undefined;
      try {
        release = await this.kind.tryTake(target, onCompromised);
      } catch (error) {
        if (isMissing(error) && !recreated && this.recreateDir) {
          // The locks folder was removed under us: recreate it once and try again.
          recreated = true;
          await this.recreateDir().catch((cause: unknown) => {
            throw lockError(name, cause);
          });
          continue;
        }
        throw lockError(name, error);
      }
      if (release !== undefined) {
        if (announced) await withdrawWaiting(target);
        return release;
      }
      if (Date.now() >= deadline) {
        if (announced) await withdrawWaiting(target);
        throw lockError(name, undefined, `still held by another process after ${WAIT_LIMIT_MS / 1000} s`);
      }
      if (Date.now() - announcedAt >= ANNOUNCE_EVERY_MS) {
        // Tell the holder someone else is waiting (a failure here only costs fairness).
        announcedAt = Date.now();
        announced = (await announceWaiting(target)) || announced;
      }
      const ceiling = Math.min(POLL_MAX_MS, POLL_MIN_MS * 1.5 ** attempt);
      await sleep(POLL_MIN_MS + Math.random() * (ceiling - POLL_MIN_MS));
    }
  }

  /**
   * True when this process has held `target` for a fair share and another process announced it
   * is waiting (looked up at most every {@link WAITER_CHECK_MS}), so the lease must go.
   */
  private async turnIsUp(target: string, lease: Lease): Promise<boolean> {
    const now = Date.now();
    if (now - lease.takenAt < FAIR_SHARE_MS || now - lease.waitersCheckedAt < WAITER_CHECK_MS) return false;
    lease.waitersCheckedAt = now;
    return othersWaiting(target);
  }
}

function lockError(name: string, cause: unknown, reason?: string): StorageError {
  const detail = reason ?? ioReason(cause, true);
  return new StorageError(`Cannot lock ${shownText(name)}: ${detail}`, { cause });
}
