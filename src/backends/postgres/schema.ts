/**
 * The tables of the PostgreSQL backend, in the configured schema (created if missing), with a
 * schema version kept in its `storage_meta` table so later versions of this library can
 * upgrade in place and older ones refuse what they do not understand.
 *
 * The tables mean what the reference SQLite tables mean; there is no reference
 * PostgreSQL schema to stay compatible with, so the layout serves this backend: JSON as
 * `text` (exact, unlike `jsonb`), `bigserial` ids for insertion order, `timestamptz` expiry.
 */
import {
  ConfigError,
  CorruptDataError,
  RECORD_KINDS,
  StoreNeedsUpgradeError,
  StoreNotFoundError,
} from '../../core/index.js';
import type { PostgresConnection, Queryable } from './connection.js';
import { POSTGRES_SCHEMA_VERSION } from './schema-version.js';
import { refuseMissingDdlRights } from './schema-privileges.js';
import { searchSchemaVersion2 } from './search-schema.js';
import { schemaVersion3 } from './schema-v3.js';
import { schemaVersion4 } from './schema-v4.js';
import { schemaVersion5 } from './schema-v5.js';
import { schemaVersion6 } from './schema-v6.js';
import { dormantMachineryDdl, lockSchemaChanges, schemaVersion7 } from './schema-v7.js';
import { schemaVersion8 } from './schema-v8.js';
import { quoteIdent } from './sql.js';

export { POSTGRES_SCHEMA_VERSION };

/** The tables a store owns (besides `storage_meta`): one per record kind. */
export const POSTGRES_TABLES = RECORD_KINDS;

/** Version 1: every table and index, for a schema that has none of them yet. */
function version1(s: string): string[] {
  return [
    `CREATE TABLE ${s}.conversations (
      conversation_id text PRIMARY KEY,
      data text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE ${s}.raw_messages (
      conversation_id text NOT NULL,
      message_index integer NOT NULL,
      message_data text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (conversation_id, message_index)
    )`,
    // A replace updates its row, so `id` keeps the memory's first position; `created_at`
    // holds the record's created_at as JSON text (the caller may store any JSON value there),
    // `memory_data` the rest of the record.
    `CREATE TABLE ${s}.memories (
      id bigserial PRIMARY KEY,
      conversation_id text NOT NULL,
      memory_id text NOT NULL,
      created_at text NOT NULL,
      memory_data text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (conversation_id, memory_id)
    )`,
    `CREATE INDEX memories_conversation_order ON ${s}.memories (conversation_id, id)`,
    // `chain_data` is the whole record, stored_at included.
    `CREATE TABLE ${s}.reasoning_chains (
      id bigserial PRIMARY KEY,
      agent_id text NOT NULL,
      chain_data text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX reasoning_chains_agent_order ON ${s}.reasoning_chains (agent_id, id)`,
    `CREATE TABLE ${s}.chunk_info (
      conversation_id text PRIMARY KEY,
      chunk_data text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    // The timestamps as the core built them (loads return them unchanged), and the expiry
    // as an instant for the indexed purge.
    `CREATE TABLE ${s}.cache_entries (
      cache_key text PRIMARY KEY,
      cache_data text NOT NULL,
      stored_at text NOT NULL,
      expires_at_text text,
      expires_at timestamptz,
      CHECK ((expires_at IS NULL) = (expires_at_text IS NULL))
    )`,
    `CREATE INDEX cache_entries_expires_at ON ${s}.cache_entries (expires_at) WHERE expires_at IS NOT NULL`,
    `CREATE TABLE ${s}.system_state (
      state_key text PRIMARY KEY,
      state_data text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}

/** `MIGRATIONS[v]` upgrades a schema from version `v` to `v + 1`. */
const MIGRATIONS: ReadonlyArray<(s: string) => string[]> = [
  version1,
  searchSchemaVersion2,
  schemaVersion3,
  schemaVersion4,
  schemaVersion5,
  schemaVersion6,
  schemaVersion7,
  schemaVersion8,
];

/**
 * The DDL that upgrades the schema `s` (quoted) from version `from` to `from + 1` (empty past
 * the last version); tests build older schemas with it.
 */
export function migrationDdl(from: number, s: string): string[] {
  return MIGRATIONS[from]?.(s) ?? [];
}

/** Reads the schema version without creating anything: 0 when the schema or its meta table is missing. */
async function readVersion(
  q: Queryable,
  schema: string,
  { lock = false, writableAt }: { lock?: boolean; writableAt?: string } = {},
): Promise<number> {
  // A query on the catalog tables, not to_regclass(): it reads with this statement's snapshot,
  // while to_regclass() may answer from this connection's cache, which still says "missing"
  // after another process created the schema while we waited for the lock.
  const [exists] = await q.rows<{ present: boolean; isolation: string }>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = 'storage_meta') AS present,
      current_setting('transaction_isolation') AS isolation`,
    [schema],
  );
  // A writable open's first read (`writableAt`: where the store is): reads alone need no lock.
  if (writableAt !== undefined && exists?.isolation !== 'read committed') {
    refuseIsolation(exists?.isolation ?? 'unknown', writableAt);
  }
  if (!exists?.present) return 0;
  const [row] = await q.rows<{ value: string }>(
    `SELECT value FROM ${quoteIdent(schema)}.storage_meta WHERE key = 'schema_version'${lock ? ' FOR UPDATE' : ''}`,
  );
  if (row === undefined) return 0;
  const version = Number(row.value);
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new CorruptDataError(
      `PostgreSQL table ${quoteIdent(schema)}.storage_meta`,
      `schema_version ${JSON.stringify(row.value)} is not a version number`,
    );
  }
  return version;
}

/**
 * Refuses sessions whose transactions do not run at READ COMMITTED (a role's or database's
 * `default_transaction_isolation`, a URL's `options`, a given pool's). The schema's functions
 * take a lock, then read with a snapshot taken after it, which READ COMMITTED alone gives each
 * statement: at REPEATABLE READ or SERIALIZABLE the whole call reads the snapshot from before
 * its wait, so a delete batch that waited for a memory batch left that batch's new rows in
 * place (until 2026-12-06), and writes that waited failed with serialization errors.
 */
function refuseIsolation(isolation: string, label: string): never {
  throw new ConfigError(
    `PostgreSQL sessions at ${label} run transactions at ${JSON.stringify(isolation)}; ` +
      `connectome-storage needs "read committed" (PostgreSQL's default): set it for the role ` +
      `the store connects as (ALTER ROLE name SET default_transaction_isolation = 'read committed') ` +
      `or in the URL (?options=-c%20default_transaction_isolation%3Dread%5C%20committed)`,
    'default_transaction_isolation',
  );
}

function refuseNewer(version: number, schema: string, label: string): never {
  throw new ConfigError(
    `PostgreSQL schema ${JSON.stringify(schema)} at ${label} has schema version ${version}, newer than ` +
      `this library supports (${POSTGRES_SCHEMA_VERSION}); upgrade connectome-storage or use another schema`,
    'schema',
  );
}

/** Refuses to adopt a schema whose tables were not created by this library. */
async function refuseForeignTables(q: Queryable, schema: string, label: string): Promise<void> {
  const rows = await q.rows<{ name: string }>(
    'SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND tablename = ANY($2::text[])',
    [schema, [...POSTGRES_TABLES, 'storage_meta', 'search_stats']],
  );
  if (rows.length === 0) return;
  throw new ConfigError(
    `PostgreSQL schema ${JSON.stringify(schema)} at ${label} already holds table(s) ` +
      `${rows.map((r) => r.name).join(', ')} that connectome-storage did not create; use another schema`,
    'schema',
  );
}

/**
 * Creates or upgrades the schema to {@link POSTGRES_SCHEMA_VERSION}; refuses one written by
 * a newer version. Safe when several processes open one new schema at once: the upgrade
 * runs in one transaction (DDL is transactional) under an advisory lock, and re-reads the
 * version inside it (the lock waits whatever the session's `lock_timeout`). An up-to-date schema is only read, so a role with DML rights only can
 * use a schema its owner prepared; one that would need DDL it may not run is refused with a
 * {@link ConfigError} naming the missing privileges before any DDL, and so are sessions whose
 * transactions do not run at READ COMMITTED (see `refuseIsolation`). A schema created with
 * `searchIndex: false` starts with its search machinery asleep (`schema-v7.ts`).
 */
export async function ensureSchema(
  db: PostgresConnection,
  schema: string,
  options: { searchIndex: boolean },
): Promise<void> {
  const seen = await db.transaction('read schema version', (q) =>
    readVersion(q, schema, { writableAt: db.label }),
  );
  if (seen > POSTGRES_SCHEMA_VERSION) refuseNewer(seen, schema, db.label);
  if (seen === POSTGRES_SCHEMA_VERSION) return;
  const s = quoteIdent(schema);
  // What the error of a failed step names (a server that refuses writes fails it at once): an
  // upgrade must not read as a missing schema.
  const what =
    seen === 0
      ? `create schema ${JSON.stringify(schema)}`
      : `upgrade schema ${JSON.stringify(schema)} from version ${seen} to ${POSTGRES_SCHEMA_VERSION}`;
  await db.transaction(what, async (q) => {
    await lockSchemaChanges(q, schema);
    // Read without FOR UPDATE first: a role without UPDATE rights (or without DDL rights, whose
    // missing privileges are named below) opens a schema that another process brought up to
    // date while this one waited for the lock.
    const current = await readVersion(q, schema);
    if (current > POSTGRES_SCHEMA_VERSION) refuseNewer(current, schema, db.label);
    if (current === POSTGRES_SCHEMA_VERSION) return;
    await refuseMissingDdlRights(q, schema, current, db.label);
    const version = await readVersion(q, schema, { lock: true });
    if (version > POSTGRES_SCHEMA_VERSION) refuseNewer(version, schema, db.label);
    if (version === POSTGRES_SCHEMA_VERSION) return;
    const [present] = await q.rows<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1',
      [schema],
    );
    if (version === 0) await refuseForeignTables(q, schema, db.label);
    const ddl: string[] = [];
    if (present?.n === 0) ddl.push(`CREATE SCHEMA ${s}`);
    if (version === 0) ddl.push(`CREATE TABLE ${s}.storage_meta (key text PRIMARY KEY, value text NOT NULL)`);
    for (let v = version; v < POSTGRES_SCHEMA_VERSION; v += 1) ddl.push(...migrationDdl(v, s));
    // A store created with the index off gets no search machinery until it needs it (schema-v7.ts).
    if (version === 0 && !options.searchIndex) ddl.push(...dormantMachineryDdl(s));
    ddl.push(
      `INSERT INTO ${s}.storage_meta (key, value) VALUES ('schema_version', '${POSTGRES_SCHEMA_VERSION}')
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
    );
    // One simple query (no parameters) of every statement: a new schema is ~100 statements,
    // and sent one by one each waits a round trip (a remote server's latency, ~100 times).
    await q.run(ddl.join(';\n'));
  });
}

/** The store as messages name it: the server (redacted) and the schema. */
export function describePostgresStore(label: string, schema: string): string {
  return `${label} schema ${JSON.stringify(schema)}`;
}

/**
 * Checks, in one read-only transaction, that the schema holds a store of our version and
 * changes nothing: no schema or `storage_meta` table is a {@link StoreNotFoundError}, an older
 * version a {@link StoreNeedsUpgradeError} (the tables of an older version are not known to
 * be readable), a newer one refused as in {@link ensureSchema}.
 */
export async function checkSchemaReadOnly(db: PostgresConnection, schema: string): Promise<void> {
  const store = describePostgresStore(db.label, schema);
  const version = await db.transaction('read schema version', async (q) => {
    await q.run('SET TRANSACTION READ ONLY');
    const [meta] = await q.rows<{ present: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = 'storage_meta') AS present`,
      [schema],
    );
    if (!meta?.present)
      throw new StoreNotFoundError('postgres', store, 'no such schema with a storage_meta table');
    return readVersion(q, schema);
  });
  if (version > POSTGRES_SCHEMA_VERSION) refuseNewer(version, schema, db.label);
  if (version < POSTGRES_SCHEMA_VERSION) {
    throw new StoreNeedsUpgradeError('postgres', store, version, POSTGRES_SCHEMA_VERSION);
  }
}
