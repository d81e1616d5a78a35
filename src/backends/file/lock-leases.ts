/**
 * The cross-process locks this process holds (leases), shared by every store of the process.
 * A lease is kept for {@link LINGER_MS} after its last use, so the next call on the same lock
 * (a queued caller, or a loop of appends) skips freeing and taking the lock folder again.
 */

/** How long a lock stays held after its last use, for the next call of this process. */
export const LINGER_MS = 10;

/** A lock folder this process holds: in use by one caller, or idle until {@link LINGER_MS} pass. */
export interface Lease {
  /** Removes the lock folder. */
  release: () => Promise<void>;
  /** Set when proper-lockfile reports the lock lost (its refresh stalled past the stale time). */
  lost: Error | undefined;
  /** Frees an idle lease; `undefined` while a caller uses it. */
  idleTimer: NodeJS.Timeout | undefined;
  /** When the lock was taken: the start of this process's unbroken hold. */
  takenAt: number;
  /** When the holder last looked for other processes waiting (0: never). */
  waitersCheckedAt: number;
}

/** Locks this process holds, by lock path. */
const leases = new Map<string, Lease>();
/** Lock folders being removed, awaited before the same lock is taken again. */
const releasing = new Map<string, Promise<void>>();

/** The lease this process holds on `target`, if any. */
export function leaseOf(target: string): Lease | undefined {
  return leases.get(target);
}

/** Records a lock just taken on `target`. */
export function addLease(target: string, lease: Lease): void {
  leases.set(target, lease);
}

/** The removal of `target`'s lock folder still under way, if any. */
export function pendingRelease(target: string): Promise<void> | undefined {
  return releasing.get(target);
}

/** Lock paths under `prefix` whose leases are idle. */
export function idleLeasesUnder(prefix: string): string[] {
  return [...leases]
    .filter(([target, lease]) => target.startsWith(prefix) && lease.idleTimer)
    .map(([t]) => t);
}

/** Frees `target`'s lease now (nothing when none); a lost lease is only forgotten. */
export function dropLease(target: string): Promise<void> {
  const lease = leases.get(target);
  if (lease === undefined) return releasing.get(target) ?? Promise.resolve();
  leases.delete(target);
  clearTimeout(lease.idleTimer);
  // A lost lock is already gone (and may be someone else's now): leave it alone.
  if (lease.lost !== undefined) return Promise.resolve();
  const done: Promise<void> = lease
    .release()
    .catch(() => undefined)
    .finally(() => {
      if (releasing.get(target) === done) releasing.delete(target);
    });
  releasing.set(target, done);
  return done;
}

/** Keeps a lease that was just used for the next caller, freeing it after {@link LINGER_MS} unused. */
export function keepIdle(target: string, lease: Lease): void {
  if (leases.get(target) !== lease) return;
  if (lease.lost !== undefined) {
    void dropLease(target);
    return;
  }
  lease.idleTimer = setTimeout(() => void dropLease(target), LINGER_MS);
  lease.idleTimer.unref();
}
