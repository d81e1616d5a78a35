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
 * The empty BLOB, below every BLOB and above every TEXT in SQLite's order (NULL, numbers, TEXT,
 * BLOB): `expires_at > now AND expires_at < X''` is a range of texts only. An expiry another
 * program stored as a BLOB is no time (as unparsable text, it counts as expired, see
 * {@link expiryText}), yet GLOB reads its bytes as text and `>` puts it after every text, so
 * without this bound a BLOB holding a canonical time was counted and listed live for ever.
 */
const FIRST_BLOB = "X''";

/**
 * `column` (an `expires_at`) as loads and the JSON lists read it: text and NULL as stored, any
 * other type as a text naming its type (`(blob)`), which parses as no time, so it counts as
 * expired like unparsable text everywhere. Another program can store a BLOB (the column's TEXT
 * affinity turns numbers into text, but a table of its own making may keep them). Passed raw, a
 * BLOB failed every JSON list ("JSON cannot hold BLOB values", so listing, stats, purge and
 * migration of the whole cache) and loaded as a Buffer that the core took for a time.
 */
export function expiryText(column = 'expires_at'): string {
  return `CASE WHEN typeof(${column}) IN ('text', 'null') THEN ${column} ELSE '(' || typeof(${column}) || ')' END`;
}

/**
 * Cache expiry (see `cache-expiry.ts`). Canonical values are compared in SQL, exactly to
 * the microsecond (parameter: now as a canonical timestamp). Any other form (`Z`, no
 * fraction, another offset, `+0000`, lowercase, garbage) is returned to JavaScript and
 * decided by the core's `isCacheExpired`, the rule `loadCacheEntry` applies: SQLite's own
 * date parser accepts a different set of forms, so list, stats and purge would otherwise
 * disagree with loads (and purge could delete an entry that loads as live). A BLOB whose bytes
 * match the GLOB is no time (see {@link FIRST_BLOB}): `typeof` leaves it out (tested per row
 * here, where GLOB is too, as a bound on `expires_at` would make SQLite walk the expiry index and
 * sort, instead of the page's walk of the keys).
 */
export const LIVE_CANONICAL = `(expires_at IS NULL OR (${CANONICAL} AND typeof(expires_at) = 'text' AND expires_at > ?))`;
/** Rows decided in JavaScript; `schema.ts` keeps a partial index of exactly these (usually none). */
export const OTHER_FORMAT = `(expires_at IS NOT NULL AND NOT ${CANONICAL})`;

/**
 * The number of rows {@link LIVE_CANONICAL} selects (parameter `?1`: now, canonical), without
 * running GLOB on every live row (that was 85% of a stats call at 1,000 entries): the rows
 * without expiry, plus the texts after now (a range of the expiry index, which ends before
 * the BLOBs), minus the other-format texts after now (the partial index, usually empty).
 * Exact: a non-null text expiry either matches the canonical GLOB or is other-format, never both.
 */
const LIVE_CANONICAL_COUNT = `((SELECT COUNT(*) FROM cache_entries WHERE expires_at IS NULL)
    + (SELECT COUNT(*) FROM cache_entries WHERE expires_at > ?1 AND expires_at < ${FIRST_BLOB})
    - (SELECT COUNT(*) FROM cache_entries WHERE ${OTHER_FORMAT} AND expires_at > ?1 AND expires_at < ${FIRST_BLOB}))`;

/** `[cache_key, expires_at]` of a row as JSON, the expiry as {@link expiryText} reads it. */
const KEY_AND_EXPIRY = `json_array(cache_key, ${expiryText()})`;

/** The columns of the stats statement (see {@link StatsRow}). Parameter: now (canonical). */
const STATS_COLUMNS = `
    (SELECT COUNT(*) FROM conversations) AS conversations,
    (SELECT COUNT(*) FROM raw_messages) AS raw_messages,
    (SELECT COUNT(*) FROM memories) AS memories,
    (SELECT COUNT(*) FROM reasoning_chains) AS reasoning_chains,
    (SELECT COUNT(DISTINCT agent_id) FROM reasoning_chains) AS agents,
    (SELECT COUNT(*) FROM chunk_info) AS chunk_info,
    ${LIVE_CANONICAL_COUNT} AS cache_entries,
    (SELECT json_group_array(${KEY_AND_EXPIRY}) FROM cache_entries WHERE ${OTHER_FORMAT})
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
  selectCache: `SELECT cache_data, created_at, ${expiryText()} AS expires_at FROM cache_entries WHERE cache_key = ?`,
  deleteCache: 'DELETE FROM cache_entries WHERE cache_key = ?',
  // Parameter: now (canonical). One statement, so both halves come from one snapshot. The live
  // half is LIVE_CANONICAL's rows without a GLOB per row (see LIVE_CANONICAL_COUNT): no expiry or
  // after now, minus the other-format rows (a set read once from their partial index).
  listCacheKeys: `SELECT
    (SELECT json_group_array(cache_key) FROM cache_entries
      WHERE (expires_at IS NULL OR (expires_at > ?1 AND expires_at < ${FIRST_BLOB}))
      AND rowid NOT IN (SELECT rowid FROM cache_entries WHERE ${OTHER_FORMAT})) AS live,
    (SELECT json_group_array(${KEY_AND_EXPIRY}) FROM cache_entries WHERE ${OTHER_FORMAT}) AS other`,
  // Parameter: now (canonical); served by the reference's index on expires_at. Every BLOB expiry
  // (no time, see FIRST_BLOB) goes too: the range after the last text.
  deleteExpiredCanonicalCache: `DELETE FROM cache_entries
    WHERE (${CANONICAL} AND expires_at <= ?) OR expires_at >= ${FIRST_BLOB}`,
  // Parameters: key, the expiry as `expiryText` read it (so a non-text value is matched by its type).
  deleteCacheIfExpiry: `DELETE FROM cache_entries WHERE cache_key = ? AND ${expiryText()} = ?`,
  selectOtherFormatCache: `SELECT json_group_array(${KEY_AND_EXPIRY}) AS other
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
