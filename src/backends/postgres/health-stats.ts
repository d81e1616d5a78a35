/**
 * Health and stats of the PostgreSQL backend: the core keys plus the server, database,
 * schema and pool state, every count from one statement so they describe one
 * snapshot. The URL is always the redacted one.
 */
import {
  CorruptDataError,
  formatEpochMs,
  type HealthProbe,
  type JsonValue,
  type StatsSnapshot,
} from '../../core/index.js';
import type { PostgresConnection } from './connection.js';
import type { PostgresSearchIndex } from './search-index.js';
import type { PostgresSql, StatsRow } from './sql.js';

/** Runs one small query and reports the server, database, schema version and pool counts. */
export async function probePostgresHealth(
  db: PostgresConnection,
  sql: PostgresSql,
  schema: string,
): Promise<HealthProbe> {
  const pool = db.poolCounts();
  const details: Record<string, JsonValue> = {
    postgres_url: db.label,
    schema,
    pool_total_count: pool.total,
    pool_idle_count: pool.idle,
    pool_waiting_count: pool.waiting,
  };
  // Kept after the server recovered (an operator may want to know a connection dropped), so
  // with its time: a `healthy` probe after it shows the pool got over it.
  if (db.lastError !== undefined) {
    details.last_pool_error = db.lastError;
    if (db.lastErrorAtMs !== undefined) details.last_pool_error_at = formatEpochMs(db.lastErrorAtMs);
  }
  try {
    type Row = { server_version: string; database: string; schema_version: string | null };
    const [row] = await db.rows<Row>('health check', sql.health);
    details.server_version = row?.server_version ?? null;
    details.database = row?.database ?? null;
    details.schema_version = row?.schema_version === undefined ? null : Number(row.schema_version);
    return { healthy: row !== undefined, details };
  } catch (error) {
    return { healthy: false, error: (error as Error).message, details };
  }
}

/** What must not have moved for a measurement to still hold (stats-sql.ts, `statsGuardedSql`). */
export interface SizeGuard {
  /** The server's WAL insert (or replay) position read before the measurement. */
  readonly lsn: string;
  /** The sum of the vacuum counts of {@link oids}, read before the measurement. */
  readonly vacuums: string;
  /** The measured tables and their TOAST tables, as an `oid[]` literal. */
  readonly oids: string;
}

/** Table sizes one stats call measured, kept by the store for later calls. */
export interface MeasuredSizes {
  /** Table name -> bytes (`pg_total_relation_size`). */
  readonly tableBytes: Record<string, number>;
  /**
   * When they were measured, or last found unchanged by the guard: the "now" of that stats
   * call, in epoch milliseconds.
   */
  readonly atMs: number;
  /** The guard under which they hold; absent when they may not be reused unguarded. */
  readonly guard?: SizeGuard;
}

/** What {@link collectPostgresStats} may reuse and where it keeps a new measurement. */
export interface SizeReuse {
  /** Most milliseconds a measurement is reused without its guard (0: never). */
  readonly maxAgeMs: number;
  /** The last measurement of this store instance, if any. */
  last: MeasuredSizes | undefined;
  /**
   * Whether calls run the guarded statement (stats-sql.ts). False with `preparedStatements:
   * false` (planned at every call, that statement cost more than the schema's function that
   * always measures) and once the server refused the guard's functions: every call measures.
   */
  guarded: boolean;
}

/** The sizes column of the guarded statement, when it measured. */
interface GuardedSizes {
  bytes: Record<string, number> | null;
  oids: number[] | null;
  permanent: boolean | null;
}

/** The counts of a stats row. */
type Counts = Omit<StatsRow, 'table_bytes'>;

/** A row of the guarded statement: the counts, the guard as read, the sizes when measured. */
type GuardedRow = Counts & { lsn: string | null; vacuums: string; sizes: string | null };

/**
 * SQLSTATEs with which a server may refuse the guard's functions (a role without `EXECUTE`, a
 * managed service without them): undefined function, insufficient privilege, feature not
 * supported, object not in prerequisite state.
 */
const GUARD_REFUSED = new Set(['42883', '42501', '0A000', '55000']);

/** The SQLSTATE a storage error was caused by, if any. */
function causeState(error: unknown): string | undefined {
  const code = ((error as { cause?: unknown } | null)?.cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Reads the counts, and the sizes unless the store's last measurement still holds: it is
 * reused when younger than `maxAgeMs` (the counts alone), or when the guard read by the same
 * statement shows no file can have changed since (see `statsGuardedSql`), which then refreshes
 * its time. Returns the counts and the sizes to report.
 */
async function readStats(
  db: PostgresConnection,
  sql: PostgresSql,
  nowMs: number,
  sizes: SizeReuse,
): Promise<{ row: Counts; measured: MeasuredSizes }> {
  const now = new Date(nowMs).toISOString();
  const last = sizes.last;
  if (sizes.maxAgeMs > 0 && last !== undefined && nowMs - last.atMs < sizes.maxAgeMs && nowMs >= last.atMs) {
    const [row] = await db.rows<StatsRow>('collect stats', sql.statsCounts, [now]);
    return { row: present(db, row), measured: last };
  }
  if (sizes.guarded) {
    const guard = last?.guard;
    let rows: GuardedRow[] | undefined;
    try {
      rows = await db.rows<GuardedRow>('collect stats', sql.statsGuarded, [
        now,
        guard?.lsn ?? null,
        guard?.oids ?? null,
        guard?.vacuums ?? null,
      ]);
    } catch (error) {
      if (!GUARD_REFUSED.has(causeState(error) ?? '')) throw error;
      sizes.guarded = false;
    }
    if (rows !== undefined) {
      const row = present(db, rows[0]);
      if (row.sizes === null && last !== undefined) {
        const measured = { ...last, atMs: nowMs };
        sizes.last = measured;
        return { row, measured };
      }
      const parsed = JSON.parse(row.sizes ?? '{}') as GuardedSizes;
      const measured: MeasuredSizes = {
        tableBytes: parsed.bytes ?? {},
        atMs: nowMs,
        // Unlogged tables write no WAL, and a server without a WAL position gives no guard.
        ...(parsed.permanent !== false && row.lsn !== null
          ? { guard: { lsn: row.lsn, vacuums: row.vacuums, oids: `{${(parsed.oids ?? []).join(',')}}` } }
          : {}),
      };
      sizes.last = measured;
      return { row, measured };
    }
  }
  const [row] = await db.rows<StatsRow>('collect stats', sql.stats, [now]);
  const counted = present(db, row);
  const measured = {
    tableBytes: JSON.parse(counted.table_bytes ?? '{}') as Record<string, number>,
    atMs: nowMs,
  };
  sizes.last = measured;
  return { row: counted, measured };
}

/** The one row a stats statement returns. */
function present<R>(db: PostgresConnection, row: R | undefined): R {
  if (row === undefined) throw new CorruptDataError(`postgres (${db.label})`, 'stats query returned no row');
  return row;
}

/**
 * Counts everything stored (live cache entries at `nowMs` only), the bytes the schema's tables
 * use and the search index entries. The counts are always counted by this call; the sizes are
 * measured by it too, unless this store's last measurement still holds: no file of the server
 * can have changed since (the guard, exact), or it is younger than `maxAgeMs`, reported with
 * its time (`table_bytes_measured_at`).
 */
export async function collectPostgresStats(
  db: PostgresConnection,
  sql: PostgresSql,
  schema: string,
  nowMs: number,
  index: PostgresSearchIndex,
  sizes: SizeReuse,
): Promise<StatsSnapshot> {
  const { row, measured } = await readStats(db, sql, nowMs, sizes);
  const tableBytes = measured.tableBytes;
  const extra: Record<string, JsonValue> = {
    postgres_url: db.label,
    schema,
    // A copy: the caller may change the object it is given, the kept measurement must not change.
    table_bytes: { ...tableBytes },
    // Rows with index columns (`null` with the index off: the store may still have some).
    search_index_entries: index.enabled ? row.search_entries : null,
  };
  if (sizes.maxAgeMs > 0) extra.table_bytes_measured_at = formatEpochMs(measured.atMs);
  return {
    counts: {
      conversation_count: row.conversations,
      raw_message_count: row.raw_messages,
      memory_count: row.memories,
      reasoning_chain_count: row.reasoning_chains,
      agent_count: row.agents,
      chunk_info_count: row.chunk_info,
      cache_entry_count: row.cache_entries,
      system_state_count: row.system_state,
      total_bytes: Object.values(tableBytes).reduce((sum, bytes) => sum + bytes, 0),
    },
    extra,
  };
}
