/**
 * Every SQL statement the PostgreSQL backend runs on its data, for one schema, with bound
 * parameters only, each a named prepared statement (see `statements.ts`). Each per-id read is
 * served by a primary key or an index (see `schema.ts`). JSON lives in `text` columns: `jsonb`
 * would refuse `\u0000` and reorder keys.
 */
import { bulkRowsSql } from './bulk-rows.js';
import { statements } from './statements.js';
import { statsCountsSql, statsGuardedSql } from './stats-sql.js';

/** Rows of a cache batch: key, stored_at, expiry text and instant (the value is the row's record). */
const cacheRows = bulkRowsSql([
  ['k', 'text'],
  ['s', 'text'],
  ['e', 'text'],
  ['i', 'timestamptz'],
]);

/**
 * The advisory-lock namespace of a schema's raw-message lists (`pg_advisory_xact_lock(hashtext(
 * namespace), hashtext(conversation id))`), taken by every write that replaces a list.
 */
export function rawMessagesLock(schema: string): string {
  return `connectome-storage raw_messages ${schema}`;
}

/**
 * The advisory-lock namespace of a schema's conversations' other rows, locked like
 * {@link rawMessagesLock}: shared by every write of many rows of one conversation (a memory
 * batch, a conversation batch's parts) that does not hold its raw-message lock, exclusive by
 * `deleteConversation` and `deleteMemories`. A delete then comes wholly before or after such a
 * write: without it, a delete whose snapshot missed the write's new rows waited for the rows it
 * replaced, removed those and left the new ones. Shared, so such writes never wait for each other.
 */
export function conversationRowsLock(schema: string): string {
  return `connectome-storage conversation rows ${schema}`;
}

/**
 * The most recent $2 chains of agent $1, returned oldest first: always a backward walk of the
 * `(agent_id, id)` index that stops after $2 entries, whatever the table's statistics say.
 * Written plainly (`agent_id = $1 ORDER BY id DESC LIMIT $2`), the server planned each call
 * with the values and the statistics of the moment: before the table's first `ANALYZE`, and
 * for an agent newer than the last one, it expected a few rows and read all of the agent's
 * (bitmap scan and sort); once the agent was in the statistics it walked the primary key
 * filtering out other agents' newer chains, and planned every call anew, as the plan with the
 * values looked cheaper than the cached one. Which happened depended on the table's width
 * (index columns or not) and on when autovacuum ran. So the values are hidden from the planner
 * (sub-selects, run once per call), its one plan serves every agent and limit and is reused
 * after the connection's fifth call; the agent is a range of one value (the same rows under
 * `COLLATE "C"`), so the order `(agent_id, id)` is one only that index gives.
 */
export function lastChainsSql(table: string): string {
  return `SELECT id, json FROM (
      SELECT id, chain_data AS json FROM ${table}
      WHERE agent_id >= (SELECT $1::text) AND agent_id <= (SELECT $1::text)
      ORDER BY agent_id DESC, id DESC LIMIT (SELECT $2::bigint)
    ) AS last ORDER BY id`;
}

/** Quotes an identifier, so any schema name the config accepts is used exactly as written. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The statements of a store whose tables live in `schema`. */
export function buildSql(schema: string) {
  const s = quoteIdent(schema);
  const c = cacheRows;
  return statements({
    // Every write of a searchable record also writes its search columns, tokens and length
    // (`PostgresSearchIndex.columns` in search-index.ts; both null with the index off).
    upsertConversation: `INSERT INTO ${s}.conversations (conversation_id, data, search_tokens, search_length)
      VALUES ($1, $2, $3::tsvector, $4::int)
      ON CONFLICT (conversation_id) DO UPDATE SET data = EXCLUDED.data, updated_at = now(),
        search_tokens = EXCLUDED.search_tokens, search_length = EXCLUDED.search_length`,
    selectConversation: `SELECT data AS json FROM ${s}.conversations WHERE conversation_id = $1`,
    // Listings come back in code point order (the id columns are `COLLATE "C"`, schema
    // version 3), so the core's sort only checks them: the primary key is walked in order.
    listConversations: `SELECT conversation_id AS id FROM ${s}.conversations ORDER BY conversation_id`,
    listAllConversations: `SELECT conversation_id AS id FROM ${s}.conversations
      UNION SELECT conversation_id FROM ${s}.raw_messages
      UNION SELECT conversation_id FROM ${s}.memories
      UNION SELECT conversation_id FROM ${s}.chunk_info
      ORDER BY id`,
    // One call of the schema's function (schema version 8, schema-v8.ts): $1 and $2 the
    // namespaces of {@link rawMessagesLock} and {@link conversationRowsLock}, taken exclusively
    // in that order (as batches take them), $3 the id; then one statement deletes every kind,
    // with a snapshot taken after the locks. Without them, a list replace (which skips its
    // unchanged rows without locking them) committed while the delete ran would leave only its
    // new messages behind (and likewise new memories, see {@link conversationRowsLock}).
    deleteConversation: `SELECT ${s}.delete_conversation($1, $2, $3)`,

    // Replaces a conversation's list under its lock, comparing with the stored rows (schema
    // version 6, schema-v6.ts). $1 conversation id, $2 lock namespace ({@link rawMessagesLock}),
    // $3 the messages as one JSON array, $4 and $5 their search tokens and lengths (JSON arrays,
    // `[]` with the index off).
    storeRawMessages: `SELECT ${s}.store_raw_messages($1, $2, $3, $4, $5)`,
    selectRawMessages: `SELECT message_data AS json FROM ${s}.raw_messages
      WHERE conversation_id = $1 ORDER BY message_index`,

    // D7 in one atomic statement: a replace updates the row in place, so it keeps its `id`
    // (its position) and, unless the new data carries one ($5), its created_at.
    upsertMemory: `INSERT INTO ${s}.memories AS m
        (conversation_id, memory_id, created_at, memory_data, search_tokens, search_length)
      VALUES ($1, $2, $3, $4, $6::tsvector, $7::int)
      ON CONFLICT (conversation_id, memory_id) DO UPDATE SET
        memory_data = EXCLUDED.memory_data,
        search_tokens = EXCLUDED.search_tokens,
        search_length = EXCLUDED.search_length,
        created_at = CASE WHEN $5::boolean THEN EXCLUDED.created_at ELSE m.created_at END,
        updated_at = now()`,
    selectMemories: `SELECT memory_id, created_at, memory_data FROM ${s}.memories
      WHERE conversation_id = $1 ORDER BY id`,
    deleteMemory: `DELETE FROM ${s}.memories WHERE conversation_id = $1 AND memory_id = $2`,
    // `deleteMemories`, one call of the schema's function (schema version 8, schema-v8.ts): $1
    // the namespace of {@link conversationRowsLock}, taken exclusively, $2 the conversation id,
    // $3 the memory ids; the delete reads with a snapshot taken after the lock, so it sees every
    // memory batch that committed while it waited (a delete batch and a memory batch come wholly
    // one before the other, and never deadlock over their rows).
    deleteMemoryBatch: `SELECT ${s}.delete_memories($1, $2, $3)`,
    deleteChains: `DELETE FROM ${s}.reasoning_chains WHERE agent_id = $1`,
    selectChains: `SELECT id, chain_data AS json FROM ${s}.reasoning_chains WHERE agent_id = $1 ORDER BY id`,
    selectLastChains: lastChainsSql(`${s}.reasoning_chains`),
    listAgents: `SELECT DISTINCT agent_id AS id FROM ${s}.reasoning_chains ORDER BY id`,

    upsertChunkInfo: `INSERT INTO ${s}.chunk_info (conversation_id, chunk_data, search_tokens, search_length)
      VALUES ($1, $2, $3::tsvector, $4::int)
      ON CONFLICT (conversation_id) DO UPDATE SET chunk_data = EXCLUDED.chunk_data, updated_at = now(),
        search_tokens = EXCLUDED.search_tokens, search_length = EXCLUDED.search_length`,
    selectChunkInfo: `SELECT chunk_data AS json FROM ${s}.chunk_info WHERE conversation_id = $1`,

    // Parameters: key, data, stored_at and expires_at as the core built them, expiry instant.
    upsertCache: `INSERT INTO ${s}.cache_entries (cache_key, cache_data, stored_at, expires_at_text, expires_at)
      VALUES ($1, $2, $3, $4, $5::timestamptz)
      ON CONFLICT (cache_key) DO UPDATE SET cache_data = EXCLUDED.cache_data, stored_at = EXCLUDED.stored_at,
        expires_at_text = EXCLUDED.expires_at_text, expires_at = EXCLUDED.expires_at`,
    selectCache: `SELECT cache_data AS json, stored_at, expires_at_text FROM ${s}.cache_entries WHERE cache_key = $1`,
    // The batches of `upsertCache`/`selectCache` (batches.ts): the values as JSON parameters
    // (bulk-rows.ts), then the columns of `cacheRowValues` but the data; the keys as one array.
    upsertCaches: `INSERT INTO ${s}.cache_entries (cache_key, cache_data, stored_at, expires_at_text, expires_at)
      SELECT ${c.column('k')}, ${c.record}, ${c.column('s')}, ${c.column('e')}, ${c.column('i')} FROM ${c.from}
      ON CONFLICT (cache_key) DO UPDATE SET cache_data = EXCLUDED.cache_data, stored_at = EXCLUDED.stored_at,
        expires_at_text = EXCLUDED.expires_at_text, expires_at = EXCLUDED.expires_at`,
    selectCaches: `SELECT cache_key, cache_data AS json, stored_at, expires_at_text FROM ${s}.cache_entries
      WHERE cache_key = ANY($1::text[])`,
    deleteCache: `DELETE FROM ${s}.cache_entries WHERE cache_key = $1`,
    // The batch of `deleteCache`: $1 the distinct keys in the order cache batches lock rows in
    // (batches.ts), which the subquery locks them in (ORDER BY before FOR UPDATE), so a delete
    // batch and a write batch sharing keys cannot deadlock each other. One statement. The
    // delete takes the locked keys as one array (an index scan of them) rather than a
    // semi-join of the subquery (a hash of its rows, then a look-up per row): 11% less server
    // CPU. Deleting by the locked rows' `ctid` would save a third, but a row an upsert replaced
    // while the delete waited for its lock is locked in a version the statement's snapshot
    // cannot see, so it would stay; found by key, it is deleted, as `deleteCache` deletes it.
    deleteCaches: `DELETE FROM ${s}.cache_entries WHERE cache_key = ANY(ARRAY(SELECT c.cache_key
      FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n) JOIN ${s}.cache_entries c ON c.cache_key = k.key
      ORDER BY k.n FOR UPDATE OF c))`,
    // "Now" ($1) comes from the caller, so expiry agrees with the core's own check.
    listLiveCacheKeys: `SELECT cache_key AS id FROM ${s}.cache_entries
      WHERE expires_at IS NULL OR expires_at > $1::timestamptz ORDER BY cache_key`,
    deleteExpiredCache: `DELETE FROM ${s}.cache_entries WHERE expires_at <= $1::timestamptz`,

    upsertState: `INSERT INTO ${s}.system_state (state_key, state_data) VALUES ($1, $2)
      ON CONFLICT (state_key) DO UPDATE SET state_data = EXCLUDED.state_data, updated_at = now()`,
    selectState: `SELECT state_data AS json FROM ${s}.system_state WHERE state_key = $1`,
    deleteState: `DELETE FROM ${s}.system_state WHERE state_key = $1`,
    listStateKeys: `SELECT state_key AS id FROM ${s}.system_state ORDER BY state_key`,

    // One statement, one round trip, one snapshot (the function is STABLE): the counts, the
    // search index entries and the sizes of the schema's tables, indexes and TOAST included
    // (schema-v5.ts). $1: now, for the live cache entries.
    stats: `SELECT * FROM ${s}.storage_stats($1::timestamptz)`,
    // The counts alone, for a store that reuses recent sizes (`statsSizeMaxAgeMillis`). $1: now.
    statsCounts: statsCountsSql(s),
    // The counts, and the sizes only when a file may have changed since the store's last
    // measurement (stats-sql.ts). $1: now; $2-$4: that measurement's guard.
    statsGuarded: statsGuardedSql(s, `'${s.replaceAll("'", "''")}'::regnamespace`),
    health: `SELECT current_setting('server_version') AS server_version, current_database() AS database,
      (SELECT value FROM ${s}.storage_meta WHERE key = 'schema_version') AS schema_version`,
  });
}

/** The statements of one store. */
export type PostgresSql = ReturnType<typeof buildSql>;

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
  /** Indexed rows, from the stats the triggers keep. */
  search_entries: number;
  /** JSON object: table name -> bytes; null when the schema has no tables or sizes were not measured. */
  table_bytes: string | null;
}
