/**
 * Reasoning-chain appends, sequence numbers and trims of the PostgreSQL backend.
 *
 * A chain's sequence number is its `bigserial` row id: never reused, shared by all agents, so
 * an agent's numbers increase but are not contiguous. Every append and trim of an agent takes
 * a transaction-level advisory lock on the agent first, so one agent's ids are also committed
 * in id order: a reader paging with `afterSequence` never sees a higher id before a lower one
 * of the same agent commits (a plain `bigserial` alone does not promise that).
 */
import { BulkRows, bulkRowsSql } from './bulk-rows.js';
import { type Statement, statements } from './statements.js';
import {
  type BatchName,
  batchText,
  type JsonObject,
  parseSequencedChain,
  parseEach,
  parseStoredJsonObject,
  type SequencedChain,
  type SequencedChainRead,
  type SkipItem,
} from '../../core/index.js';
import type { PostgresConnection, SqlParam } from './connection.js';
import { searchColumnArrays } from './search-columns.js';
import type { PostgresSearchIndex } from './search-index.js';
import { lastChainsSql, quoteIdent } from './sql.js';
import { chainAppendText } from '../../core/record-names.js';
import { quoteName } from '../../core/shown-text.js';

const q = quoteName;

/** Rows of a many-record append: the record, its `tsvector` text and its length in tokens. */
const chainRows = bulkRowsSql([
  ['v', 'tsvector'],
  ['l', 'int'],
]);
/** Rows of a many-record append with the index off: the record alone. */
const unsearchedRows = bulkRowsSql([]);

/** The advisory-lock namespace of chain writes (`pg_advisory_xact_lock(hashtext(ns), hashtext(agent))`). */
const LOCK_NAMESPACE = 'connectome-storage chains';

/** The chain statements of a store whose tables live in `schema`, named prepared statements (`statements.ts`). */
export function buildChainSql(schema: string) {
  const t = `${quoteIdent(schema)}.reasoning_chains`;
  const c = chainRows;
  return statements({
    // The lock is taken (a volatile CTE runs once, before any row is produced) before any id
    // is drawn, and held until the statement's own commit (or the transaction's). Many
    // records: $1 to $3 the records and their search tokens and lengths (search-columns.ts) as
    // JSON parameters (bulk-rows.ts: no array escaping of every record by the driver), $4
    // namespace, $5 agent.
    lockedInsert: `WITH l AS (SELECT pg_advisory_xact_lock(hashtext($4), hashtext($5)))
      INSERT INTO ${t} (agent_id, chain_data, search_tokens, search_length)
      SELECT $5, ${c.record}, ${c.column('v')}, ${c.column('l')} FROM l, ${c.from} ORDER BY r.n`,
    // The same with the index off: the search columns are left null without two JSON
    // arrays of nulls to send and unpack (server CPU per 100 chains 1.2-1.3 -> 1.1-1.2 ms,
    // raw `pg` 0.9-1.2). $1 the records, $2 namespace, $3 agent.
    lockedInsertUnsearched: `WITH l AS (SELECT pg_advisory_xact_lock(hashtext($2), hashtext($3)))
      INSERT INTO ${t} (agent_id, chain_data)
      SELECT $3, ${unsearchedRows.record} FROM l, ${unsearchedRows.from} ORDER BY r.n`,
    // The same for one record, with scalar parameters (no JSON array to build and unpack): $1
    // namespace, $2 agent, $3 the record, $4 and $5 its search tokens and length.
    lockedInsertOne: `WITH l AS (SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2)))
      INSERT INTO ${t} (agent_id, chain_data, search_tokens, search_length)
      SELECT $2, $3, $4::tsvector, $5::int FROM l`,
    // An append followed by a trim, or a trim alone (no records): one call of the schema's
    // function (schema-v6.ts), whose trim is a later statement than its lock, so it sees every
    // append committed while it waited. $1 namespace, $2 agent, $3 records (a JSON array), $4
    // and $5 their search tokens and lengths (JSON arrays, `[]` with the index off), $6 how
    // many chains the agent keeps.
    appendAndTrim: `SELECT ${quoteIdent(schema)}.append_reasoning_chains($1, $2, $3, $4, $5, $6::bigint) AS removed`,
    // LIMIT NULL is no limit. $1 agent, $2 after, $3 limit. Written as `lastChainsSql` is
    // (sql.ts) and for the same reason: plainly, a page was planned with the values and the
    // statistics of the moment, and read all of the agent's chains (bitmap scan and sort)
    // before the first ANALYZE, or walked the primary key from $2 through other agents' newer
    // chains after it. The row comparison starts the walk of the `(agent_id, id)` index at
    // ($1, $2); the upper bound ends it at the agent's last chain.
    selectAfter: `SELECT id, chain_data AS json FROM ${t}
      WHERE (agent_id, id) > ((SELECT $1::text), (SELECT $2::bigint)) AND agent_id <= (SELECT $1::text)
      ORDER BY agent_id, id LIMIT (SELECT $3::bigint)`,
    selectLast: lastChainsSql(t),
    selectAll: `SELECT id, chain_data AS json FROM ${t} WHERE agent_id = $1 ORDER BY id`,
  });
}

/** The chain statements of one store. */
export type ChainSql = ReturnType<typeof buildChainSql>;

/**
 * Appends `records` in order (with their search columns, from `index`) and, with `keepLast`,
 * trims the agent to its newest `keepLast` chains in the same call (then also a trim alone,
 * with no records): one round trip either way. Without a limit it is one plain statement (the
 * function call costs the server and the client more per append, measured). A batch append
 * calls this too. Returns how many chains the trim removed.
 */
export async function appendChainRecords(
  db: PostgresConnection,
  sql: ChainSql,
  agentId: string,
  records: readonly JsonObject[],
  keepLast: number | null,
  index: PostgresSearchIndex,
): Promise<number> {
  const what = chainAppendText(agentId, records.length);
  if (keepLast === null) {
    const params = insertParams(sql, agentId, records, index);
    await db.run(what, params.sql, params.values);
    return 0;
  }
  const texts = records.map((record) => JSON.stringify(record));
  const search = searchColumnArrays(
    index.enabled ? records.map((record) => index.columns('reasoning_chains', record)) : null,
  );
  const list = batchText(batchName(agentId, records), () => `[${texts.join(',')}]`);
  const [row] = await db.rows<{ removed: string }>(
    records.length === 0 ? `trim reasoning chains of ${q(agentId)}` : what,
    sql.appendAndTrim,
    [LOCK_NAMESPACE, agentId, list, ...search, keepLast],
  );
  return Number(row?.removed ?? 0);
}

/**
 * The locked insert of `records` and its parameters: scalar for one record, arrays for more
 * (without the search columns when the index is off).
 */
function insertParams(
  sql: ChainSql,
  agentId: string,
  records: readonly JsonObject[],
  index: PostgresSearchIndex,
): { sql: Statement; values: SqlParam[] } {
  if (records.length === 1) {
    const record = records[0] as JsonObject;
    const [tokens, length] = index.columns('reasoning_chains', record);
    return {
      sql: sql.lockedInsertOne,
      values: [LOCK_NAMESPACE, agentId, JSON.stringify(record), tokens, length],
    };
  }
  const rows = new BulkRows(index.enabled ? 2 : 0);
  for (const record of records) rows.add(record, ...index.columns('reasoning_chains', record));
  return {
    sql: index.enabled ? sql.lockedInsert : sql.lockedInsertUnsearched,
    values: [...rows.params(batchName(agentId, records)), LOCK_NAMESPACE, agentId],
  };
}

/**
 * Names an append in the error of a batch too large to send: each record's own text is built
 * first, so only a list of several records (`appendReasoningChains`) gets that far.
 */
function batchName(agentId: string, records: readonly JsonObject[]): () => BatchName {
  return () => ({
    method: 'appendReasoningChains',
    field: 'chains',
    count: records.length,
    first: `chain of agent ${q(agentId)}`,
  });
}

/** Keeps the newest `keepLast` chains of the agent; returns how many were removed. */
export function trimChainRecords(
  db: PostgresConnection,
  sql: ChainSql,
  agentId: string,
  keepLast: number,
  index: PostgresSearchIndex,
): Promise<number> {
  return appendChainRecords(db, sql, agentId, [], keepLast, index);
}

/** The chains `read` selects with their sequence numbers (row ids), oldest first (`skip`: see `SkipItem`). */
export async function readSequencedChainRecords(
  db: PostgresConnection,
  sql: ChainSql,
  agentId: string,
  read: SequencedChainRead,
  where: (what: string) => string,
  skip?: SkipItem,
): Promise<SequencedChain[]> {
  const what = `load reasoning chains of ${q(agentId)}`;
  type Row = { id: string; json: string };
  let rows: Row[];
  if (read.after !== null) {
    rows = await db.rows<Row>(what, sql.selectAfter, [agentId, read.after, read.limit]);
  } else if (read.limit !== null) {
    rows = await db.rows<Row>(what, sql.selectLast, [agentId, read.limit]);
  } else {
    rows = await db.rows<Row>(what, sql.selectAll, [agentId]);
  }
  return parseEach(
    rows,
    skip,
    (row) => {
      const sequence = Number(row.id);
      const location = () => where(`id ${row.id} (agent ${q(agentId)})`);
      return {
        sequence,
        chain: parseSequencedChain(agentId, sequence, () => parseStoredJsonObject(row.json, location)),
      };
    },
    (row) => Number(row.id),
  );
}
