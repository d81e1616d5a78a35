/**
 * Shared helpers of the SQLite backend tests: temp dirs, a copy of the Python reference
 * database, and raw access to a database file through the driver (to inspect or tamper
 * with rows the way another program would).
 */
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import type { JsonObject, JsonValue } from '../../src/core/index.js';

/** Folder of the fixtures written by the Python reference. */
export const REFERENCE_DIR = join(__dirname, '..', 'fixtures', 'python-reference', 'sample');

/** What the reference stored and what its SQLite backend returned (`expected.json`). */
export interface ReferenceExpectations {
  inputs: {
    conversations: Record<string, JsonObject>;
    raw_messages: Record<string, JsonValue[]>;
    memories: Record<string, Array<{ memory_id: string; memory_data: JsonObject }>>;
    chunk_info: Record<string, JsonObject>;
    reasoning_chains: Record<string, JsonObject[]>;
    cache: Array<{ key: string; data: JsonObject; ttl: number | null }>;
    system_state: Record<string, JsonObject>;
  };
  sqlite: {
    list_conversations: string[];
    conversations: Record<string, JsonObject | null>;
    raw_messages: Record<string, JsonValue[]>;
    memories: Record<string, JsonObject[]>;
    chunk_info: Record<string, JsonObject | null>;
    reasoning_chains: Record<string, JsonObject[]>;
    reasoning_chains_last2: Record<string, JsonObject[]>;
    cache: Record<string, JsonObject | null>;
    system_state: Record<string, JsonObject | null>;
    stats: Record<string, number>;
  };
}

/** Loads `expected.json`. */
export function referenceExpectations(): ReferenceExpectations {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(REFERENCE_DIR, 'expected.json')) as ReferenceExpectations;
}

/** Registers a fresh temp dir per test (removed afterwards); call the result inside a test. */
export function useTempDir(): () => string {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connectome-sqlite-test-'));
  });
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (dir === undefined) throw new Error('temp dir used outside a test');
    return dir;
  };
}

/** Copies the reference database (its WAL is empty, so the main file is the whole database). */
export async function copyReferenceDb(dir: string): Promise<string> {
  const target = join(dir, 'connectome.db');
  await copyFile(join(REFERENCE_DIR, 'connectome.db'), target);
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

/** The reference's tables. */
export const REFERENCE_TABLE_NAMES = [
  'conversations',
  'raw_messages',
  'memories',
  'reasoning_chains',
  'chunk_info',
  'cache_entries',
  'system_state',
] as const;

/** The `ISO 8601 UTC, microseconds, +00:00` form the reference writes. */
export const REFERENCE_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
