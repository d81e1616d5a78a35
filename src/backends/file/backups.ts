/**
 * Backups before overwrite, in the reference's naming (`{stem}.{YYYYMMDD_HHMMSS}.backup{suffix}`)
 * extended with microseconds (`{stem}.{YYYYMMDD_HHMMSS}_{ffffff}.backup{suffix}`), so two writes
 * in one second keep two backups while the reference's glob `{stem}.*.backup{suffix}` still
 * matches and names still sort by time.
 */
import { constants } from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { ioError } from './atomic-json.js';
import { isMissing } from './temp-files.js';

/** Backup policy of a store. */
export interface BackupPolicy {
  /** Whether to back up at all (`createBackups`). */
  enabled: boolean;
  /** How many backups to keep per file (newest). */
  keep: number;
}

/**
 * Decides whether an old backup may be deleted; the system folder uses it to spare a file that
 * only looks like a backup but is a key's data (a key may be named `x.20250306_101500.backup`).
 */
export type MayPrune = (file: string) => Promise<boolean>;

function splitName(file: string): { dir: string; stem: string; suffix: string } {
  const suffix = path.extname(file);
  return { dir: path.dirname(file), stem: path.basename(file, suffix), suffix };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches backups of one file (reference names and ours); group 1 is the sortable timestamp. */
function backupPattern(file: string): RegExp {
  const { stem, suffix } = splitName(file);
  return new RegExp(`^${escapeRegExp(stem)}\\.(\\d{8}_\\d{6}(?:_\\d{6})?)\\.backup${escapeRegExp(suffix)}$`);
}

/** `YYYYMMDD_HHMMSS_ffffff` (UTC) for a time in microseconds since the epoch. */
function stampOf(micros: number): string {
  const date = new Date(Math.floor(micros / 1000));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const day = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  const time = `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  return `${day}_${time}_${pad(micros % 1_000_000, 6)}`;
}

function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * Copies `file` to a new backup beside it (if `file` exists) and prunes that file's backups
 * to the newest `policy.keep`. Callers hold the file's lock, so backups of one file are made
 * one at a time; a name already taken (clock step back) moves on by a microsecond.
 */
export async function backupBeforeOverwrite(
  file: string,
  policy: BackupPolicy,
  mayPrune: MayPrune = async () => true,
): Promise<void> {
  if (!policy.enabled || policy.keep === 0) return;
  const { dir, stem, suffix } = splitName(file);
  for (let micros = nowMicros(), attempt = 0; ; micros += 1, attempt += 1) {
    const backup = path.join(dir, `${stem}.${stampOf(micros)}.backup${suffix}`);
    try {
      await fse.promises.copyFile(file, backup, constants.COPYFILE_EXCL);
      break;
    } catch (error) {
      if (isMissing(error)) return; // nothing to back up yet
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 1000) {
        throw ioError('back up', file, error);
      }
    }
  }
  await pruneBackups(file, policy.keep, mayPrune);
}

/** Deletes all but the newest `keep` backups of `file`. */
export async function pruneBackups(file: string, keep: number, mayPrune: MayPrune): Promise<void> {
  const { dir } = splitName(file);
  const pattern = backupPattern(file);
  const backups: { name: string; order: string }[] = [];
  for (const name of await fse.readdir(dir)) {
    const match = pattern.exec(name);
    // A reference name (whole seconds) counts as microsecond 0 of its second.
    if (match?.[1]) backups.push({ name, order: match[1].length === 15 ? `${match[1]}_000000` : match[1] });
  }
  backups.sort((a, b) => (a.order < b.order ? 1 : a.order > b.order ? -1 : 0));
  for (const { name } of backups.slice(keep)) {
    const full = path.join(dir, name);
    if (!(await mayPrune(full))) continue;
    await fse.promises.unlink(full).catch((error: unknown) => {
      if (!isMissing(error)) throw ioError('remove old backup', full, error);
    });
  }
}
