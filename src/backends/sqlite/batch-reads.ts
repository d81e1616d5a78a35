/**
 * `loadConversationBatch` on SQLite: one query per kind for a group of conversation ids
 * instead of four queries per id, all four in one turn on the connection. The id list is a
 * fixed number of bound parameters (a short group is padded by repeating its last id), so
 * each query is prepared once and reused; ids are never put into the SQL text or a JSON
 * argument (a bound string reaches SQLite exactly as the single reads bind it).
 */
import {
  type JsonObject,
  type JsonValue,
  parseStoredJson,
  parseStoredJsonObject,
  type StoredConversation,
} from '../../core/index.js';
import type { SqliteConnection } from './connection.js';
import { memoryFromRow, type MemoryRow } from './rows.js';
import { quoteName } from '../../core/shown-text.js';

/** Ids per query: a batch of more is read in slices of this many. */
const SLICE = 64;

const IDS = `(${Array.from({ length: SLICE }, () => '?').join(', ')})`;

/** The statements, each in the order its single read returns rows per id (`cid`: an alias that cannot shadow the `id` columns). */
const BATCH_SQL = {
  conversations: `SELECT conversation_id AS cid, data AS json FROM conversations WHERE conversation_id IN ${IDS}`,
  rawMessages: `SELECT conversation_id AS cid, message_data AS json FROM raw_messages
    WHERE conversation_id IN ${IDS} ORDER BY conversation_id, message_index, id`,
  memories: `SELECT conversation_id AS cid, memory_id, memory_data, created_at FROM memories
    WHERE conversation_id IN ${IDS} ORDER BY conversation_id, id`,
  chunkInfo: `SELECT conversation_id AS cid, chunk_data AS json FROM chunk_info WHERE conversation_id IN ${IDS}`,
};

type JsonRow = { cid: string; json: string };

/** Rows grouped by conversation id, in row order. */
function byId<R extends { cid: string }>(rows: readonly R[]): Map<string, R[]> {
  const groups = new Map<string, R[]>();
  for (const row of rows) {
    const group = groups.get(row.cid);
    if (group === undefined) groups.set(row.cid, [row]);
    else group.push(row);
  }
  return groups;
}

/** Reads `ids` (non-empty, validated, possibly repeated), results aligned with `ids`. */
export async function readSqliteConversationBatch(
  db: SqliteConnection,
  ids: readonly string[],
): Promise<StoredConversation[]> {
  const out: StoredConversation[] = [];
  for (let start = 0; start < ids.length; start += SLICE) {
    out.push(...(await readSlice(db, ids.slice(start, start + SLICE))));
  }
  return out;
}

async function readSlice(db: SqliteConnection, ids: readonly string[]): Promise<StoredConversation[]> {
  const params = Array.from({ length: SLICE }, (_, i) => ids[Math.min(i, ids.length - 1)] as string);
  const what = `load ${ids.length} conversation(s) from ${quoteName(ids[0] ?? '')}`;
  const [conversations, messages, memories, chunks] = await db.exclusive(
    what,
    async (q) => [
      await q.all<JsonRow>(BATCH_SQL.conversations, params),
      await q.all<JsonRow>(BATCH_SQL.rawMessages, params),
      await q.all<MemoryRow & { cid: string }>(BATCH_SQL.memories, params),
      await q.all<JsonRow>(BATCH_SQL.chunkInfo, params),
    ],
    'read',
  );
  // Texts by id, parsed per position: an id given twice gets objects of its own at each, as two
  // single loads would (one object at both, a caller's change to one showed in the other).
  const texts = (rows: JsonRow[]) => new Map(rows.map((row) => [row.cid, row.json]));
  const object = (json: string | undefined, what: string, id: string): JsonObject | null =>
    json === undefined ? null : parseStoredJsonObject(json, () => `${what} ${quoteName(id)} in ${db.path}`);
  const conversationOf = texts(conversations);
  const chunkOf = texts(chunks);
  const messagesOf = byId(messages);
  const memoriesOf = byId(memories);
  return ids.map((id) => ({
    conversationId: id,
    conversation: object(conversationOf.get(id), 'conversation', id),
    rawMessages: parseMessages(messagesOf.get(id) ?? [], id),
    memories: (memoriesOf.get(id) ?? []).map((row) => memoryFromRow(row, id)),
    chunkInfo: object(chunkOf.get(id), 'chunk info', id),
  }));
}

/**
 * The raw messages of `rows`, parsed; the location of a bad one is only written out when it
 * is bad (a read of a group parses thousands of rows).
 */
function parseMessages(rows: readonly JsonRow[], id: string): JsonValue[] {
  const out: JsonValue[] = [];
  let i = 0;
  try {
    // JSON.parse would read a non-string (a NULL, a number) as JSON text: parseStoredJson refuses it below.
    for (; i < rows.length && typeof (rows[i] as JsonRow).json === 'string'; i += 1)
      out.push(JSON.parse((rows[i] as JsonRow).json) as JsonValue);
  } catch {
    // Reported below with its location.
  }
  if (i < rows.length)
    parseStoredJson((rows[i] as JsonRow).json, `raw_messages row ${i} of ${quoteName(id)}`);
  return out;
}
