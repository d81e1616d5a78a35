/**
 * Whole-conversation batches on PostgreSQL (`storeConversationBatch`): one transaction of at
 * most six statements whatever the number of conversations (advisory locks of the raw-message
 * lists, then one multi-row `unnest` statement per kind), so all or nothing. Rows carry their
 * search columns like the single writes, so the index is never behind the data.
 */
import { collapseMemoryWrites, type ConversationWrite } from '../../core/index.js';
import type { PostgresConnection } from './connection.js';
import { memoryColumns } from './rows.js';
import type { PostgresSearchIndex } from './search-index.js';
import { quoteIdent } from './sql.js';
import { statements } from './statements.js';

/** The batch statements of a store whose tables live in `schema`. */
export function buildBulkSql(schema: string) {
  const s = quoteIdent(schema);
  return statements({
    // The lock of `lockRawMessages` (sql.ts) per id, ids sorted by the caller so that two
    // batches take them in the same order (no deadlock). Its own statement: the replace then
    // reads with a snapshot taken after the locks. $1: namespace, $2: conversation ids.
    lockRawMessages: `SELECT count(pg_advisory_xact_lock(hashtext($1), hashtext(ids.id)))
      FROM unnest($2::text[]) WITH ORDINALITY AS ids(id, n)`,
    // $1..$4: ids, data, search tokens, lengths (one element per conversation).
    upsertConversations: `INSERT INTO ${s}.conversations (conversation_id, data, search_tokens, search_length)
      SELECT c.id, c.data, c.tokens::tsvector, c.len FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS c(id, data, tokens, len)
      ON CONFLICT (conversation_id) DO UPDATE SET data = EXCLUDED.data, updated_at = now(),
        search_tokens = EXCLUDED.search_tokens, search_length = EXCLUDED.search_length`,
    // `replaceRawMessages` (sql.ts) for many lists. $1: the ids whose list is replaced; $2..$6,
    // one element per message: id, position, JSON text, search tokens, length.
    replaceRawMessages: `WITH del AS (DELETE FROM ${s}.raw_messages WHERE conversation_id = ANY($1::text[]) RETURNING 1)
      INSERT INTO ${s}.raw_messages (conversation_id, message_index, message_data, search_tokens, search_length)
      SELECT m.id, m.position, m.data, m.tokens::tsvector, m.len
      FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::int[]) AS m(id, position, data, tokens, len)
      WHERE (SELECT count(*) FROM del) >= 0`,
    // `upsertMemories` (sql.ts) over several conversations: rows in batch order, so new memories
    // get ids (positions) in order; a replace keeps its row and, unless chosen, its created_at.
    upsertMemories: `WITH b AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::int[])
          WITH ORDINALITY AS b(conversation_id, memory_id, created_at, memory_data, explicit, tokens, len, n))
      INSERT INTO ${s}.memories AS m
        (conversation_id, memory_id, created_at, memory_data, search_tokens, search_length)
      SELECT b.conversation_id, b.memory_id, b.created_at, b.memory_data, b.tokens::tsvector, b.len FROM b ORDER BY b.n
      ON CONFLICT (conversation_id, memory_id) DO UPDATE SET
        memory_data = EXCLUDED.memory_data,
        search_tokens = EXCLUDED.search_tokens,
        search_length = EXCLUDED.search_length,
        created_at = CASE WHEN (SELECT b.explicit FROM b
            WHERE b.conversation_id = EXCLUDED.conversation_id AND b.memory_id = EXCLUDED.memory_id)
          THEN EXCLUDED.created_at ELSE m.created_at END,
        updated_at = now()`,
    // $1..$4 as for conversations.
    upsertChunkInfos: `INSERT INTO ${s}.chunk_info (conversation_id, chunk_data, search_tokens, search_length)
      SELECT c.id, c.data, c.tokens::tsvector, c.len FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS c(id, data, tokens, len)
      ON CONFLICT (conversation_id) DO UPDATE SET chunk_data = EXCLUDED.chunk_data, updated_at = now(),
        search_tokens = EXCLUDED.search_tokens, search_length = EXCLUDED.search_length`,
  });
}

/** The statements of one store. */
export type PostgresBulkSql = ReturnType<typeof buildBulkSql>;

/** Column arrays of one multi-row statement. */
type Columns = Array<Array<string | number | null>>;

function columnsOf(width: number): Columns {
  return Array.from({ length: width }, () => []);
}

function push(columns: Columns, values: Array<string | number | null>): void {
  values.forEach((value, i) => columns[i]?.push(value));
}

/** Writes `writes` (distinct ids, validated) in one transaction. */
export async function writeConversationBatch(
  db: PostgresConnection,
  sql: PostgresBulkSql,
  schema: string,
  index: PostgresSearchIndex,
  writes: readonly ConversationWrite[],
): Promise<void> {
  const conversations = columnsOf(4);
  const chunks = columnsOf(4);
  const rawIds: string[] = [];
  const messages = columnsOf(5);
  const memories = columnsOf(7);
  for (const write of writes) {
    const id = write.conversationId;
    if (write.conversation !== null) {
      const search = index.columns('conversations', write.conversation);
      push(conversations, [id, JSON.stringify(write.conversation), ...search]);
    }
    if (write.rawMessages !== null) {
      rawIds.push(id);
      write.rawMessages.forEach((message, position) => {
        const search = index.columns('raw_messages', message);
        push(messages, [id, position, JSON.stringify(message), ...search]);
      });
    }
    for (const memory of collapseMemoryWrites(write.memories)) {
      const { createdAt, data } = memoryColumns(memory.record);
      const search = index.columns('memories', memory.record);
      push(memories, [id, memory.memoryId, createdAt, data, String(memory.explicitCreatedAt), ...search]);
    }
    if (write.chunkInfo !== null) {
      const search = index.columns('chunk_info', write.chunkInfo);
      push(chunks, [id, JSON.stringify(write.chunkInfo), ...search]);
    }
  }
  const what = `store ${writes.length} conversation(s) from ${JSON.stringify(writes[0]?.conversationId)}`;
  await db.transaction(what, async (tx) => {
    if (rawIds.length > 0) {
      const namespace = `connectome-storage raw_messages ${schema}`;
      await tx.rows(sql.lockRawMessages, [namespace, [...rawIds].sort()]);
    }
    if (conversations[0]?.length) await tx.run(sql.upsertConversations, conversations);
    if (rawIds.length > 0) await tx.run(sql.replaceRawMessages, [rawIds, ...messages]);
    if (memories[0]?.length) await tx.run(sql.upsertMemories, memories);
    if (chunks[0]?.length) await tx.run(sql.upsertChunkInfos, chunks);
  });
}
