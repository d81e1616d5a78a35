/**
 * Whether a store's `dbPath` still names the database file the store opened. SQLite keeps the
 * file it opened by its descriptor: once the path is deleted (a cleanup job, an admin) or
 * replaced (a copy renamed over it), the store goes on reading and writing the file it opened,
 * which no name reaches any more, and everything written is lost when the store closes.
 * Health and stats compare the path's device and inode with those recorded at open; writes do
 * not (a stat per write would cost more than many writes themselves).
 */
import { statSync, type BigIntStats } from 'node:fs';
import { isMemoryPath } from './sqlite-errors.js';

/** The device and inode of a file: kept while it is renamed, different for another file at its path. */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** What is at a database path now: its stat, or why there is none. */
export type PathState = { stats: BigIntStats } | { missing: string };

/**
 * Stats `path` (bigint: an inode beyond 2^53 stays exact). Synchronous on purpose: one metadata
 * system call of a few microseconds, where the promise API goes through the thread pool (see
 * `health-stats.ts`).
 */
export function statPath(path: string): PathState {
  try {
    const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
    return stats === undefined ? { missing: 'no such file' } : { stats };
  } catch (error) {
    return { missing: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

/** The identity of the file at `path`, or `null` for `:memory:` or when nothing is there. */
export function fileIdentityOf(path: string): FileIdentity | null {
  if (isMemoryPath(path)) return null;
  const state = statPath(path);
  return 'stats' in state ? { dev: state.stats.dev, ino: state.stats.ino } : null;
}

/**
 * Why `path` (in the state `now`) no longer names the file the store opened (`opened`), or
 * `null` when it still does. The message names the path and says what becomes of writes.
 */
export function replacedFileProblem(
  path: string,
  opened: FileIdentity | null,
  now: PathState,
): string | null {
  if ('stats' in now && opened !== null && now.stats.dev === opened.dev && now.stats.ino === opened.ino) {
    return null;
  }
  const what =
    'missing' in now ? `was deleted (${now.missing})` : 'was replaced: the path names another file';
  return (
    `SQLite database ${path} ${what} while the store has it open; the store still reads and writes ` +
    `the file it opened, which no longer has that name, so writes are lost when it closes unless ` +
    `the file has another name; shut the store down and open it again`
  );
}
