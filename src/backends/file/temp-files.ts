/**
 * Names of this library's temporary entries (write temp files, trashed conversations, health
 * probes) and the start-up rule that removes the ones a killed process left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fse from 'fs-extra';

/** Identifies this machine in temp names (and writer marks), so a pid is only checked on the host that owns it. */
export const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);

/** `.{label}.{host}-{pid}-{random}.tmp`: hidden, never ends in `.json`, so no listing takes it for data. */
const TEMP_NAME = /^\..*\.([0-9a-f]{8})-(\d+)-[0-9a-f]{12}\.tmp$/;

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
let nextSuffix = randomBytes(6).readUIntBE(0, 6);

/** Twelve hex digits, never the same twice in this process. */
export function uniqueSuffix(): string {
  const suffix = nextSuffix.toString(16).padStart(12, '0');
  nextSuffix = (nextSuffix + 1) % 2 ** 48;
  return suffix;
}

/** A fresh temp entry name for `label` (usually the target's file name), unique per call. */
export function tempEntryName(label: string): string {
  return `.${label}.${HOST_TAG}-${process.pid}-${uniqueSuffix()}.tmp`;
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
 * gone, or it is older than {@link ABANDONED_AFTER_MS}.
 */
export function isAbandonedTempEntry(name: string, mtimeMs: number, nowMs: number): boolean {
  const match = TEMP_NAME.exec(name);
  if (!match) return false;
  if (nowMs - mtimeMs > ABANDONED_AFTER_MS) return true;
  const [, host, pid] = match;
  return host === HOST_TAG && !isProcessAlive(Number(pid));
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
