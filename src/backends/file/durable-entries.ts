/**
 * Folders whose own entry (their name in the parent folder) this process knows to be on disk.
 * A writer that finds a conversation or agent folder already there cannot tell whether whoever
 * made it fsynced the parent: a writer that gave up or was killed between its `mkdir` and that
 * fsync leaves a folder that a power failure can take away with every file written into it
 * since. So the first write into such a folder in a process fsyncs the parent too (an fsync of
 * a folder already on disk is cheap), and the folder is then remembered, by identity: a folder
 * deleted and made again by another process has a new identity and is synced again.
 */
import fs from 'node:fs';
import { LRUCache } from 'lru-cache';

/**
 * Folders remembered at most. Past it the least recently written one is forgotten (its next
 * write pays one parent fsync more), not all of them: a store with more folders than this kept
 * paying that fsync for every folder after each time the memory filled up.
 */
const MAX_KNOWN = 10_000;

/** Durable folder entries, by path: the identity of the folder that was synced. */
let known = new LRUCache<string, string>({ max: MAX_KNOWN });

/** Test seam (not exported by the package): forgets every folder and keeps at most `max` from now on. */
export function resetKnownEntries(max = MAX_KNOWN): void {
  known = new LRUCache<string, string>({ max });
}

/**
 * Identity of a folder: device, inode and creation time (an inode number may be reused at once
 * by a folder made after a delete; its creation time differs). `null` when it cannot be read.
 */
function folderIdentity(dir: string): string | null {
  try {
    // At once: the store has just created a file in this folder, so its inode is in memory.
    const stat = fs.statSync(dir, { bigint: true });
    return `${stat.dev}:${stat.ino}:${stat.birthtimeNs}`;
  } catch {
    return null;
  }
}

/**
 * What the next write into `dir` must do for its entry: `null` when the entry is known to be on
 * disk, else a call to make once the parent folder was fsynced after the write's rename.
 */
export function unsyncedEntry(dir: string): (() => void) | null {
  const identity = folderIdentity(dir);
  // Unreadable (moved away meanwhile): the write fails or writes again, so nothing is remembered.
  if (identity === null) return () => undefined;
  // A lookup counts as a use: folders written into often stay known.
  if (known.get(dir) === identity) return null;
  return () => {
    known.set(dir, identity);
  };
}

/** Forgets `dir` (this process removed it): a folder made there later is synced again. */
export function forgetEntry(dir: string): void {
  known.delete(dir);
}
