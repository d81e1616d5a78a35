/**
 * Every SQL statement the SQLite backend runs, with bound parameters only. Each per-id
 * read is served by a primary key or one of the reference's indexes.
 */
import { formatEpochMs } from '../../core/index.js';

// A timestamp in exactly the format this library and the reference write
// (`2025-03-06T10:00:00.123000+00:00`): fixed width, so string order is time order.
const CANONICAL_TIMESTAMP =
  "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00'";

/**
 * True when a cache row is expired. Parameters: now as a canonical timestamp, then now in
 * epoch seconds. Canonical values compare as strings (exact to the microsecond); any
 * other form the reference may have written (no fraction, `Z`, another offset) is parsed
 * by SQLite; a value SQLite cannot parse counts as expired, as in the core.
 */
const CACHE_EXPIRED = `(expires_at IS NOT NULL AND CASE
    WHEN expires_at GLOB ${CANONICAL_TIMESTAMP} THEN expires_at <= ?
    ELSE coalesce(unixepoch(expires_at, 'subsec') <= ?, 1) END)`;

/** Parameters of the cache-expiry condition: now as a canonical timestamp, then in epoch seconds. */
export function cacheExpiryParams(nowMs: number): [string, number] {
  return [formatEpochMs(nowMs), nowMs / 1000];
}

/**
 * SQL text of every statement, by purpose. Lists name their column `id`, single-object
 * reads `json`, so one helper serves each kind.
 */
export const SQL = {
  upsertConversation: `INSERT INTO conversations (conversation_id, data, created_at, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (conversation_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
  selectConversation: 'SELECT data AS json FROM conversations WHERE conversation_id = ?',
  listConversations: 'SELECT conversation_id AS id FROM conversations',
  listAllConversations: `SELECT conversation_id AS id FROM conversations
    UNION SELECT conversation_id FROM raw_messages
    UNION SELECT conversation_id FROM memories
    UNION SELECT conversation_id FROM chunk_info`,
  deleteConversation: 'DELETE FROM conversations WHERE conversation_id = ?',

  deleteRawMessages: 'DELETE FROM raw_messages WHERE conversation_id = ?',
  insertRawMessage:
    'INSERT INTO raw_messages (conversation_id, message_data, message_index, created_at) VALUES (?, ?, ?, ?)',
  selectRawMessages:
    'SELECT message_data FROM raw_messages WHERE conversation_id = ? ORDER BY message_index, id',

  selectMemory:
    'SELECT memory_id, memory_data, created_at FROM memories WHERE conversation_id = ? AND memory_id = ?',
  updateMemory:
    'UPDATE memories SET memory_data = ?, created_at = ? WHERE conversation_id = ? AND memory_id = ?',
  insertMemory:
    'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
  // Insertion order is the row id, whatever timestamps the records carry.
  selectMemories:
    'SELECT memory_id, memory_data, created_at FROM memories WHERE conversation_id = ? ORDER BY id',
  deleteMemories: 'DELETE FROM memories WHERE conversation_id = ?',

  insertChain: 'INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)',
  selectChains: 'SELECT id, chain_data, created_at FROM reasoning_chains WHERE agent_id = ? ORDER BY id',
  // The most recent `limit`, newest first; the caller reverses them.
  selectLastChains:
    'SELECT id, chain_data, created_at FROM reasoning_chains WHERE agent_id = ? ORDER BY id DESC LIMIT ?',
  listAgents: 'SELECT DISTINCT agent_id AS id FROM reasoning_chains',

  upsertChunkInfo: `INSERT INTO chunk_info (conversation_id, chunk_data, created_at, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (conversation_id) DO UPDATE SET chunk_data = excluded.chunk_data, updated_at = excluded.updated_at`,
  selectChunkInfo: 'SELECT chunk_data AS json FROM chunk_info WHERE conversation_id = ?',
  deleteChunkInfo: 'DELETE FROM chunk_info WHERE conversation_id = ?',

  upsertCache: `INSERT INTO cache_entries (cache_key, cache_data, created_at, expires_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (cache_key) DO UPDATE SET
      cache_data = excluded.cache_data, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  selectCache: 'SELECT cache_data, created_at, expires_at FROM cache_entries WHERE cache_key = ?',
  deleteCache: 'DELETE FROM cache_entries WHERE cache_key = ?',
  listLiveCacheKeys: `SELECT cache_key AS id FROM cache_entries WHERE NOT ${CACHE_EXPIRED}`,
  deleteExpiredCache: `DELETE FROM cache_entries WHERE ${CACHE_EXPIRED}`,

  upsertState: `INSERT INTO system_state (state_key, state_data, created_at, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (state_key) DO UPDATE SET state_data = excluded.state_data, updated_at = excluded.updated_at`,
  selectState: 'SELECT state_data AS json FROM system_state WHERE state_key = ?',
  deleteState: 'DELETE FROM system_state WHERE state_key = ?',
  listStateKeys: 'SELECT state_key AS id FROM system_state',

  health: `SELECT 1 AS ok, (SELECT journal_mode FROM pragma_journal_mode) AS journal_mode,
    (SELECT page_count * page_size FROM pragma_page_count, pragma_page_size) AS pages_bytes`,
  // One statement, so every count comes from the same snapshot. Parameters: as CACHE_EXPIRED.
  stats: `SELECT
    (SELECT COUNT(*) FROM conversations) AS conversations,
    (SELECT COUNT(*) FROM raw_messages) AS raw_messages,
    (SELECT COUNT(*) FROM memories) AS memories,
    (SELECT COUNT(*) FROM reasoning_chains) AS reasoning_chains,
    (SELECT COUNT(DISTINCT agent_id) FROM reasoning_chains) AS agents,
    (SELECT COUNT(*) FROM chunk_info) AS chunk_info,
    (SELECT COUNT(*) FROM cache_entries WHERE NOT ${CACHE_EXPIRED}) AS cache_entries,
    (SELECT COUNT(*) FROM system_state) AS system_state,
    (SELECT page_count FROM pragma_page_count) AS page_count,
    (SELECT page_size FROM pragma_page_size) AS page_size`,
} as const;

/** A row of the stats query. */
export interface StatsRow {
  conversations: number;
  raw_messages: number;
  memories: number;
  reasoning_chains: number;
  agents: number;
  chunk_info: number;
  cache_entries: number;
  system_state: number;
  page_count: number;
  page_size: number;
}
