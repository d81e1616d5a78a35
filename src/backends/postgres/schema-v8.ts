/**
 * Schema version 8: `deleteConversation` and `deleteMemories` are one call each of the
 * schema's `delete_conversation` and `delete_memories` functions, one round trip instead of four.
 *
 * Both take advisory locks first (`rawMessagesLock` and `conversationRowsLock`, sql.ts, as the
 * writes and batches of the conversation take them), and the delete that follows must read with
 * a snapshot taken after the locks: a memory batch that committed while the delete waited
 * inserted rows an earlier snapshot does not see, so they would survive a delete that came after
 * the batch. From the client that took a transaction of four round trips (`BEGIN`, the locks,
 * the delete, `COMMIT`). In a `VOLATILE` PL/pgSQL function each statement reads with a new
 * snapshot (READ COMMITTED), as in version 6 (`schema-v6.ts`), so the locks and the delete are
 * statements of one call, in the call's own transaction.
 */
import { dollarQuote } from './dollar-quote.js';

/** The DDL of version 8 for the schema `s` (quoted). */
export function schemaVersion8(s: string): string[] {
  return [
    // p_raw_lock, p_rows_lock: the namespaces of the two locks, taken exclusively in this order
    // (as batches take them). One statement deletes every kind, so all or nothing.
    `CREATE FUNCTION ${s}.delete_conversation(p_raw_lock text, p_rows_lock text, p_conversation text)
      RETURNS void LANGUAGE plpgsql VOLATILE AS ${dollarQuote(`
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(p_raw_lock), hashtext(p_conversation));
  PERFORM pg_advisory_xact_lock(hashtext(p_rows_lock), hashtext(p_conversation));
  WITH raw AS (DELETE FROM ${s}.raw_messages WHERE conversation_id = p_conversation),
    mem AS (DELETE FROM ${s}.memories WHERE conversation_id = p_conversation),
    chunk AS (DELETE FROM ${s}.chunk_info WHERE conversation_id = p_conversation)
  DELETE FROM ${s}.conversations WHERE conversation_id = p_conversation;
END`)}`,
    // p_rows_lock: the namespace of the conversation's rows lock, taken exclusively (memory
    // batches take it shared), so a delete batch and a memory batch come wholly one before the
    // other and never deadlock over their rows.
    `CREATE FUNCTION ${s}.delete_memories(p_rows_lock text, p_conversation text, p_ids text[])
      RETURNS void LANGUAGE plpgsql VOLATILE AS ${dollarQuote(`
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(p_rows_lock), hashtext(p_conversation));
  DELETE FROM ${s}.memories WHERE conversation_id = p_conversation AND memory_id = ANY(p_ids);
END`)}`,
  ];
}
