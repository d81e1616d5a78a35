/**
 * Health and stats of a SQLite database: the core keys plus the reference's own keys
 * (`conversations_count`, `database_size_bytes`...), every count from one statement so they describe one snapshot.
 */
import { stat } from 'node:fs/promises';
import { formatEpochMs, type HealthProbe, type StatsSnapshot } from '../../core/index.js';
import { countLiveOtherFormat } from './cache-expiry.js';
import { isMemoryPath, type SqliteConnection } from './connection.js';
import { SQL, type StatsRow } from './sql.js';

/** Size of a file in bytes, 0 when it does not exist (no WAL yet). */
async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Runs a trivial query and reports the path, file size, journal mode and connection state. */
export async function probeSqliteHealth(db: SqliteConnection): Promise<HealthProbe> {
  type Row = { ok: number; journal_mode: string; pages_bytes: number };
  const [row] = await db.all<Row>('health check', SQL.health);
  return {
    healthy: row?.ok === 1,
    details: {
      database_path: db.path,
      database_size_bytes: isMemoryPath(db.path) ? (row?.pages_bytes ?? 0) : await fileSize(db.path),
      journal_mode: row?.journal_mode ?? 'unknown',
      connection_active: true,
    },
  };
}

/** Counts everything stored (live cache entries at `nowMs` only) and the database size. */
export async function collectSqliteStats(db: SqliteConnection, nowMs: number): Promise<StatsSnapshot> {
  const [row] = await db.all<StatsRow>('collect stats', SQL.stats, [formatEpochMs(nowMs)]);
  const s = row as StatsRow;
  const cacheEntries = s.cache_entries + countLiveOtherFormat(s.other_cache_entries, nowMs);
  const pagesBytes = s.page_count * s.page_size;
  const inMemory = isMemoryPath(db.path);
  const fileBytes = inMemory ? pagesBytes : await fileSize(db.path);
  // On disk the database is the main file plus its write-ahead log.
  const totalBytes = inMemory ? pagesBytes : fileBytes + (await fileSize(`${db.path}-wal`));
  return {
    counts: {
      conversation_count: s.conversations,
      raw_message_count: s.raw_messages,
      memory_count: s.memories,
      reasoning_chain_count: s.reasoning_chains,
      agent_count: s.agents,
      chunk_info_count: s.chunk_info,
      cache_entry_count: cacheEntries,
      system_state_count: s.system_state,
      total_bytes: totalBytes,
    },
    extra: {
      conversations_count: s.conversations,
      raw_messages_count: s.raw_messages,
      memories_count: s.memories,
      reasoning_chains_count: s.reasoning_chains,
      chunk_info_count: s.chunk_info,
      cache_entries_count: cacheEntries,
      page_count: s.page_count,
      page_size_bytes: s.page_size,
      total_pages_bytes: pagesBytes,
      database_size_bytes: fileBytes,
    },
  };
}
