/**
 * One SQLite connection shared by every caller of a storage instance. The `sqlite3`
 * driver runs statements from many async callers on one connection, so without care one
 * caller's statements land inside another's transaction ("cannot start a transaction
 * within a transaction", or a rollback that undoes someone else's write). Here every use
 * of the connection, read or write, runs alone behind a mutex. Connections of this process on
 * one file also take turns for writes (file-locks.ts), so none waits in SQLite for another.
 */
import { dirname, resolve } from 'node:path';
import { BackendUnavailableError, KeyedMutex, StorageError } from '../../core/index.js';
import type { ResolvedSQLiteConfig } from './config.js';
import type * as Sqlite3 from 'sqlite3';
import { makeDirs } from '../make-dirs.js';
import { ioReason } from '../io-reason.js';
import { withFullDisk } from './full-disk.js';
import { fileIdentityOf, type FileIdentity } from './file-identity.js';
import { FileWriteLock } from './file-locks.js';
import {
  assertDatabaseFileExists,
  assertSingleLink,
  descriptorNote,
  isBusy,
  isMemoryPath,
  toStorageError,
} from './sqlite-errors.js';
import { loadSqliteDriver, type SqliteDatabase, type SqliteStatement } from './driver.js';

/** A bindable SQL parameter. */
export type SqlParam = string | number | null | Uint8Array;

const NO_PARAMS: readonly SqlParam[] = Object.freeze([]);

/**
 * What a use of the connection may do: `write` (or, without WAL, anything that may wait for
 * another connection's lock) takes the file's write lock when other connections of this
 * process have the file open; `read` does not need it under WAL, where readers wait for nobody.
 */
export type Access = 'read' | 'write';

/** Statements run while holding the connection. */
export interface Transaction {
  /** Runs a query (prepared once, then reused) and returns every row. */
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** Runs a write (prepared once, then reused) and returns the number of changed rows. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /** Runs constant SQL without parameters (DDL, PRAGMA, BEGIN/COMMIT). */
  exec(sql: string): Promise<void>;
}

/** Runs a prepared write; resolves with the number of rows it changed. */
function runStatement(stmt: Sqlite3.Statement, bind: SqlParam[]): Promise<number> {
  return new Promise((resolve, reject) => {
    stmt.run(bind, function (this: Sqlite3.RunResult, error: Error | null) {
      if (error) reject(error);
      else resolve(this.changes ?? 0);
    });
  });
}

/** Runs a prepared query; resolves with every row. */
function allRows<T>(stmt: Sqlite3.Statement, bind: SqlParam[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    stmt.all(bind, (error: Error | null, rows: T[]) => (error ? reject(error) : resolve(rows)));
  });
}

/** A shared connection whose users never interleave. */
export class SqliteConnection {
  private readonly lock = new KeyedMutex();
  /** Prepared statements by SQL text: the wrapper's (to finalize) and the driver's own (to run). */
  private readonly statements = new Map<string, SqliteStatement>();
  private readonly native = new Map<string, Sqlite3.Statement>();
  private closed = false;
  /**
   * The device and inode of the file opened (`null` for `:memory:`): health and stats tell by
   * them whether the path still names it (see file-identity.ts).
   */
  private opened: FileIdentity | null = null;
  /** The write lock of the file, shared with this process's other connections on it (`null` for `:memory:`). */
  private file: FileWriteLock | null = null;
  /** Whether the file is known to be in WAL mode, where reads need no write lock. */
  private wal = false;
  // Every statement goes through here, so a prepared one runs on the driver's own statement
  // with one promise, not through the `sqlite` wrapper's promise and result object. The driver
  // only reads the parameter array, so the caller's (readonly) array is passed as is.
  private readonly queries: Transaction = {
    all: <T>(sql: string, params: readonly SqlParam[] = NO_PARAMS) => {
      const prepared = this.native.get(sql);
      const bind = params as SqlParam[];
      if (prepared !== undefined) return allRows<T>(prepared, bind);
      return this.prepare(sql).then((stmt) => allRows<T>(stmt, bind));
    },
    run: (sql, params = NO_PARAMS) => {
      const prepared = this.native.get(sql);
      const bind = params as SqlParam[];
      if (prepared !== undefined) return runStatement(prepared, bind);
      return this.prepare(sql).then((stmt) => runStatement(stmt, bind));
    },
    exec: (sql) => this.db.exec(sql),
  };

  private constructor(
    private readonly db: SqliteDatabase,
    /** Absolute database path, or `:memory:`. */
    readonly path: string,
  ) {}

  /**
   * Opens the database (creating its folder), sets the busy timeout and durability; WAL is
   * {@link enableWal}'s, once the file is known to be ours. With `readOnly`, opens an existing
   * file with `OPEN_READONLY` and changes nothing (a missing file is a {@link StoreNotFoundError}).
   */
  static async open(config: ResolvedSQLiteConfig): Promise<SqliteConnection> {
    const open = await loadSqliteDriver();
    const path = isMemoryPath(config.dbPath) ? config.dbPath : resolve(config.dbPath);
    if (config.readOnly) await assertDatabaseFileExists(path);
    await assertSingleLink(path, 'dbPath');
    if (!isMemoryPath(path) && !config.readOnly) {
      try {
        await makeDirs(dirname(path));
      } catch (error) {
        // Node's words, without its copy of the path or (from Node's realm) an "Error:" prefix.
        throw new BackendUnavailableError(
          `SQLite database ${path} cannot be opened: ${ioReason(error, true)}`,
          error,
        );
      }
    }
    let db: SqliteDatabase;
    try {
      db = await open(path, config.readOnly);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BackendUnavailableError(
        `SQLite database ${path} cannot be opened: ${withFullDisk(reason, error, path)}${descriptorNote(error)}`,
        error,
      );
    }
    const connection = new SqliteConnection(db, path);
    // SQLite has created or opened the file by now; recorded before any statement of ours runs.
    connection.opened = fileIdentityOf(path);
    // Looked up once here, not per call: the hot path reads only `shared` on the lock.
    if (connection.opened !== null) connection.file = FileWriteLock.join(connection.opened);
    try {
      // Another process holding the write lock makes us wait up to the timeout instead of
      // failing at once with SQLITE_BUSY (the driver's own default is 1 s).
      db.configure('busyTimeout', Math.round(config.connectionTimeout * 1000));
      // FULL: an acknowledged commit survives power loss, not only a process crash. A
      // connection setting: the file is not changed.
      if (!config.readOnly) {
        await connection.exclusive('configure connection', (q) => q.exec('PRAGMA synchronous = FULL'));
      }
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw toStorageError(error, 'configure connection', path);
    }
    return connection;
  }

  /**
   * Switches the file to WAL (on disk; `:memory:` has none). A property of the file (its header,
   * and `-wal`/`-shm` files beside it), so the store calls it only after the schema check
   * accepted the file: a database it refuses (a newer version's, another program's) keeps its
   * journal mode.
   */
  async enableWal(timeoutMs: number): Promise<void> {
    if (isMemoryPath(this.path)) return;
    // Two processes opening a new file at once: the switch needs the file to itself, and SQLite
    // may answer SQLITE_BUSY at once instead of waiting its busy timeout (it does not wait where
    // waiting could deadlock), so the switch is tried again, for at most `timeoutMs` in all
    // (the store's `connectionTimeout`). Seen in CI: test/sqlite/cross-process.test.ts.
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const [row] = await this.exclusive('switch to WAL', (q) =>
          q.all<{ journal_mode: string }>('PRAGMA journal_mode = WAL'),
        );
        // SQLite answers with the mode the file is in after the switch.
        this.wal = row?.journal_mode.toLowerCase() === 'wal';
        return;
      } catch (error) {
        const busy = error instanceof BackendUnavailableError && isBusy(error.cause);
        if (!busy || Date.now() >= deadline) throw error;
        const waitMs = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /** The device and inode of the database file as opened; `null` for `:memory:`. */
  get openedFile(): FileIdentity | null {
    return this.opened;
  }

  /**
   * Runs `fn` with the connection to itself; each statement commits on its own. With `write`
   * access (the default) it also has the file to itself among this process's connections.
   */
  exclusive<T>(what: string, fn: (q: Transaction) => Promise<T>, access: Access = 'write'): Promise<T> {
    return this.lock.run('', () => {
      const file = this.file;
      // Alone on the file (the usual case) the turns cost nothing. A call waiting here holds
      // only its own connection's queue, and a call holding the file's lock waits for no other
      // lock of this process, so the two locks cannot deadlock.
      if (file === null || !file.shared || (access === 'read' && this.wal)) return this.runAlone(what, fn);
      return file.run(() => this.runAlone(what, fn));
    });
  }

  /**
   * Runs `fn` in one write transaction, alone on the connection. `BEGIN IMMEDIATE` takes
   * the write lock up front: in WAL mode a deferred transaction that reads and then writes
   * can fail with SQLITE_BUSY without waiting for the busy timeout. `read` runs a read
   * transaction instead (`BEGIN`, no write lock): its reads see one state (in WAL mode, the
   * snapshot of its first read), whatever other connections commit meanwhile.
   */
  async transaction<T>(what: string, fn: (q: Transaction) => Promise<T>, read = false): Promise<T> {
    return this.exclusive(
      what,
      async (q) => {
        await q.exec(read ? 'BEGIN' : 'BEGIN IMMEDIATE');
        try {
          const result = await fn(q);
          await q.exec('COMMIT');
          return result;
        } catch (error) {
          // Some errors (disk full, I/O) already rolled back; a second rollback then fails
          // harmlessly, and the original error is the one worth reporting.
          await q.exec('ROLLBACK').catch(() => undefined);
          throw error;
        }
      },
      read ? 'read' : 'write',
    );
  }

  /**
   * Runs `fn` in a write transaction that is always rolled back: for work that needs
   * uncommitted changes only while it runs (a query over entries moved into the index just for
   * it). Nothing reaches the file, so it costs no commit.
   */
  async scratch<T>(what: string, fn: (q: Transaction) => Promise<T>): Promise<T> {
    return this.exclusive(what, async (q) => {
      await q.exec('BEGIN IMMEDIATE');
      try {
        return await fn(q);
      } finally {
        await q.exec('ROLLBACK').catch(() => undefined);
      }
    });
  }

  /** Runs one query alone on the connection. */
  all<T>(what: string, sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.exclusive(what, (q) => q.all<T>(sql, params), 'read');
  }

  /** Runs one write statement (atomic on its own) alone on the connection; returns changed rows. */
  run(what: string, sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return this.exclusive(what, (q) => q.run(sql, params));
  }

  /**
   * Calls `listener` with the SQL of every statement SQLite starts on this connection (tests
   * count statements with it); returns the function that stops it.
   */
  traceStatements(listener: (sql: string) => void): () => void {
    const native = this.db.getDatabaseInstance();
    native.on('trace', listener);
    return () => native.off('trace', listener);
  }

  /** Finalizes every prepared statement (SQLite refuses to close otherwise) and closes. */
  async close(): Promise<void> {
    await this.lock.run('', async () => {
      if (this.closed) return;
      this.closed = true;
      this.file?.leave();
      this.file = null;
      const statements = [...this.statements.values()];
      this.statements.clear();
      this.native.clear();
      await Promise.allSettled(statements.map((s) => s.finalize()));
      await this.db.close();
    });
  }

  /** Runs `fn` on the connection, its failure a {@link StorageError} naming `what` and the file. */
  private async runAlone<T>(what: string, fn: (q: Transaction) => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageError(`SQLite ${what} failed on ${this.path}: connection is closed`);
    try {
      return await fn(this.queries);
    } catch (error) {
      throw toStorageError(error, what, this.path);
    }
  }

  /** Prepares `sql` once; later calls reuse the statement. */
  private async prepare(sql: string): Promise<Sqlite3.Statement> {
    const stmt = await this.db.prepare(sql);
    const native = stmt.getStatementInstance();
    this.statements.set(sql, stmt);
    this.native.set(sql, native);
    return native;
  }
}
