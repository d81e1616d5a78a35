/**
 * Backup file names (`{stem}.{YYYYMMDD_HHMMSS}_{ffffff}.backup{suffix}`, and the reference's
 * without microseconds), their order, and the copy made where hard links are unsupported.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { tempEntryName } from './temp-files.js';

function splitName(file: string): { dir: string; stem: string; suffix: string } {
  const suffix = path.extname(file);
  return { dir: path.dirname(file), stem: path.basename(file, suffix), suffix };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches backups of one file (reference names and ours); group 1 is the timestamp. */
export function backupPattern(file: string): RegExp {
  const { stem, suffix } = splitName(file);
  return new RegExp(`^${escapeRegExp(stem)}\\.(\\d{8}_\\d{6}(?:_\\d{6})?)\\.backup${escapeRegExp(suffix)}$`);
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

/** The name (no folder) of `file`'s backup stamped `micros`. */
export function backupName(file: string, micros: number): string {
  const { stem, suffix } = splitName(file);
  return `${stem}.${stampOf(micros)}.backup${suffix}`;
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
    await fs.promises.copyFile(file, temp, fs.constants.COPYFILE_EXCL);
    const handle = await fs.promises.open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, backup);
  } catch (error) {
    await fs.promises.unlink(temp).catch(() => undefined);
    throw error;
  }
}
