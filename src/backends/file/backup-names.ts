/**
 * Backup file names (`{stem}.{YYYYMMDD_HHMMSS}_{ffffff}.backup{suffix}`, and the reference's
 * without microseconds), their order, and the copy made where hard links are unsupported.
 *
 * The backup of a file that did not parse carries a mark before `.backup`
 * (`{stem}.{stamp}~unreadable.backup{suffix}`). In the cache and system folders a key's file may
 * look like a backup (`x.20250306_101500.backup.json` is the plain key `x.20250306_101500.backup`'s
 * own name), and an unreadable one cannot say whose it is, so it must be reported as data that
 * may be lost. No key's file has a `~` anywhere but before its 16-hex hash at the end, so a
 * marked name is certainly a backup: listings skip it instead of naming it among the corrupt
 * files. The reference's glob (`{stem}.*.backup{suffix}`) still matches and prunes it.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { withDescriptorSlot } from './descriptor-budget.js';
import { closeFdNow, fsyncFd, openFd } from './fd-io.js';
import { releaseTempEntry, tempEntryName } from './temp-files.js';

function splitName(file: string): { dir: string; stem: string; suffix: string } {
  const suffix = path.extname(file);
  return { dir: path.dirname(file), stem: path.basename(file, suffix), suffix };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The mark of a backup of a file that did not parse (see the module comment). */
const UNREADABLE_MARK = '~unreadable';

/** Timestamp of a backup name: the reference's (whole seconds) or ours (with microseconds). */
const STAMP = String.raw`\d{8}_\d{6}(?:_\d{6})?`;

/** Names of backups of unreadable files, whatever file they back up. */
const UNREADABLE_BACKUP = new RegExp(String.raw`\.${STAMP}${UNREADABLE_MARK}\.backup\.json$`);

/** Matches backups of one file (reference names and ours, marked or not); group 1 is the timestamp. */
export function backupPattern(file: string): RegExp {
  const { stem, suffix } = splitName(file);
  return new RegExp(
    `^${escapeRegExp(stem)}\\.(${STAMP})(?:${UNREADABLE_MARK})?\\.backup${escapeRegExp(suffix)}$`,
  );
}

/**
 * True for the name (no folder) of a backup this library made of a `.json` file that did not
 * parse: never a key's file (see the module comment).
 */
export function isUnreadableBackupName(name: string): boolean {
  return UNREADABLE_BACKUP.test(name);
}

/**
 * Sort key of a backup name, a UTC stamp. Ours are UTC; a reference name (whole seconds) is in
 * the local time of the process that wrote it (`datetime.now()`), taken as this process's zone,
 * and counts as microsecond 0 of its second. Read as UTC, a reference backup in a zone east of
 * UTC sorted newer than ours made after it, and pruning removed ours first.
 */
export function backupOrder(stamp: string): string {
  if (stamp.length !== 15) return stamp;
  const local = new Date(
    Number(stamp.slice(0, 4)),
    Number(stamp.slice(4, 6)) - 1,
    Number(stamp.slice(6, 8)),
    Number(stamp.slice(9, 11)),
    Number(stamp.slice(11, 13)),
    Number(stamp.slice(13, 15)),
  ).getTime();
  // A stamp no calendar has (month 13) keeps its own text.
  return Number.isNaN(local) ? `${stamp}_000000` : stampOf(local * 1000);
}

/** The name (no folder) of `file`'s backup stamped `micros`, marked when `file` did not parse. */
export function backupName(file: string, micros: number, unreadable = false): string {
  const { stem, suffix } = splitName(file);
  return `${stem}.${stampOf(micros)}${unreadable ? UNREADABLE_MARK : ''}.backup${suffix}`;
}

/** `YYYYMMDD_HHMMSS_ffffff` (UTC) for a time in microseconds since the epoch. */
function stampOf(micros: number): string {
  const date = new Date(Math.floor(micros / 1000));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const day = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  const time = `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  return `${day}_${time}_${pad(micros % 1_000_000, 6)}`;
}

/** The wall clock in microseconds since the epoch. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Copies `file` to `backup` durably: temp copy, fsync, then rename (the caller holds the lock). */
export async function copyDurably(file: string, backup: string): Promise<void> {
  const temp = path.join(path.dirname(file), tempEntryName('backup'));
  try {
    // The copy holds two descriptors on a pool thread: it takes a budget slot too.
    await withDescriptorSlot(temp, () => fs.promises.copyFile(file, temp, fs.constants.COPYFILE_EXCL));
    const fd = await openFd(temp, 'r+');
    try {
      await fsyncFd(fd);
    } finally {
      closeFdNow(fd);
    }
    await fs.promises.rename(temp, backup);
  } catch (error) {
    await fs.promises.unlink(temp).catch(() => undefined);
    throw error;
  } finally {
    releaseTempEntry(temp);
  }
}
