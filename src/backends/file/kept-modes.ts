/**
 * The permission bits (and, for a process running as root, the owner) of a data file, kept
 * across its rewrites. A write replaces the file by renaming a new temp file over it, and a new
 * file gets `0o666` less the umask: a `chmod 600` of `current.json` was undone by the next
 * write, while its backups (links to the old file) stayed private. The reference rewrites a
 * file in place, which keeps its mode; so does this, by giving the temp file the old file's
 * mode before the rename (`write-file-atomic` does the same).
 */
import fs, { type BigIntStats } from 'node:fs';
import { ioError } from './durable-dirs.js';
import { statNow } from './metadata-now.js';

/** The bits a `chmod` sets: permissions, setuid, setgid, sticky. */
const MODE_BITS = 0o7777;

/**
 * The stat of the file a write replaces, when the write path already took one (`null`: no file
 * there; `undefined`: none taken, {@link keepOldMode} takes it).
 */
export type ReplacedStat = BigIntStats | null | undefined;

/** The first of `stats` that is known (`null` counts: "no file"), else `undefined`. */
export function knownStat(...stats: ReplacedStat[]): ReplacedStat {
  return stats.find((stat) => stat !== undefined);
}

/**
 * Gives the temp file `temp`, about to be renamed over `file`, the mode of the file it replaces
 * (`old`; looked up when `undefined`), and its owner and group when this process runs as root.
 * `made`: the temp file's stat when the write took one. Nothing is done for a new file, nor
 * when the modes already match (the usual case: no call beyond the look-ups). The change is
 * made after the temp file's fsync; it reaches the disk with the rename, by the folder's fsync
 * (one journal commit on ext4 and XFS). A failed `chmod` fails the write (the old file stays):
 * landing it would loosen the file's permissions. A failed `chown` does not (a file system
 * without owners): the mode, which it would otherwise keep, is what guards the data.
 */
export async function keepOldMode(
  temp: string,
  file: string,
  made: BigIntStats | undefined,
  old: ReplacedStat,
): Promise<void> {
  const before = old === undefined ? statNow(file, 'write') : old;
  if (before === null || !before.isFile()) return;
  const now = made ?? statNow(temp, 'write');
  if (now === null) return; // the rename reports the missing temp file
  // A chown clears setuid/setgid bits, so it goes first, and the mode is set again after it.
  const chown = isRoot() && (now.uid !== before.uid || now.gid !== before.gid);
  if (chown) await fs.promises.chown(temp, Number(before.uid), Number(before.gid)).catch(() => undefined);
  const mode = Number(before.mode) & MODE_BITS;
  if (!chown && (Number(now.mode) & MODE_BITS) === mode) return;
  await fs.promises.chmod(temp, mode).catch((error: unknown) => {
    throw ioError('keep the permissions of', file, error);
  });
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}
