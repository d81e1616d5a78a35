/**
 * Waiting announcements of the file backend's locks (see `file-lock.ts` for the fairness they
 * serve): a process polling for a lock another process holds writes its token to
 * `{hash}.waiting` and renews it while it waits; a process holding the lock past its fair share
 * lets it go for a moment when a fresh announcement there is another process's.
 */
import { randomBytes } from 'node:crypto';
import fse from 'fs-extra';
import { withDescriptorSlot } from './descriptor-budget.js';
import { lockFs } from './lock-fs.js';
import { isMissing } from './temp-files.js';

/** A waiting announcement older than this is from a waiter that gave up or died. */
const WAITER_FRESH_MS = 1_000;

/** How often a waiter renews its announcement (well within {@link WAITER_FRESH_MS}). */
export const ANNOUNCE_EVERY_MS = 200;

/** Identifies this copy of the module (this process) in waiting announcements. */
const OWN_TOKEN = randomBytes(8).toString('hex');

/** Announces (or renews) that this process waits for `target`; resolves whether it was written. */
export function announceWaiting(target: string): Promise<boolean> {
  const file = `${target}.waiting`;
  return withDescriptorSlot(file, () => fse.promises.writeFile(file, OWN_TOKEN)).then(
    () => true,
    () => false,
  );
}

/** Withdraws this process's announcement for `target` (it got the lock or gave up). */
export async function withdrawWaiting(target: string): Promise<void> {
  await fse.promises.unlink(`${target}.waiting`).catch(() => undefined);
}

/** True when a fresh announcement for `target` is another process's. */
export async function othersWaiting(target: string): Promise<boolean> {
  try {
    const file = `${target}.waiting`;
    // Usually there is none: one `stat` (made at once, see `lock-fs.ts`) says so; the token
    // is read only for a fresh one.
    const stat = lockFs.statSync(file, { throwIfNoEntry: false });
    if (stat === undefined || Date.now() - stat.mtimeMs >= WAITER_FRESH_MS) return false;
    return (await withDescriptorSlot(file, () => fse.promises.readFile(file, 'utf8'))) !== OWN_TOKEN;
  } catch {
    return false; // no announcement (or it just went away)
  }
}

/** Removes the announcement `file` when it is no longer fresh (its waiter gave up or died). */
export async function removeOldAnnouncement(file: string): Promise<void> {
  try {
    const stat = await fse.promises.stat(file);
    if (Date.now() - stat.mtimeMs >= WAITER_FRESH_MS) await fse.promises.unlink(file);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}
