/**
 * SQLite driver errors as the library's typed errors, and the checks made before opening a file.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { devNull } from 'node:os';
import { stat } from 'node:fs/promises';
import {
  BackendUnavailableError,
  ConfigError,
  CorruptDataError,
  StorageError,
  StoreNotFoundError,
} from '../../core/index.js';
import { withFullDisk } from './full-disk.js';

/** True for the path SQLite treats as a private in-memory database. */
export function isMemoryPath(dbPath: string): boolean {
  return dbPath === ':memory:';
}

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** True for SQLite's "database is locked" (another connection holds the lock). */
export function isBusy(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'SQLITE_BUSY';
}

/**
 * The error refusing a database file of `links` hard links. SQLite names a database's rollback
 * journal, WAL and WAL index after the name it was opened by, so connections through two names of
 * one file keep two logs of it: one's commits are missing or torn for the other (in WAL mode, a
 * bare "disk I/O error"), and a crash leaves a journal the other name never rolls back.
 */
function hardLinkedError(path: string, key: string, links: number, cause?: unknown): ConfigError {
  return new ConfigError(
    `SQLite database ${path} (${key}) has ${links} hard links: SQLite keeps a database's journal ` +
      `and WAL by the name it is opened by, so two names of one file would write two logs of it; ` +
      `remove the other names or use a copy`,
    key,
    cause,
  );
}

/**
 * Refuses the database file at `path` (the config key `key`) when it has more than one hard link,
 * before the driver opens it. No file (a new database) or no regular file passes: SQLite creates
 * it, or says why it cannot open it.
 */
export async function assertSingleLink(path: string, key: string): Promise<void> {
  if (isMemoryPath(path)) return;
  const links = await stat(path).then(
    (s) => (s.isFile() ? s.nlink : 1),
    () => 1,
  );
  if (links > 1) throw hardLinkedError(path, key, links);
}

/**
 * Wraps a driver error in the library's typed errors, naming what was being done and the file.
 * `pathKey` is the config key giving the file (`dbPath`; the vector store's `path`).
 */
export function toStorageError(
  error: unknown,
  what: string,
  dbPath: string,
  pathKey = 'dbPath',
): StorageError {
  if (error instanceof StorageError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const code = sqliteCode(error);
  // A link made after the open's check (by hand, or another program) is only seen here: the
  // connections through its other name broke the WAL index this one reads. Stat'ed on I/O errors only.
  const links = code === 'SQLITE_IOERR' ? linksOf(dbPath) : 1;
  if (links > 1) return hardLinkedError(dbPath, pathKey, links, error);
  switch (code) {
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return new CorruptDataError(dbPath, `${what}: ${reason}`, error);
    case 'SQLITE_CANTOPEN': {
      // SQLite says CANTOPEN, not FULL, when a file it must create (a rollback journal at each
      // write) gets no inode: the database is open and fine, the disk is full.
      const full = withFullDisk(reason, error, dbPath);
      if (full !== reason)
        return new StorageError(`SQLite ${what} failed on ${dbPath}: ${full}`, { cause: error });
      return new BackendUnavailableError(
        `SQLite database ${dbPath} cannot be opened (${what}): ${reason}${descriptorNote(error)}`,
        error,
      );
    }
    // Another connection kept its lock past `connectionTimeout`: the database is there but
    // not available right now, the same kind of failure as a Redis or PostgreSQL timeout,
    // so callers can retry on one error class whatever the backend.
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new BackendUnavailableError(`SQLite ${what} failed on ${dbPath}: ${reason}`, error);
    case 'SQLITE_READONLY':
      if (hasJournal(dbPath)) return hotJournalError(what, dbPath, reason, error);
      return new StorageError(`SQLite ${what} failed on ${dbPath}: ${reason}`, { cause: error });
    default:
      return new StorageError(`SQLite ${what} failed on ${dbPath}: ${withFullDisk(reason, error, dbPath)}`, {
        cause: error,
      });
  }
}

/** True when a rollback journal with content lies beside the database file at `dbPath`. */
function hasJournal(dbPath: string): boolean {
  if (isMemoryPath(dbPath)) return false;
  try {
    return statSync(`${dbPath}-journal`).size > 0;
  } catch {
    return false;
  }
}

/**
 * A read of a database whose last writer stopped inside a transaction (`enableWalMode: false`,
 * a killed process): its rollback journal must be played back before the file can be read, which
 * a read-only connection may not do, so SQLite answers "attempt to write a readonly database".
 * The store is whole once any writable open rolls the journal back: an outage, not a fault of
 * the file (until 2026-12-06 a plain `StorageError` with SQLite's words).
 */
function hotJournalError(
  what: string,
  dbPath: string,
  reason: string,
  cause: unknown,
): BackendUnavailableError {
  return new BackendUnavailableError(
    `SQLite ${what} failed on ${dbPath}: a writer stopped inside a transaction and left its rollback ` +
      `journal ${dbPath}-journal, which a read-only open cannot roll back; open the store once without ` +
      `readOnly (or let its writer start again), which rolls it back (${reason})`,
    cause,
  );
}

/**
 * Why SQLite could not open a file, when it is the process's descriptor limit: SQLite reports
 * EMFILE as a bare CANTOPEN "unable to open database file", which reads as a missing folder or
 * a permission (50 stores open at `ulimit -n 128`, 3 descriptors each with WAL; a rollback
 * journal at each write with `enableWalMode: false`). Found by opening one descriptor now: the
 * limit may have been reached only for a moment, then nothing is added. `''` for any error but
 * CANTOPEN (so it costs an open on those failures only).
 */
export function descriptorNote(error: unknown): string {
  if (sqliteCode(error) !== 'SQLITE_CANTOPEN') return '';
  try {
    closeSync(openSync(devNull, 'r'));
    return '';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'EMFILE' && code !== 'ENFILE') return '';
    const limit = code === 'EMFILE' ? "this process's (`ulimit -n`)" : "the system's";
    return ` (no file descriptor left: ${String(code)}, ${limit} limit reached; raise it, or open fewer stores or files at once)`;
  }
}

/** Hard links of the regular file at `path`; 1 for anything else (a failed stat included). */
function linksOf(path: string): number {
  if (isMemoryPath(path)) return 1;
  try {
    const s = statSync(path);
    return s.isFile() ? s.nlink : 1;
  } catch {
    return 1;
  }
}

/** Refuses a read-only open of a database file that does not exist (SQLite would fail anyway, less clearly). */
export async function assertDatabaseFileExists(path: string): Promise<void> {
  if (isMemoryPath(path)) {
    throw new StoreNotFoundError('sqlite', path, 'a new in-memory database is always empty');
  }
  try {
    if ((await stat(path)).isFile()) return;
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code !== 'ENOENT' &&
      (error as NodeJS.ErrnoException).code !== 'ENOTDIR'
    ) {
      throw toStorageError(error, 'open database', path);
    }
    throw new StoreNotFoundError('sqlite', path, 'no such file');
  }
  throw new StoreNotFoundError('sqlite', path, 'not a file');
}
