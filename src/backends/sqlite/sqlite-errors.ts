/**
 * SQLite driver errors as the library's typed errors, and the checks made before opening a file.
 */
import { stat } from 'node:fs/promises';
import {
  BackendUnavailableError,
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

/** Wraps a driver error in the library's typed errors, naming what was being done and the file. */
export function toStorageError(error: unknown, what: string, dbPath: string): StorageError {
  if (error instanceof StorageError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  switch (sqliteCode(error)) {
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
        `SQLite database ${dbPath} cannot be opened (${what}): ${reason}`,
        error,
      );
    }
    // Another connection kept its lock past `connectionTimeout`: the database is there but
    // not available right now, the same kind of failure as a Redis or PostgreSQL timeout,
    // so callers can retry on one error class whatever the backend.
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new BackendUnavailableError(`SQLite ${what} failed on ${dbPath}: ${reason}`, error);
    default:
      return new StorageError(`SQLite ${what} failed on ${dbPath}: ${withFullDisk(reason, error, dbPath)}`, {
        cause: error,
      });
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
