/**
 * Health and stats of the PostgreSQL backend: the core keys plus the server, database,
 * schema and pool state, every count from one statement so they describe one
 * snapshot. The URL is always the redacted one.
 */
import { CorruptDataError, type HealthProbe, type JsonValue, type StatsSnapshot } from '../../core/index.js';
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
  if (db.lastError !== undefined) details.last_pool_error = db.lastError;
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

/** Table sizes one stats call measured, kept by a store that reuses them (`statsSizeMaxAgeMillis`). */
export interface MeasuredSizes {
  /** Table name -> bytes (`pg_total_relation_size`). */
  readonly tableBytes: Record<string, number>;
  /** When they were measured: the "now" of that stats call, in epoch milliseconds. */
  readonly atMs: number;
}

/** What {@link collectPostgresStats} may reuse and where it keeps a new measurement. */
export interface SizeReuse {
  /** Most milliseconds a measurement is reused (0: every call measures). */
  readonly maxAgeMs: number;
  /** The last measurement of this store instance, if any. */
  last: MeasuredSizes | undefined;
}

/**
 * Counts everything stored (live cache entries at `nowMs` only), the bytes the schema's tables
 * use and the search index entries. The counts are always counted by this call; the sizes too,
 * unless `sizes` holds a measurement younger than its `maxAgeMs`, which is then reported with
 * the time it was taken (`table_bytes_measured_at`).
 */
export async function collectPostgresStats(
  db: PostgresConnection,
  sql: PostgresSql,
  schema: string,
  nowMs: number,
  index: PostgresSearchIndex,
  sizes: SizeReuse,
): Promise<StatsSnapshot> {
  const last = sizes.last;
  const reuse =
    sizes.maxAgeMs > 0 && last !== undefined && nowMs - last.atMs < sizes.maxAgeMs && nowMs >= last.atMs;
  const [row] = await db.rows<StatsRow>('collect stats', reuse ? sql.statsCounts : sql.stats, [
    new Date(nowMs).toISOString(),
  ]);
  if (row === undefined) throw new CorruptDataError(`postgres (${db.label})`, 'stats query returned no row');
  let measured: MeasuredSizes;
  if (reuse) measured = last;
  else {
    measured = { tableBytes: JSON.parse(row.table_bytes ?? '{}') as Record<string, number>, atMs: nowMs };
    if (sizes.maxAgeMs > 0) sizes.last = measured;
  }
  const tableBytes = measured.tableBytes;
  const extra: Record<string, JsonValue> = {
    postgres_url: db.label,
    schema,
    // A copy: the caller may change the object it is given, the kept measurement must not change.
    table_bytes: reuse ? { ...tableBytes } : tableBytes,
    // Rows with index columns (`null` with the index off: the store may still have some).
    search_index_entries: index.enabled ? row.search_entries : null,
  };
  if (sizes.maxAgeMs > 0) extra.table_bytes_measured_at = new Date(measured.atMs).toISOString();
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
