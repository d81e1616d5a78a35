/**
 * Schema version 6: `storeRawMessages` is one call of the schema's `store_raw_messages`
 * function, one round trip instead of four; so is a chain append that trims the agent to
 * `maxReasoningChainsPerAgent`, and a trim alone (`append_reasoning_chains` with no records).
 *
 * A replace takes an advisory lock on the conversation first (two concurrent replaces of one
 * list would otherwise each delete the rows the other has not committed yet and then collide
 * on, or interleave, their inserts), and the statement that compares and writes must read with
 * a snapshot taken after the lock, so it sees every replace committed while this one waited.
 * From the client that took a transaction of four round trips (`BEGIN`, the lock, the replace,
 * `COMMIT`). In a `VOLATILE` PL/pgSQL function each statement reads with a new snapshot (READ
 * COMMITTED), so the lock and the replace are two statements of one call, in the call's own
 * transaction (or the caller's). The list travels as one JSON array (`JSON.stringify` of the
 * messages): a `json` value keeps each element's text exactly as sent, so no message is
 * stringified alone and then escaped again inside an array of strings.
 *
 * Chains take the agent's advisory lock before any id is drawn (so one agent's ids commit in
 * order), and a trim after an append must see every append committed while it waited: the
 * append with a limit was a transaction of four round trips (`BEGIN`, the locked insert, the
 * trim, `COMMIT`), a trim alone one of four too.
 */
import { dollarQuote } from './dollar-quote.js';

/** The DDL of version 6 for the schema `s` (quoted). */
export function schemaVersion6(s: string): string[] {
  return [
    // p_lock: the lock namespace (bulk-writes.ts takes the same lock for its batches); p_texts:
    // the messages; p_tokens, p_lengths: their search columns (`[]` with the index off: ROWS
    // FROM pads the shorter lists with NULL).
    `CREATE FUNCTION ${s}.store_raw_messages(p_conversation text, p_lock text, p_texts json,
        p_tokens json, p_lengths json)
      RETURNS void LANGUAGE plpgsql VOLATILE AS ${dollarQuote(`
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(p_lock), hashtext(p_conversation));
  -- The tail past the new list is deleted, and only the positions whose text differs from the
  -- stored row (or that have none, or whose row has no index columns while the write brings
  -- them) are upserted; unchanged rows are only read, not even locked, so an agent that stores
  -- its whole list after every turn writes and indexes the new messages only.
  WITH m AS (SELECT m.n - 1 AS idx, m.data::text AS data, m.tokens, m.len::int AS len
      FROM ROWS FROM (json_array_elements(p_texts), json_array_elements_text(p_tokens),
        json_array_elements_text(p_lengths)) WITH ORDINALITY AS m(data, tokens, len, n)),
    del AS (DELETE FROM ${s}.raw_messages
      WHERE conversation_id = p_conversation AND message_index >= json_array_length(p_texts)),
    changed AS (SELECT m.* FROM m LEFT JOIN ${s}.raw_messages o
        ON o.conversation_id = p_conversation AND o.message_index = m.idx
      WHERE o.message_data IS DISTINCT FROM m.data OR (o.search_length IS NULL AND m.len IS NOT NULL))
  INSERT INTO ${s}.raw_messages AS r (conversation_id, message_index, message_data, search_tokens, search_length)
  SELECT p_conversation, c.idx, c.data, c.tokens::tsvector, c.len FROM changed c
  ON CONFLICT (conversation_id, message_index) DO UPDATE SET message_data = EXCLUDED.message_data,
    search_tokens = EXCLUDED.search_tokens, search_length = EXCLUDED.search_length, created_at = now()
  WHERE r.message_data IS DISTINCT FROM EXCLUDED.message_data
    OR (r.search_length IS NULL AND EXCLUDED.search_length IS NOT NULL);
END`)}`,
    // The chains' lock namespace is p_lock (chains.ts); p_records, p_tokens, p_lengths as
    // above (in order: the ids follow it); p_keep: the agent keeps its newest p_keep chains
    // (NULL: no trim). Returns the number of chains the trim removed.
    `CREATE FUNCTION ${s}.append_reasoning_chains(p_lock text, p_agent text, p_records json,
        p_tokens json, p_lengths json, p_keep bigint)
      RETURNS bigint LANGUAGE plpgsql VOLATILE AS ${dollarQuote(`
DECLARE
  removed bigint := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(p_lock), hashtext(p_agent));
  INSERT INTO ${s}.reasoning_chains (agent_id, chain_data, search_tokens, search_length)
  SELECT p_agent, c.data::text, c.tokens::tsvector, c.len::int
  FROM ROWS FROM (json_array_elements(p_records), json_array_elements_text(p_tokens),
    json_array_elements_text(p_lengths)) WITH ORDINALITY AS c(data, tokens, len, n)
  ORDER BY c.n;
  IF p_keep IS NOT NULL THEN
    -- Every chain at or below the (p_keep + 1)-th newest: all but the newest p_keep.
    DELETE FROM ${s}.reasoning_chains WHERE agent_id = p_agent AND id <= (
      SELECT id FROM ${s}.reasoning_chains WHERE agent_id = p_agent ORDER BY id DESC OFFSET p_keep LIMIT 1);
    GET DIAGNOSTICS removed = ROW_COUNT;
  END IF;
  RETURN removed;
END`)}`,
  ];
}
