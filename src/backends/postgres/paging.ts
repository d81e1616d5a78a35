/**
 * Keyset pages and window reads on PostgreSQL. Ids are compared and ordered with
 * `COLLATE "C"` (byte order of UTF-8 = code point order), whatever the database's collation,
 * so pages follow the library's order. Since schema version 3 the id columns are declared
 * `COLLATE "C"` too, so a page walks the primary key from the cursor instead of sorting.
 */
import { type JsonObject, type JsonValue, type ListingName, parseStoredJson } from '../../core/index.js';
import type { PostgresConnection, SqlParam } from './connection.js';
import { memoryFromRow, type MemoryRow } from './rows.js';
import { quoteIdent } from './sql.js';
import { quoteName } from '../../core/shown-text.js';

/** The paging statements of a store whose tables live in `schema` (exported for the plan tests). */
export function buildPagingSql(schema: string) {
  const s = quoteIdent(schema);
  // Parameters: after ('' for the start: every id is non-empty), limit.
  const page = (id: string, from: string, where = '', distinct = ''): string =>
    `SELECT ${distinct}${id} COLLATE "C" AS id FROM ${from} WHERE ${id} COLLATE "C" > $1${where}
      ORDER BY id LIMIT $2`;
  // Each kind's first `limit` ids after the cursor, from its index, then merged: the page is
  // among them. A union of whole kinds filtered afterwards read every id after the cursor of
  // all four tables (and every message and memory row) for each page, so a walk was quadratic.
  // Messages and memories hold many rows per id: their pages are of distinct ids.
  const kinds: Array<[table: string, distinct: string]> = [
    ['conversations', ''],
    ['raw_messages', 'DISTINCT '],
    ['memories', 'DISTINCT '],
    ['chunk_info', ''],
  ];
  const union = kinds
    .map(([table, distinct]) => `(${page('conversation_id', `${s}.${table}`, '', distinct)})`)
    .join(' UNION ');
  const pages: Record<ListingName, string> = {
    conversations: page('conversation_id', `${s}.conversations`),
    allConversationIds: `SELECT id FROM (${union}) AS ids ORDER BY id LIMIT $2`,
    agents: page('agent_id', `${s}.reasoning_chains`, '', 'DISTINCT '),
    // $3: now; live entries only, as loads decide.
    cacheKeys: page(
      'cache_key',
      `${s}.cache_entries`,
      ' AND (expires_at IS NULL OR expires_at > $3::timestamptz)',
    ),
    systemStateKeys: page('state_key', `${s}.system_state`),
  };
  return {
    pages,
    // Parameters: conversation id, limit (null: all), offset.
    rawWindow: `SELECT message_data AS json FROM ${s}.raw_messages
      WHERE conversation_id = $1 ORDER BY message_index LIMIT $2 OFFSET $3`,
    memoryWindow: `SELECT memory_id, created_at, memory_data FROM ${s}.memories
      WHERE conversation_id = $1 ORDER BY id LIMIT $2 OFFSET $3`,
  };
}

type PagingSql = ReturnType<typeof buildPagingSql>;
const bySchema = new Map<string, PagingSql>();

/** The paging statements for `schema`, built once. */
function pagingSql(schema: string): PagingSql {
  let sql = bySchema.get(schema);
  if (sql === undefined) {
    sql = buildPagingSql(schema);
    bySchema.set(schema, sql);
  }
  return sql;
}

/** Up to `limit` ids of `listing` after `after`, in code point order. */
export async function readPostgresIdPage(
  db: PostgresConnection,
  schema: string,
  listing: ListingName,
  page: { after: string | null; limit: number; nowMs: number },
): Promise<string[]> {
  const params: SqlParam[] = [page.after ?? '', page.limit];
  if (listing === 'cacheKeys') params.push(new Date(page.nowMs).toISOString());
  const rows = await db.rows<{ id: string }>(`list ${listing}`, pagingSql(schema).pages[listing], params);
  return rows.map((row) => row.id);
}

/** Raw messages at `offset` (up to `limit`, all when `null`), in list order. */
export async function readPostgresRawWindow(
  db: PostgresConnection,
  schema: string,
  conversationId: string,
  window: { offset: number; limit: number | null; where: (what: string) => string },
): Promise<JsonValue[]> {
  const what = `raw messages of ${quoteName(conversationId)}`;
  const rows = await db.rows<{ json: string }>(`load ${what}`, pagingSql(schema).rawWindow, [
    conversationId,
    window.limit,
    window.offset,
  ]);
  return rows.map((row, i) =>
    parseStoredJson(row.json, () => window.where(`${what}, index ${window.offset + i}`)),
  );
}

/** Memories at `offset` (up to `limit`, all when `null`), in insertion order. */
export async function readPostgresMemoryWindow(
  db: PostgresConnection,
  schema: string,
  conversationId: string,
  window: { offset: number; limit: number | null; where: (what: string) => string },
): Promise<JsonObject[]> {
  const conversation = `conversation ${quoteName(conversationId)}`;
  const rows = await db.rows<MemoryRow>(`load memories of ${conversation}`, pagingSql(schema).memoryWindow, [
    conversationId,
    window.limit,
    window.offset,
  ]);
  return rows.map((row) =>
    memoryFromRow(row, () => window.where(`${conversation}, memory ${quoteName(row.memory_id)}`)),
  );
}
