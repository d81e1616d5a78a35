/**
 * `loadConversationBatch` on PostgreSQL: one statement, one round trip for a group of
 * conversation ids instead of four per id. The four kinds come back as one `UNION ALL`
 * result, tagged by kind and ordered as each single read orders its rows; the ids are one
 * array parameter, so any number of them is one prepared statement.
 */
import { parseStoredJson, parseStoredJsonObject, type StoredConversation } from '../../core/index.js';
import type { PostgresConnection } from './connection.js';
import { memoryFromRow } from './rows.js';
import { quoteIdent } from './sql.js';
import { type Statement, statement } from './statements.js';
import { quoteName } from '../../core/shown-text.js';

/** The kind tags of the batch statement's rows. */
const CONVERSATION = 0;
const RAW_MESSAGE = 1;
const MEMORY = 2;
const CHUNK_INFO = 3;

/** The batch read statement of a store whose tables live in `schema`. $1: the ids. */
function buildBatchReadSql(schema: string): Statement {
  const s = quoteIdent(schema);
  const ids = 'conversation_id = ANY($1::text[])';
  // `n` orders rows within a kind and id as the single reads do: message index, memory row id.
  return statement(`SELECT ${CONVERSATION} AS k, conversation_id AS cid, 0::bigint AS n, data AS json,
      NULL::text AS memory_id, NULL::text AS created_at FROM ${s}.conversations WHERE ${ids}
    UNION ALL SELECT ${RAW_MESSAGE}, conversation_id, message_index, message_data, NULL, NULL
      FROM ${s}.raw_messages WHERE ${ids}
    UNION ALL SELECT ${MEMORY}, conversation_id, id, memory_data, memory_id, created_at
      FROM ${s}.memories WHERE ${ids}
    UNION ALL SELECT ${CHUNK_INFO}, conversation_id, 0, chunk_data, NULL, NULL FROM ${s}.chunk_info WHERE ${ids}
    ORDER BY k, cid, n`);
}

const bySchema = new Map<string, Statement>();

/** A row of the batch statement. */
interface BatchRow {
  k: number;
  cid: string;
  json: string;
  memory_id: string | null;
  created_at: string | null;
}

/**
 * Reads `ids` (non-empty, validated, possibly repeated), results aligned with `ids`; `where`
 * names a row's table and record in errors, as the single reads do.
 */
export async function readPostgresConversationBatch(
  db: PostgresConnection,
  schema: string,
  ids: readonly string[],
  where: (table: string, what: string) => string,
): Promise<StoredConversation[]> {
  let sql = bySchema.get(schema);
  if (sql === undefined) bySchema.set(schema, (sql = buildBatchReadSql(schema)));
  const distinct = [...new Set(ids)];
  const rows = await db.rows<BatchRow>(
    `load ${ids.length} conversation(s) from ${quoteName(ids[0] ?? '')}`,
    sql,
    [distinct],
  );
  const rowsOf = new Map<string, BatchRow[]>();
  for (const row of rows) {
    const group = rowsOf.get(row.cid);
    if (group === undefined) rowsOf.set(row.cid, [row]);
    else group.push(row);
  }
  // Parsed per requested id, so a repeated id gets its own objects, as separate loads would.
  return ids.map((id) => parseConversation(id, rowsOf.get(id) ?? [], where));
}

/** One id's parts from its rows (in statement order). */
function parseConversation(
  id: string,
  rows: readonly BatchRow[],
  where: (table: string, what: string) => string,
): StoredConversation {
  const label = quoteName(id);
  const stored: StoredConversation = {
    conversationId: id,
    conversation: null,
    rawMessages: [],
    memories: [],
    chunkInfo: null,
  };
  for (const row of rows) {
    switch (row.k) {
      case CONVERSATION:
        stored.conversation = parseStoredJsonObject(
          row.json,
          where('conversations', `conversation ${label}`),
        );
        break;
      case RAW_MESSAGE: {
        const what = `raw messages of ${label}, index ${stored.rawMessages.length}`;
        stored.rawMessages.push(parseStoredJson(row.json, where('raw_messages', what)));
        break;
      }
      case MEMORY: {
        const memory = {
          memory_id: row.memory_id ?? '',
          created_at: row.created_at ?? 'null',
          memory_data: row.json,
        };
        const what = () => `conversation ${label}, memory ${quoteName(memory.memory_id)}`;
        stored.memories.push(memoryFromRow(memory, () => where('memories', what())));
        break;
      }
      default:
        stored.chunkInfo = parseStoredJsonObject(row.json, where('chunk_info', `chunk info of ${label}`));
    }
  }
  return stored;
}
