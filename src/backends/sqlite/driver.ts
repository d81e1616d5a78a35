/**
 * Lazy loading of the `sqlite3` driver and its `sqlite` promise wrapper, so the rest of
 * the library loads (and other backends work) when the native driver is not installed
 * or failed to build.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Database } from 'sqlite';
import type * as Sqlite3 from 'sqlite3';
import { BackendUnavailableError } from '../../core/index.js';

/** An open database handle of the `sqlite` wrapper over a `sqlite3` connection. */
export type SqliteDatabase = Database<Sqlite3.Database, Sqlite3.Statement>;

/** A prepared statement of {@link SqliteDatabase}. */
export type SqliteStatement = Awaited<ReturnType<SqliteDatabase['prepare']>>;

/** Packages the SQLite backend needs, as a user would install them. */
export const SQLITE_PACKAGES = 'sqlite3 sqlite';

/** Opens a database file with the loaded driver; `readOnly` opens an existing file without write access. */
export type OpenDatabase = (filename: string, readOnly: boolean) => Promise<SqliteDatabase>;

let cachedInstalled: boolean | undefined;

/**
 * Tells synchronously whether the `sqlite3` driver (with its native binding) and the
 * `sqlite` wrapper can be loaded. Used by the factory to report the backend as available.
 */
export function isSqliteDriverInstalled(): boolean {
  if (cachedInstalled !== undefined) return cachedInstalled;
  // The CommonJS build has `require`; the ES build has neither `require` nor (by project
  // rule) `import.meta`, so it resolves from the working directory instead.
  const req = typeof require === 'function' ? require : createRequire(join(process.cwd(), 'package.json'));
  try {
    // Loading (not just resolving) sqlite3 also proves its native binding was built.
    req('sqlite3');
    req.resolve('sqlite');
    cachedInstalled = true;
  } catch {
    cachedInstalled = false;
  }
  return cachedInstalled;
}

/**
 * Loads the driver. Rejects with {@link BackendUnavailableError} naming the packages to
 * install when either cannot be loaded.
 */
export async function loadSqliteDriver(): Promise<OpenDatabase> {
  try {
    // sqlite3 is CommonJS: an ES import exposes it as `default`, the CommonJS build as
    // the namespace itself.
    const driverModule = (await import('sqlite3')) as typeof Sqlite3 & { default?: typeof Sqlite3 };
    const sqlite3 = driverModule.default ?? driverModule;
    const { open } = await import('sqlite');
    return (filename, readOnly) =>
      readOnly
        ? open({ filename, driver: sqlite3.Database, mode: sqlite3.OPEN_READONLY })
        : open({ filename, driver: sqlite3.Database });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackendUnavailableError(
      `SQLite backend unavailable: the sqlite3 driver could not be loaded (${reason}). ` +
        `Install it with: npm install ${SQLITE_PACKAGES} (installed already, with its native ` +
        `binding never built, as by npm install --ignore-scripts: npm rebuild sqlite3)`,
      error,
    );
  }
}
