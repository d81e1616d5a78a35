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

/**
 * Counts everything stored (live cache entries at `nowMs` only), the bytes the schema's tables
 * use and the search index entries.
 */
export async function collectPostgresStats(
  db: PostgresConnection,
  sql: PostgresSql,
  schema: string,
  nowMs: number,
  index: PostgresSearchIndex,
): Promise<StatsSnapshot> {
  const [row] = await db.rows<StatsRow>('collect stats', sql.stats, [new Date(nowMs).toISOString()]);
  if (row === undefined) throw new CorruptDataError(`postgres (${db.label})`, 'stats query returned no row');
  const tableBytes = JSON.parse(row.table_bytes ?? '{}') as Record<string, number>;
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
    extra: {
      postgres_url: db.label,
      schema,
      table_bytes: tableBytes,
      // Rows with index columns (`null` with the index off: the store may still have some).
      search_index_entries: index.enabled ? row.search_entries : null,
    },
  };
}
