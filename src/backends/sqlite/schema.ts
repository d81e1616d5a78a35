/**
 * The database schema: the Python reference's tables and indexes, unchanged so
 * one database file works from both sides, plus a schema version kept in
 * `PRAGMA user_version` so later versions of this library can upgrade files in place.
 */
import { ConfigError, CorruptDataError, type JsonValue, StoreNotFoundError } from '../../core/index.js';
import type { SqliteConnection, Transaction } from './connection.js';
import { OTHER_FORMAT } from './sql.js';

/**
 * The schema version this library writes and understands.
 * 1: the reference's tables and indexes. 2: adds {@link LIBRARY_INDEXES}.
 */
export const SQLITE_SCHEMA_VERSION = 2;

/**
 * The reference's CREATE statements, names and clauses included (its own text, modulo
 * whitespace). The foreign keys are declared but never enforced: the reference stores raw
 * messages, memories and chunk info for conversations that do not exist yet.
 */
export const REFERENCE_TABLES: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS raw_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    message_data TEXT NOT NULL,
    message_index INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (conversation_id) REFERENCES conversations (conversation_id)
  )`,
  `CREATE TABLE IF NOT EXISTS memories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    memory_data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (conversation_id) REFERENCES conversations (conversation_id),
    UNIQUE (conversation_id, memory_id)
  )`,
  `CREATE TABLE IF NOT EXISTS reasoning_chains (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    chain_data TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS chunk_info (
    conversation_id TEXT PRIMARY KEY,
    chunk_data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    FOREIGN KEY (conversation_id) REFERENCES conversations (conversation_id)
  )`,
  `CREATE TABLE IF NOT EXISTS cache_entries (
    cache_key TEXT PRIMARY KEY,
    cache_data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT
  )`,
  `CREATE TABLE IF NOT EXISTS system_state (
    state_key TEXT PRIMARY KEY,
    state_data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`,
];

/** The reference's indexes, same names. */
export const REFERENCE_INDEXES: readonly string[] = [
  'CREATE INDEX IF NOT EXISTS idx_raw_messages_conversation ON raw_messages (conversation_id, message_index)',
  'CREATE INDEX IF NOT EXISTS idx_memories_conversation ON memories (conversation_id, created_at)',
  'CREATE INDEX IF NOT EXISTS idx_reasoning_chains_agent ON reasoning_chains (agent_id, created_at)',
  'CREATE INDEX IF NOT EXISTS idx_cache_entries_expires ON cache_entries (expires_at)',
];

/**
 * Indexes this library adds to the reference schema. Extra indexes are invisible to the
 * reference (it names its own, and SQLite maintains ours on its inserts), so a file stays
 * usable from both sides.
 * - `(agent_id, id)` serves "the last N chains" in insertion order: the reference's
 *   `(agent_id, created_at)` index is in timestamp order, which differs when callers bring
 *   their own `stored_at` (D8), so without it SQLite read and sorted every chain of the
 *   agent (17 ms instead of 0.1 ms for the last 5 of 45,000).
 * - A partial index of the cache rows whose expiry is not in the canonical format (see
 *   `sql.ts`), usually empty: listing, stats and purge find those rows without a scan.
 */
export const LIBRARY_INDEXES: readonly string[] = [
  'CREATE INDEX IF NOT EXISTS idx_reasoning_chains_agent_order ON reasoning_chains (agent_id, id)',
  `CREATE INDEX IF NOT EXISTS idx_cache_entries_other_expiry ON cache_entries (expires_at, cache_key)
    WHERE ${OTHER_FORMAT}`,
];

/** Columns every table must have; a table that lacks one is not a connectome table. */
const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  conversations: ['conversation_id', 'data', 'created_at', 'updated_at'],
  raw_messages: ['id', 'conversation_id', 'message_data', 'message_index', 'created_at'],
  memories: ['id', 'conversation_id', 'memory_id', 'memory_data', 'created_at'],
  reasoning_chains: ['id', 'agent_id', 'chain_data', 'created_at'],
  chunk_info: ['conversation_id', 'chunk_data', 'created_at', 'updated_at'],
  cache_entries: ['cache_key', 'cache_data', 'created_at', 'expires_at'],
  system_state: ['state_key', 'state_data', 'created_at', 'updated_at'],
};

async function userVersion(tx: Transaction): Promise<number> {
  const rows = await tx.all<{ user_version: number }>('PRAGMA user_version');
  return rows[0]?.user_version ?? 0;
}

/**
 * `MIGRATIONS[v]` upgrades a file from version `v` to `v + 1`. Version 0 is a new file or
 * one the reference created (it never sets `user_version`): creating what is missing
 * adopts it without touching its rows. Existing tables are checked before the indexes are
 * built on them, so a foreign table is reported for what it is.
 */
const MIGRATIONS: ReadonlyArray<(tx: Transaction, dbPath: string) => Promise<void>> = [
  async (tx, dbPath) => {
    for (const sql of REFERENCE_TABLES) await tx.exec(sql);
    await checkColumns(tx, dbPath);
    for (const sql of REFERENCE_INDEXES) await tx.exec(sql);
  },
  async (tx) => {
    for (const sql of LIBRARY_INDEXES) await tx.exec(sql);
  },
];

function refuseNewer(version: number, dbPath: string): never {
  throw new ConfigError(
    `SQLite database ${dbPath} has schema version ${version}, newer than this library supports ` +
      `(${SQLITE_SCHEMA_VERSION}); upgrade connectome-storage or use another dbPath`,
    'dbPath',
  );
}

async function checkColumns(tx: Transaction, dbPath: string): Promise<void> {
  for (const [table, required] of Object.entries(REQUIRED_COLUMNS)) {
    const rows = await tx.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [table]);
    const present = new Set(rows.map((r) => r.name));
    const missing = required.filter((c) => !present.has(c));
    if (missing.length > 0) {
      throw new CorruptDataError(
        `${dbPath} table ${table}`,
        `missing column(s) ${missing.join(', ')}; not a connectome storage database`,
      );
    }
  }
}

/**
 * Creates or upgrades the schema to {@link SQLITE_SCHEMA_VERSION}; refuses a file written
 * by a newer version. Safe when several processes open one new file at once: the upgrade
 * runs in a write transaction and re-reads the version inside it.
 */
export async function ensureSchema(connection: SqliteConnection): Promise<void> {
  const seen = await connection.exclusive('read schema version', userVersion);
  if (seen > SQLITE_SCHEMA_VERSION) refuseNewer(seen, connection.path);
  if (seen === SQLITE_SCHEMA_VERSION) return;
  await connection.transaction('upgrade schema', async (tx) => {
    const version = await userVersion(tx);
    if (version > SQLITE_SCHEMA_VERSION) refuseNewer(version, connection.path);
    for (let v = version; v < SQLITE_SCHEMA_VERSION; v += 1) await MIGRATIONS[v]?.(tx, connection.path);
    // PRAGMA takes no bound parameters; the value is our own integer constant.
    await tx.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`);
  });
}

/**
 * What a read-only open found, without changing anything: the file's schema version. Refuses
 * a file without a `conversations` table (not a store: {@link StoreNotFoundError}), one whose
 * tables lack columns, and a newer version. An older version (a reference database is 0)
 * opens: its tables are the reference's, so reads work; it needs an upgrade to get our indexes.
 */
export async function inspectSchemaReadOnly(connection: SqliteConnection): Promise<number> {
  return connection.exclusive('read schema', async (q) => {
    const tables = await q.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'conversations'",
    );
    if (tables.length === 0) {
      throw new StoreNotFoundError('sqlite', connection.path, 'the database has no conversations table');
    }
    const version = await userVersion(q);
    if (version > SQLITE_SCHEMA_VERSION) refuseNewer(version, connection.path);
    await checkColumns(q, connection.path);
    return version;
  });
}

/** The schema version keys health and stats report (`needs_upgrade` when older than ours). */
export function schemaVersionDetails(version: number): Record<string, JsonValue> {
  return {
    schema_version: version,
    supported_schema_version: SQLITE_SCHEMA_VERSION,
    needs_upgrade: version < SQLITE_SCHEMA_VERSION,
  };
}
