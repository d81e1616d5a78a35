/**
 * Every SQL statement the SQLite backend runs, with bound parameters only. Each per-id
 * read is served by a primary key or an index (`test/sqlite/query-plans.test.ts` checks).
 * Lists return one row holding a JSON array (`json_group_array`): the driver builds a JS
 * object per row, which made a list of 10,000 ids cost several times the query itself.
 */

// A timestamp in exactly the format this library and the reference write
// (`2025-03-06T10:00:00.123000+00:00`): fixed width, so string order is time order.
const CANONICAL_TIMESTAMP =
  "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00'";

/** `expires_at` is in the canonical format, so SQL can compare it with now as a string. */
const CANONICAL = `expires_at GLOB ${CANONICAL_TIMESTAMP}`;

/**
 * Cache expiry (see `cache-expiry.ts`). Canonical values are compared in SQL, exactly to
 * the microsecond (parameter: now as a canonical timestamp). Any other form (`Z`, no
 * fraction, another offset, `+0000`, lowercase, garbage) is returned to JavaScript and
 * decided by the core's `isCacheExpired`, the rule `loadCacheEntry` applies: SQLite's own
 * date parser accepts a different set of forms, so list, stats and purge would otherwise
 * disagree with loads (and purge could delete an entry that loads as live).
 */
export const LIVE_CANONICAL = `(expires_at IS NULL OR (${CANONICAL} AND expires_at > ?))`;
/** Rows decided in JavaScript; `schema.ts` keeps a partial index of exactly these (usually none). */
export const OTHER_FORMAT = `(expires_at IS NOT NULL AND NOT ${CANONICAL})`;

/**
 * The number of rows {@link LIVE_CANONICAL} selects (parameter `?1`: now, canonical), without
 * running GLOB on every live row (that was 85% of a stats call at 1,000 entries): the rows
 * without expiry, plus those after now (a range of the expiry index), minus the other-format
 * ones after now (the partial index, usually empty). Exact: a non-null expiry either matches
 * the canonical GLOB or is other-format, never both.
 */
const LIVE_CANONICAL_COUNT = `((SELECT COUNT(*) FROM cache_entries WHERE expires_at IS NULL)
    + (SELECT COUNT(*) FROM cache_entries WHERE expires_at > ?1)
    - (SELECT COUNT(*) FROM cache_entries WHERE ${OTHER_FORMAT} AND expires_at > ?1))`;

/** The columns of the stats statement (see {@link StatsRow}). Parameter: now (canonical). */
const STATS_COLUMNS = `
    (SELECT COUNT(*) FROM conversations) AS conversations,
    (SELECT COUNT(*) FROM raw_messages) AS raw_messages,
    (SELECT COUNT(*) FROM memories) AS memories,
    (SELECT COUNT(*) FROM reasoning_chains) AS reasoning_chains,
    (SELECT COUNT(DISTINCT agent_id) FROM reasoning_chains) AS agents,
    (SELECT COUNT(*) FROM chunk_info) AS chunk_info,
    ${LIVE_CANONICAL_COUNT} AS cache_entries,
    (SELECT json_group_array(json_array(cache_key, expires_at)) FROM cache_entries WHERE ${OTHER_FORMAT})
      AS other_cache_entries,
    (SELECT COUNT(*) FROM system_state) AS system_state,
    (SELECT page_count FROM pragma_page_count) AS page_count,
    (SELECT page_size FROM pragma_page_size) AS page_size`;

/**
 * SQL text of every statement, by purpose. Lists return one JSON array in a column named
 * `ids`, single-object reads name their column `json`, so one helper serves each kind.
 */
export const SQL = {
  upsertConversation: `INSERT INTO conversations (conversation_id, data, created_at, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (conversation_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
  selectConversation: 'SELECT data AS json FROM conversations WHERE conversation_id = ?',
  listConversations: 'SELECT json_group_array(conversation_id) AS ids FROM conversations',
  // DISTINCT first walks each covering index once instead of feeding every row to the UNION.
  listAllConversations: `SELECT json_group_array(id) AS ids FROM (
    SELECT conversation_id AS id FROM conversations
    UNION SELECT DISTINCT conversation_id FROM raw_messages
    UNION SELECT DISTINCT conversation_id FROM memories
    UNION SELECT conversation_id FROM chunk_info)`,
  deleteConversation: 'DELETE FROM conversations WHERE conversation_id = ?',

  deleteRawMessages: 'DELETE FROM raw_messages WHERE conversation_id = ?',
  selectRawMessages:
    'SELECT message_data FROM raw_messages WHERE conversation_id = ? ORDER BY message_index, id',

  selectMemory:
    'SELECT id, memory_id, memory_data, created_at FROM memories WHERE conversation_id = ? AND memory_id = ?',
  updateMemory:
    'UPDATE memories SET memory_data = ?, created_at = ? WHERE conversation_id = ? AND memory_id = ?',
  insertMemory:
    'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?) RETURNING id',
  // Insertion order is the row id, whatever timestamps the records carry.
  selectMemories:
    'SELECT memory_id, memory_data, created_at FROM memories WHERE conversation_id = ? ORDER BY id',
  deleteMemories: 'DELETE FROM memories WHERE conversation_id = ?',
  deleteMemory: 'DELETE FROM memories WHERE conversation_id = ? AND memory_id = ?',
  // The ids as one JSON array parameter (json_each yields the texts exactly).
  deleteMemoryBatch:
    'DELETE FROM memories WHERE conversation_id = ? AND memory_id IN (SELECT value FROM json_each(?))',

  deleteChains: 'DELETE FROM reasoning_chains WHERE agent_id = ?',
  selectChains: 'SELECT id, chain_data, created_at FROM reasoning_chains WHERE agent_id = ? ORDER BY id',
  // The most recent `limit`, newest first; the caller reverses them.
  selectLastChains:
    'SELECT id, chain_data, created_at FROM reasoning_chains WHERE agent_id = ? ORDER BY id DESC LIMIT ?',
  listAgents:
    'SELECT json_group_array(agent_id) AS ids FROM (SELECT DISTINCT agent_id FROM reasoning_chains)',

  upsertChunkInfo: `INSERT INTO chunk_info (conversation_id, chunk_data, created_at, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (conversation_id) DO UPDATE SET chunk_data = excluded.chunk_data, updated_at = excluded.updated_at`,
  selectChunkInfo: 'SELECT chunk_data AS json FROM chunk_info WHERE conversation_id = ?',
  deleteChunkInfo: 'DELETE FROM chunk_info WHERE conversation_id = ?',

  upsertCache: `INSERT INTO cache_entries (cache_key, cache_data, created_at, expires_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (cache_key) DO UPDATE SET
      cache_data = excluded.cache_data, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  selectCache: 'SELECT cache_data, created_at, expires_at FROM cache_entries WHERE cache_key = ?',
  deleteCache: 'DELETE FROM cache_entries WHERE cache_key = ?',
  // Parameter: now (canonical). One statement, so both halves come from one snapshot. The live
  // half is LIVE_CANONICAL's rows without a GLOB per row (see LIVE_CANONICAL_COUNT): no expiry or
  // after now, minus the other-format rows (a set read once from their partial index).
  listCacheKeys: `SELECT
    (SELECT json_group_array(cache_key) FROM cache_entries WHERE (expires_at IS NULL OR expires_at > ?1)
      AND rowid NOT IN (SELECT rowid FROM cache_entries WHERE ${OTHER_FORMAT})) AS live,
    (SELECT json_group_array(json_array(cache_key, expires_at)) FROM cache_entries WHERE ${OTHER_FORMAT}) AS other`,
  // Parameter: now (canonical); served by the reference's index on expires_at.
  deleteExpiredCanonicalCache: `DELETE FROM cache_entries WHERE ${CANONICAL} AND expires_at <= ?`,
  deleteCacheIfExpiry: 'DELETE FROM cache_entries WHERE cache_key = ? AND expires_at = ?',
  selectOtherFormatCache: `SELECT json_group_array(json_array(cache_key, expires_at)) AS other
    FROM cache_entries WHERE ${OTHER_FORMAT}`,

  upsertState: `INSERT INTO system_state (state_key, state_data, created_at, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (state_key) DO UPDATE SET state_data = excluded.state_data, updated_at = excluded.updated_at`,
  selectState: 'SELECT state_data AS json FROM system_state WHERE state_key = ?',
  deleteState: 'DELETE FROM system_state WHERE state_key = ?',
  listStateKeys: 'SELECT json_group_array(state_key) AS ids FROM system_state',

  health: `SELECT 1 AS ok, (SELECT journal_mode FROM pragma_journal_mode) AS journal_mode,
    (SELECT page_count * page_size FROM pragma_page_count, pragma_page_size) AS pages_bytes`,
  // One statement, so every count comes from the same snapshot. Parameter: now (canonical).
  stats: `SELECT ${STATS_COLUMNS}`,
  // The same with the search index's entry count (fails with "no such table" when it is gone).
  statsWithIndex: `SELECT ${STATS_COLUMNS}, (SELECT COUNT(*) FROM search_docs) AS search_entries`,
} as const;

/** A row of the stats query. */
export interface StatsRow {
  conversations: number;
  raw_messages: number;
  memories: number;
  reasoning_chains: number;
  agents: number;
  chunk_info: number;
  /** Live cache entries with a canonical (or no) expiry. */
  cache_entries: number;
  /** `[key, expires_at]` pairs (JSON) of entries whose expiry is in another format. */
  other_cache_entries: string;
  system_state: number;
  page_count: number;
  page_size: number;
  /** Entries of the search index (`statsWithIndex` only). */
  search_entries?: number;
}
