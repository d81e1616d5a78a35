/**
 * Shared helpers of the SQLite backend tests: temp dirs, a copy of the Python reference
 * database, and raw access to a database file through the driver (to inspect or tamper
 * with rows the way another program would).
 */
import { chmod, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { FIXTURE_DB } from '../support/reference-fixture.js';

export { referenceExpectations } from '../support/reference-fixture.js';
export { useTempDir } from '../support/temp-dir.js';

/**
 * Opens SQLite stores for the tests of a `describe` (options over `dbPath`); each is shut down
 * after its test.
 */
export function useSqliteStores(): (
  dbPath: string,
  extra?: Record<string, unknown>,
) => Promise<SQLiteStorage> {
  const opened: SQLiteStorage[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.shutdown();
  });
  return async (dbPath, extra = {}) => {
    const s = new SQLiteStorage({ dbPath, ...extra });
    opened.push(s);
    await s.initialize();
    return s;
  };
}

/** Copies the reference database (its WAL is empty, so the main file is the whole database). */
export async function copyReferenceDb(dir: string): Promise<string> {
  const target = join(dir, 'connectome.db');
  await copyFile(FIXTURE_DB, target);
  // The fixture is read-only and copyFile keeps the mode.
  await chmod(target, 0o644);
  return target;
}

/** A row as the driver returns it. */
export type Row = Record<string, string | number | null>;

/** Runs statements on a database file through its own connection, then closes it. */
export async function withRawDb<T>(dbPath: string, fn: (db: RawDb) => Promise<T>): Promise<T> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(dbPath, (error) => (error ? reject(error) : resolve(handle)));
  });
  try {
    return await fn(new RawDb(db));
  } finally {
    await new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())));
  }
}

/** Promise wrapper over a raw driver connection. */
export class RawDb {
  constructor(private readonly db: sqlite3.Database) {}

  /** Every row of a query. */
  all(sql: string, params: Array<string | number | null> = []): Promise<Row[]> {
    return new Promise((resolve, reject) =>
      this.db.all(sql, params, (error, rows: Row[]) => (error ? reject(error) : resolve(rows))),
    );
  }

  /** Runs one statement. */
  run(sql: string, params: Array<string | number | null> = []): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** `sqlite_master` entries (type, name, SQL with whitespace collapsed), internal ones excluded. */
  async schema(): Promise<Array<{ type: string; name: string; sql: string | null }>> {
    const rows = await this.all(
      "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    );
    return rows.map((r) => ({
      type: String(r.type),
      name: String(r.name),
      sql: typeof r.sql === 'string' ? r.sql.replace(/\s+/g, ' ').trim() : null,
    }));
  }
}

/** The reference's tables: one per record kind. */
export { RECORD_KINDS as REFERENCE_TABLE_NAMES } from '../../src/core/index.js';

/** The `ISO 8601 UTC, microseconds, +00:00` form the reference writes. */
export const REFERENCE_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
