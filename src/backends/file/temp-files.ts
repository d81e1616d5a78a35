/**
 * Names of this library's temporary entries (write temp files, trashed conversations, health
 * probes) and the start-up rule that removes the ones a killed process, or a failed write of
 * this one, left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fse from 'fs-extra';

/** Identifies this machine in temp names (and writer marks), so a pid is only checked on the host that owns it. */
export const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);

/** `.{label}.{host}-{pid}-{random}.tmp`: hidden, never ends in `.json`, so no listing takes it for data. */
const TEMP_NAME = /^\..*\.([0-9a-f]{8})-(\d+)-([0-9a-f]{12})\.tmp$/;

/**
 * Age after which a temp entry counts as abandoned even if its owner cannot be checked (another
 * host sharing the folder, or a reused pid). No write holds a temp file anywhere near this long.
 */
export const ABANDONED_AFTER_MS = 15 * 60 * 1000;

/**
 * The 48-bit suffix of the next temp name: a random start, then counted up. Unique within the
 * process by the count, across processes by the host and pid; the random start keeps a
 * reused pid from meeting a killed process's leftovers (a clash would only fail the exclusive
 * create). A `randomBytes` call per name cost ~35 µs of CPU per write.
 */
const SUFFIXES = 2 ** 48;
const firstSuffix = randomBytes(6).readUIntBE(0, 6);
let nextSuffix = firstSuffix;

/** Twelve hex digits, never the same twice in this process. */
export function uniqueSuffix(): string {
  const suffix = nextSuffix.toString(16).padStart(12, '0');
  nextSuffix = (nextSuffix + 1) % SUFFIXES;
  return suffix;
}

/**
 * True when `suffix` was handed out by {@link uniqueSuffix} in this thread. With the pid, it
 * tells this thread's names from another worker thread's (same pid, its own counter from its
 * own random start: two threads that made a million names each share a range with odds below
 * one in 10^8).
 */
export function isOwnSuffix(suffix: string): boolean {
  const issued = (nextSuffix - firstSuffix + SUFFIXES) % SUFFIXES;
  return (Number.parseInt(suffix, 16) - firstSuffix + SUFFIXES) % SUFFIXES < issued;
}

/**
 * Names from {@link tempEntryName} whose write has not let go of them yet (see
 * {@link releaseTempEntry}). A temp entry of this thread not in here is an orphan: its write
 * failed and so did its removal (a disk that turned read-only), or a journal replay brought it
 * back; the start-up sweep removes it as it removes a dead process's, where before it stayed
 * for as long as the process lived. A Set add and delete per write: no I/O.
 */
const heldTemps = new Set<string>();

/**
 * A fresh temp entry name for `label` (usually the target's file name), unique per call, held
 * until {@link releaseTempEntry}: the start-up sweep of any store in this process leaves it.
 */
export function tempEntryName(label: string): string {
  const name = `.${label}.${HOST_TAG}-${process.pid}-${uniqueSuffix()}.tmp`;
  heldTemps.add(name);
  return name;
}

/**
 * Lets go of a temp entry (its path or name) once its write has renamed it or tried to remove
 * it: if it is still there, it is an orphan the next sweep removes.
 */
export function releaseTempEntry(temp: string): void {
  heldTemps.delete(path.basename(temp));
}

/** True for names made by {@link tempEntryName}. */
export function isTempEntryName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/** True when process `pid` exists on this host. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when a temp entry can no longer belong to a live writer: its process on this host is
 * gone, it is this thread's and no write holds it (see {@link releaseTempEntry}), or it is
 * older than {@link ABANDONED_AFTER_MS}.
 */
export function isAbandonedTempEntry(name: string, mtimeMs: number, nowMs: number): boolean {
  const match = TEMP_NAME.exec(name);
  if (!match) return false;
  if (nowMs - mtimeMs > ABANDONED_AFTER_MS) return true;
  const [, host, pid, suffix] = match as unknown as [string, string, string, string];
  if (host !== HOST_TAG) return false;
  if (Number(pid) === process.pid && isOwnSuffix(suffix)) return !heldTemps.has(name);
  return !isProcessAlive(Number(pid));
}

/** Removes the abandoned temp entries (files or folders) directly inside `dir`; returns how many. */
export async function removeAbandonedTempEntries(dir: string, nowMs: number): Promise<number> {
  let names: string[];
  try {
    names = await fse.readdir(dir);
  } catch (error) {
    if (isMissing(error)) return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    if (!isTempEntryName(name)) continue;
    const full = path.join(dir, name);
    try {
      const stat = await fse.lstat(full);
      if (!isAbandonedTempEntry(name, stat.mtimeMs, nowMs)) continue;
      await fse.remove(full);
      removed += 1;
    } catch (error) {
      // Another process cleaning up at the same time got there first.
      if (!isMissing(error)) throw error;
    }
  }
  return removed;
}

/** True for "no such file or folder" errors (also a path component that is a file). */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
