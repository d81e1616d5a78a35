/**
 * Keyset pages and window reads on SQLite. Ids are TEXT with the BINARY collation, which
 * compares UTF-8 bytes: code point order, so `WHERE id > ? ORDER BY id LIMIT ?` walks each
 * primary key (or index) in the library's order with no sort in memory.
 */
import {
  formatEpochMs,
  isCacheExpired,
  type JsonObject,
  type JsonValue,
  type ListingName,
  parseStoredJson,
} from '../../core/index.js';
import { compareCodePoints } from '../../core/order.js';
import type { SqliteConnection } from './connection.js';
import { memoryFromRow, type MemoryRow } from './rows.js';
import { expiryText, LIVE_CANONICAL, OTHER_FORMAT } from './sql.js';
import { quoteName } from '../../core/shown-text.js';

/** The page of a subquery `rows` (column `id`, already ordered and limited) as one JSON array. */
const asArray = (rows: string): string =>
  // ORDER BY inside the aggregate (SQLite 3.44+): the array keeps the order whatever the plan.
  `SELECT json_group_array(id ORDER BY id) AS ids FROM (${rows})`;

/** Page statements of the listings other than cache keys. Parameters: after (`''` for the start), limit. */
export const PAGE_SQL: Record<Exclude<ListingName, 'cacheKeys'>, string> = {
  conversations: asArray(
    'SELECT conversation_id AS id FROM conversations WHERE conversation_id > ? ORDER BY conversation_id LIMIT ?',
  ),
  allConversationIds: asArray(`SELECT id FROM (
    SELECT conversation_id AS id FROM conversations
    UNION SELECT conversation_id FROM raw_messages
    UNION SELECT conversation_id FROM memories
    UNION SELECT conversation_id FROM chunk_info) WHERE id > ? ORDER BY id LIMIT ?`),
  agents: asArray(
    'SELECT DISTINCT agent_id AS id FROM reasoning_chains WHERE agent_id > ? ORDER BY agent_id LIMIT ?',
  ),
  systemStateKeys: asArray(
    'SELECT state_key AS id FROM system_state WHERE state_key > ? ORDER BY state_key LIMIT ?',
  ),
};

/**
 * Live cache keys after a key, in one statement (one snapshot): the canonical expiries in SQL
 * (parameters: after, now, limit), and every other-format row after it (parameter: after),
 * which the core decides as loads decide (usually none).
 */
export const CACHE_PAGE_SQL = `SELECT
  (${asArray(`SELECT cache_key AS id FROM cache_entries WHERE cache_key > ? AND ${LIVE_CANONICAL}
    ORDER BY cache_key LIMIT ?`)}) AS live,
  (SELECT json_group_array(json_array(cache_key, ${expiryText()})) FROM cache_entries
    WHERE cache_key > ? AND ${OTHER_FORMAT}) AS other`;

/** Up to `limit` ids of `listing` after `after`, in code point order. */
export async function readSqliteIdPage(
  db: SqliteConnection,
  listing: ListingName,
  after: string | null,
  limit: number,
  nowMs: number,
): Promise<string[]> {
  const from = after ?? ''; // every id is non-empty, so '' sorts before all of them
  if (listing !== 'cacheKeys') {
    const [row] = await db.all<{ ids: string }>(`list ${listing}`, PAGE_SQL[listing], [from, limit]);
    return row === undefined ? [] : (parseStoredJson(row.ids, `page of ${listing}`) as string[]);
  }
  const params = [from, formatEpochMs(nowMs), limit, from];
  const [row] = await db.all<{ live: string; other: string }>('list cache keys', CACHE_PAGE_SQL, params);
  if (row === undefined) return [];
  const live = parseStoredJson(row.live, 'page of cache keys') as string[];
  const other = parseStoredJson(row.other, 'cache_entries expiries') as Array<[string, string]>;
  const otherLive = other.filter(([, expiresAt]) => !isCacheExpired(expiresAt, nowMs)).map(([key]) => key);
  if (otherLive.length === 0) return live;
  // Rare: entries another program wrote with another timestamp format join the page.
  return [...live, ...otherLive].sort(compareCodePoints).slice(0, limit);
}

/** Raw messages at `offset` (up to `limit`, all when `null`), in list order. */
export async function readSqliteRawWindow(
  db: SqliteConnection,
  conversationId: string,
  offset: number,
  limit: number | null,
): Promise<JsonValue[]> {
  const rows = await db.all<{ message_data: string }>(
    `load raw messages of ${quoteName(conversationId)}`,
    'SELECT message_data FROM raw_messages WHERE conversation_id = ? ORDER BY message_index, id LIMIT ? OFFSET ?',
    [conversationId, limit ?? -1, offset],
  );
  return rows.map((row, i) =>
    parseStoredJson(row.message_data, `raw_messages row ${offset + i} of ${quoteName(conversationId)}`),
  );
}

/** Memories at `offset` (up to `limit`, all when `null`), in insertion order. */
export async function readSqliteMemoryWindow(
  db: SqliteConnection,
  conversationId: string,
  offset: number,
  limit: number | null,
): Promise<JsonObject[]> {
  const rows = await db.all<MemoryRow>(
    `load memories of ${quoteName(conversationId)}`,
    'SELECT memory_id, memory_data, created_at FROM memories WHERE conversation_id = ? ORDER BY id LIMIT ? OFFSET ?',
    [conversationId, limit ?? -1, offset],
  );
  return rows.map((row) => memoryFromRow(row, conversationId));
}
