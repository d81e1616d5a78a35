/**
 * Health and stats of a SQLite database: the core keys plus the reference's own keys
 * (`conversations_count`, `database_size_bytes`...), every count from one statement so they describe one snapshot.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BackendUnavailableError,
  formatEpochMs,
  type HealthProbe,
  type JsonValue,
  type StatsSnapshot,
} from '../../core/index.js';
import { diskUsage } from '../disk-usage.js';
import { countLiveOtherFormat } from './cache-expiry.js';
import type { SqliteConnection } from './connection.js';
import { replacedFileProblem, statPath } from './file-identity.js';
import { isMemoryPath } from './sqlite-errors.js';
import { isMissingIndexError } from './search-entries.js';
import { SQL, type StatsRow } from './sql.js';

/**
 * Size of a file in bytes, 0 when it does not exist (the WAL, before the first write). Synchronous on purpose: a
 * stat is one metadata system call of a few microseconds, while the promise API sends it
 * through the thread pool, which cost the stats call about 25 µs of CPU per file (measured).
 */
function fileSize(path: string): number {
  try {
    return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  } catch {
    return 0;
  }
}

/**
 * Space of the file system holding the database (the file backend's `disk_usage` shape), or
 * `null` for an in-memory database. Reported, not judged: a full disk fails writes with
 * SQLITE_FULL, yet the database still answers, and a write may still fit in a WAL that a
 * checkpoint left allocated, so the status stays what the query says (see README Guarantees).
 */
function dbDiskUsage(dbPath: string): Promise<JsonValue> {
  return isMemoryPath(dbPath) ? Promise.resolve(null) : diskUsage(dirname(dbPath));
}

/**
 * Runs a trivial query and reports the path, file size, journal mode, connection state and disk
 * space; unhealthy when the path no longer names the file the store opened (deleted or
 * replaced, see file-identity.ts), whose size is then `null`.
 */
export async function probeSqliteHealth(db: SqliteConnection): Promise<HealthProbe> {
  type Row = { ok: number; journal_mode: string; pages_bytes: number };
  const [[row], disk] = await Promise.all([db.all<Row>('health check', SQL.health), dbDiskUsage(db.path)]);
  let sizeBytes: number | null = row?.pages_bytes ?? 0;
  let problem: string | null = null;
  if (!isMemoryPath(db.path)) {
    const now = statPath(db.path);
    problem = replacedFileProblem(db.path, db.openedFile, now);
    // Until 2026-12-06 a deleted file's size was reported as 0 and the store as healthy.
    sizeBytes = problem === null && 'stats' in now ? Number(now.stats.size) : null;
  }
  return {
    healthy: row?.ok === 1 && problem === null,
    ...(problem === null ? {} : { error: problem }),
    details: {
      database_path: db.path,
      database_size_bytes: sizeBytes,
      journal_mode: row?.journal_mode ?? 'unknown',
      connection_active: true,
      disk_usage: disk,
    },
  };
}

/**
 * The stats statement's row: with `searchIndex`, the index's entry count comes in the same
 * statement (`search_entries`), left out when the index tables are gone (another process
 * opened the file with `searchIndex: false`, or a read-only open of a file without them).
 */
function readStatsRow(db: SqliteConnection, now: string, searchIndex: boolean): Promise<StatsRow> {
  return db.exclusive(
    'collect stats',
    async (q) => {
      if (searchIndex) {
        try {
          return (await q.all<StatsRow>(SQL.statsWithIndex, [now]))[0] as StatsRow;
        } catch (error) {
          if (!isMissingIndexError(error)) throw error;
        }
      }
      return (await q.all<StatsRow>(SQL.stats, [now]))[0] as StatsRow;
    },
    'read',
  );
}

/**
 * Counts everything stored (live cache entries at `nowMs` only), the database size and, with
 * `searchIndex`, the index's entries (`extra.search_index_entries`, null without an index): one
 * statement and two file stats. `schema` (the schema version keys) goes into `extra` before
 * `search_index_entries`. Rejects with {@link BackendUnavailableError} naming the path when
 * the path no longer names the file the store opened (deleted or replaced).
 */
export async function collectSqliteStats(
  db: SqliteConnection,
  nowMs: number,
  searchIndex: boolean,
  schema: Readonly<Record<string, JsonValue>> = {},
): Promise<StatsSnapshot> {
  const inMemory = isMemoryPath(db.path);
  // The statement is handed to the driver's thread before the file stats run, so the two
  // (synchronous, ~4 µs each) overlap with SQLite's work instead of adding to the call.
  const row = readStatsRow(db, formatEpochMs(nowMs), searchIndex);
  const file = inMemory ? null : statPath(db.path);
  const walBytes = inMemory ? 0 : fileSize(`${db.path}-wal`);
  const s = await row;
  // The counts are the open file's, but its size is not the path's any more, and what the
  // counts describe is lost at close: an error, as health reports it unhealthy.
  const problem = file === null ? null : replacedFileProblem(db.path, db.openedFile, file);
  if (problem !== null) throw new BackendUnavailableError(problem);
  const fileSizeBytes = file !== null && 'stats' in file ? Number(file.stats.size) : 0;
  const cacheEntries = s.cache_entries + countLiveOtherFormat(s.other_cache_entries, nowMs);
  const pagesBytes = s.page_count * s.page_size;
  const fileBytes = inMemory ? pagesBytes : fileSizeBytes;
  // On disk the database is the main file plus its write-ahead log.
  const totalBytes = fileBytes + walBytes;
  const stats: StatsSnapshot = {
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
  // Added after the literal, not spread into it: V8 builds a literal with spreads through a
  // slow path once it has this many keys (see the core's getStorageStats).
  Object.assign(stats.extra, schema);
  stats.extra.search_index_entries = s.search_entries ?? null;
  return stats;
}
