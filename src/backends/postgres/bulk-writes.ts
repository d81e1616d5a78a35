/**
 * Whole-conversation batches on PostgreSQL (`storeConversationBatch`): one transaction of at
 * most six statements whatever the number of conversations (advisory locks of the
 * conversations, then one multi-row statement per kind, its rows sent as JSON parameters, see
 * `bulk-rows.ts`), so all or nothing, and a `deleteConversation` of one of them comes wholly
 * before or after it. Rows carry their search columns like the single writes,
 * so the index is never behind the data.
 */
import type { ConversationWrite } from '../../core/index.js';
import { BulkRows, bulkRowsSql } from './bulk-rows.js';
import type { PostgresConnection, SqlParam } from './connection.js';
import {
  addMemoryRows,
  chosenCreatedAt,
  MemoryBulkRows,
  memoryReplace,
  type MemoryUpserts,
} from './memory-rows.js';
import type { PostgresSearchIndex } from './search-index.js';
import { conversationRowsLock, quoteIdent, rawMessagesLock } from './sql.js';
import { type Statement, statements } from './statements.js';
import { quoteName } from '../../core/shown-text.js';

/** Columns of every kind's rows after the record: conversation id, `tsvector` text, length in tokens. */
const SEARCHED = [
  ['i', 'text'],
  ['v', 'tsvector'],
  ['l', 'int'],
] as const;

/** Rows of conversation objects and chunk info. */
const objectRows = bulkRowsSql(SEARCHED);
/** Rows of raw messages: `p` the position in the list. */
const messageRows = bulkRowsSql([...SEARCHED, ['p', 'int']]);
/** Rows of memories: `m` memory id, `c` created_at (JSON text). */
const memoryRows = bulkRowsSql([...SEARCHED, ['m', 'text'], ['c', 'text']]);

/**
 * The `WHERE` of an upsert that first takes the shared locks of namespace `$<namespace>`
 * (`conversationRowsLock`, sql.ts) on the conversation ids `$<ids>` (none when its
 * transaction already holds them): an uncorrelated subquery, run once before any row is
 * written. The locks come after the statement's snapshot, which an upsert does not mind: its
 * conflicts are checked against the latest committed rows.
 */
function sharedLocks(namespace: number, ids: number): string {
  return `WHERE (SELECT count(pg_advisory_xact_lock_shared(hashtext($${namespace}), hashtext(id)))
      FROM unnest($${ids}::text[]) AS id) >= 0`;
}

/**
 * The memory upsert over {@link memoryRows} (rows in batch order, so new memories get ids,
 * their positions, in order; a replace keeps its row) where every row's replace sets
 * `created_at` to `createdAt` (`m.created_at`: kept; `EXCLUDED.created_at`: the row's own).
 * $7 and $8: the locks to take first ({@link sharedLocks}).
 */
function memoryUpsert(s: string, createdAt: string): string {
  const m = memoryRows;
  return `INSERT INTO ${s}.memories AS m
      (conversation_id, memory_id, created_at, memory_data, search_tokens, search_length)
    SELECT ${m.column('i')}, ${m.column('m')}, ${m.column('c')}, ${m.record}, ${m.column('v')}, ${m.column('l')}
    FROM ${m.from} ${sharedLocks(7, 8)} ORDER BY r.n
    ${memoryReplace(createdAt)}`;
}

/**
 * The batch statements of a store whose tables live in `schema`. Each multi-row statement
 * takes its rows as JSON parameters ({@link BulkRows}); the statements are the single
 * writes' (`sql.ts`) over many rows.
 */
export function buildBulkSql(schema: string) {
  const s = quoteIdent(schema);
  const o = objectRows;
  const r = messageRows;
  return statements({
    // The locks of a batch that replaces raw-message lists, ids sorted by the caller so that
    // two batches take them in the same order (no deadlock): $1 the namespace of
    // `rawMessagesLock` (sql.ts), taken exclusive on the first $3 ids (those whose list is
    // replaced), then $2 the namespace of `conversationRowsLock`, shared on the others (a
    // delete waits for the batch either way). Its own statement: the replace then reads with
    // a snapshot taken after the locks. $4: conversation ids. A batch that replaces no list
    // has its first upsert take the shared locks ({@link sharedLocks}): no round trip more.
    lockConversations: `SELECT count(CASE WHEN ids.n <= $3
        THEN pg_advisory_xact_lock(hashtext($1), hashtext(ids.id))
        ELSE pg_advisory_xact_lock_shared(hashtext($2), hashtext(ids.id)) END)
      FROM unnest($4::text[]) WITH ORDINALITY AS ids(id, n)`,
    // $5 and $6: the locks to take first ({@link sharedLocks}), as the memory and chunk upserts.
    upsertConversations: `INSERT INTO ${s}.conversations (conversation_id, data, search_tokens, search_length)
      SELECT ${o.column('i')}, ${o.record}, ${o.column('v')}, ${o.column('l')} FROM ${o.from} ${sharedLocks(5, 6)}
      ON CONFLICT (conversation_id) DO UPDATE SET data = EXCLUDED.data, updated_at = now(),
        search_tokens = EXCLUDED.search_tokens, search_length = EXCLUDED.search_length`,
    // Many lists; $6: the ids whose list is replaced.
    replaceRawMessages: `WITH del AS (DELETE FROM ${s}.raw_messages WHERE conversation_id = ANY($6::text[]) RETURNING 1)
      INSERT INTO ${s}.raw_messages (conversation_id, message_index, message_data, search_tokens, search_length)
      SELECT ${r.column('i')}, ${r.column('p')}, ${r.record}, ${r.column('v')}, ${r.column('l')} FROM ${r.from}
      WHERE (SELECT count(*) FROM del) >= 0`,
    // Some rows chose their created_at and some did not: a replace looks its row's choice up
    // in $9 ({@link chosenCreatedAt}).
    upsertMemories: memoryUpsert(s, chosenCreatedAt(9)),
    upsertMemoriesKeepingCreatedAt: memoryUpsert(s, 'm.created_at'),
    upsertMemoriesSettingCreatedAt: memoryUpsert(s, 'EXCLUDED.created_at'),
    upsertChunkInfos: `INSERT INTO ${s}.chunk_info (conversation_id, chunk_data, search_tokens, search_length)
      SELECT ${o.column('i')}, ${o.record}, ${o.column('v')}, ${o.column('l')} FROM ${o.from} ${sharedLocks(5, 6)}
      ON CONFLICT (conversation_id) DO UPDATE SET chunk_data = EXCLUDED.chunk_data, updated_at = now(),
        search_tokens = EXCLUDED.search_tokens, search_length = EXCLUDED.search_length`,
  });
}

/** The statements of one store. */
export type PostgresBulkSql = ReturnType<typeof buildBulkSql>;

/** The memory upserts of a conversation batch. */
function memoryUpserts(sql: PostgresBulkSql): MemoryUpserts {
  return {
    keep: sql.upsertMemoriesKeepingCreatedAt,
    set: sql.upsertMemoriesSettingCreatedAt,
    mixed: sql.upsertMemories,
  };
}

/** Writes `writes` (distinct ids, validated) in one transaction. */
export async function writeConversationBatch(
  db: PostgresConnection,
  sql: PostgresBulkSql,
  schema: string,
  index: PostgresSearchIndex,
  writes: readonly ConversationWrite[],
): Promise<void> {
  const conversations = new BulkRows(SEARCHED.length);
  const chunks = new BulkRows(SEARCHED.length);
  const rawIds: string[] = [];
  const otherIds: string[] = [];
  const messages = new BulkRows(SEARCHED.length + 1);
  const memories = new MemoryBulkRows(true, true);
  for (const write of writes) {
    const id = write.conversationId;
    if (write.conversation !== null) {
      conversations.add(write.conversation, id, ...index.columns('conversations', write.conversation));
    }
    if (write.rawMessages !== null) {
      rawIds.push(id);
      write.rawMessages.forEach((message, position) => {
        messages.add(message, id, ...index.columns('raw_messages', message), position);
      });
    } else {
      otherIds.push(id);
    }
    addMemoryRows(memories, id, write.memories, index);
    if (write.chunkInfo !== null) {
      chunks.add(write.chunkInfo, id, ...index.columns('chunk_info', write.chunkInfo));
    }
  }
  const first = quoteName(writes[0]?.conversationId ?? '');
  const what = `store ${writes.length} conversation(s) from ${first}`;
  const name = () => ({
    method: 'storeConversationBatch',
    field: 'items',
    count: writes.length,
    first: `conversation ${first}`,
  });
  // Every parameter is built before the transaction (a batch too large to send fails before
  // any write), so that the records (held by nothing else here) can be collected while its
  // round trips run. The shared locks are taken by the lock statement when the batch replaces
  // lists, else by its first upsert; the statements after it take none.
  const rowsLock = conversationRowsLock(schema);
  otherIds.sort();
  let pending = rawIds.length > 0 ? [] : otherIds;
  const locks = (): [string, string[]] => {
    const ids = pending;
    pending = [];
    return [rowsLock, ids];
  };
  const params: Array<[Statement, SqlParam[]]> = [];
  if (conversations.length > 0) {
    params.push([sql.upsertConversations, [...conversations.params(name), ...locks()]]);
  }
  if (rawIds.length > 0) params.push([sql.replaceRawMessages, [...messages.params(name), rawIds]]);
  if (memories.length > 0) params.push(memories.upsert(memoryUpserts(sql), name, locks()));
  if (chunks.length > 0) params.push([sql.upsertChunkInfos, [...chunks.params(name), ...locks()]]);
  const lock = [rawMessagesLock(schema), rowsLock, rawIds.length, [...[...rawIds].sort(), ...otherIds]];
  await db.transaction(what, async (tx) => {
    if (rawIds.length > 0) await tx.rows(sql.lockConversations, lock);
    for (const [statement, values] of params) await tx.run(statement, values);
  });
}
