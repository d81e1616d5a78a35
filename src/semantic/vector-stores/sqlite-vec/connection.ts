/**
 * Opens a `sqlite3` connection with the `sqlite-vec` extension loaded. Both packages load
 * lazily, so the rest of the library works when either is missing.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BackendUnavailableError } from '../../../core/errors.js';
import { assertSingleLink, isMemoryPath, toStorageError } from '../../../backends/sqlite/sqlite-errors.js';
import { loadSqliteDriver, type SqliteDatabase } from '../../../backends/sqlite/driver.js';

/** Packages the sqlite-vec store needs, as a user would install them. */
export const SQLITE_VEC_PACKAGES = 'sqlite-vec sqlite3 sqlite';

/** Path of the `vec0` loadable extension shipped by the `sqlite-vec` package for this platform. */
async function extensionPath(): Promise<string> {
  try {
    const module = (await import('sqlite-vec')) as {
      getLoadablePath?: () => string;
      default?: { getLoadablePath: () => string };
    };
    const getLoadablePath = module.getLoadablePath ?? module.default?.getLoadablePath;
    if (getLoadablePath === undefined) throw new Error('sqlite-vec exports no getLoadablePath()');
    return getLoadablePath();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackendUnavailableError(
      `sqlite-vec vector store unavailable: the sqlite-vec extension could not be found (${reason}). ` +
        `Install it with: npm install ${SQLITE_VEC_PACKAGES}`,
      error,
    );
  }
}

/**
 * Bytes of the database file read through a memory map (`PRAGMA mmap_size`). A `vec0` query
 * scans every vector chunk; through the pager that is one `pread` per page, 25,000 per query
 * at 100,000 × 256 dimensions, which made it 2-4x slower than the scan itself. Address space
 * only: the pages are the operating system's file cache, shared, not copied.
 */
export const VECTOR_MMAP_BYTES = 1024 ** 3;

/**
 * Opens `path` (creating its folder), loads `vec0`, and sets WAL, the busy timeout, full sync and
 * the memory map. `readOnly` opens an existing file without write access and changes nothing
 * (no folder, no journal mode: a reader of a WAL database still reads beside its writer).
 */
export async function openVectorDatabase(
  path: string,
  busyTimeoutMs: number,
  readOnly = false,
): Promise<SqliteDatabase> {
  const open = await loadSqliteDriver();
  const file = isMemoryPath(path) ? path : resolve(path);
  // A file of several names would get a log per name (see assertSingleLink), before any write.
  await assertSingleLink(file, 'path');
  let db: SqliteDatabase | undefined;
  try {
    if (!isMemoryPath(path) && !readOnly) await mkdir(dirname(file), { recursive: true });
    db = await open(file, readOnly);
    db.configure('busyTimeout', busyTimeoutMs);
    await db.loadExtension(await extensionPath());
    if (!isMemoryPath(path)) {
      if (!readOnly) await db.exec('PRAGMA journal_mode = WAL');
      await db.exec(`PRAGMA mmap_size = ${VECTOR_MMAP_BYTES}`);
    }
    await db.exec('PRAGMA synchronous = FULL');
    return db;
  } catch (error) {
    await db?.close().catch(() => undefined);
    throw toStorageError(error, 'open vector database', path, 'path');
  }
}
