/**
 * Reasoning-chain appends, sequence numbers and trims of the SQLite backend.
 *
 * A chain's sequence number is its row id in the reference's `reasoning_chains` table:
 * `INTEGER PRIMARY KEY AUTOINCREMENT`, so SQLite never reuses one, even after the newest row
 * is deleted, and a chain the Python reference appends later gets a higher one too. The ids
 * are shared by all agents, so an agent's numbers increase but are not contiguous.
 */
import {
  type BatchName,
  batchText,
  nowTimestamp,
  type JsonObject,
  parseEach,
  parseSequencedChain,
  type SequencedChain,
  type SequencedChainRead,
  type SkipItem,
} from '../../core/index.js';
import type { SqliteConnection, Transaction } from './connection.js';
import { chainFromRow, type ChainRow, type RowParts, toRowParts } from './rows.js';
import { SQL } from './sql.js';
import { chainAppendText } from '../../core/record-names.js';
import { quoteName } from '../../core/shown-text.js';

const quote = quoteName;

/** The chain statements (kept here, beside their one user). */
const CHAIN_SQL = {
  insertChain:
    'INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?) RETURNING id',
  // Parameters: agent id, a JSON array of `[chain_data JSON text, created_at]`. Rows go in array
  // order, so AUTOINCREMENT gives them increasing ids in that order (RETURNING's own order is
  // unspecified: the caller sorts the ids).
  insertChains: `INSERT INTO reasoning_chains (agent_id, chain_data, created_at)
    SELECT ?, value ->> 0, value ->> 1 FROM json_each(?) ORDER BY key RETURNING id`,
  // Everything older than the newest ? rows (served by the (agent_id, id) index).
  trimChains: `DELETE FROM reasoning_chains WHERE agent_id = ? AND id NOT IN
    (SELECT id FROM reasoning_chains WHERE agent_id = ? ORDER BY id DESC LIMIT ?)`,
  // A negative LIMIT is no limit in SQLite.
  selectChainsAfter: `SELECT id, chain_data, created_at FROM reasoning_chains
    WHERE agent_id = ? AND id > ? ORDER BY id LIMIT ?`,
} as const;

/** Removes all but the newest `keepLast` chains inside a transaction; returns how many. */
function trimInside(q: Transaction, agentId: string, keepLast: number): Promise<number> {
  return q.run(CHAIN_SQL.trimChains, [agentId, agentId, keepLast]);
}

/** A chain row an append wrote: its row id (the sequence number) and columns. */
export interface WrittenChainRow {
  id: number;
  /** The `chain_data` JSON text and `created_at` column written. */
  json: string;
  createdAt: string;
}

/**
 * Called inside the transaction of a chain change (the search index follows it there):
 * `removed` is true when chains were removed, `added` the rows appended (empty when the
 * change also removed chains, as a trim may remove some of them).
 */
export type ChainChangeHook = (
  q: Transaction,
  removed: boolean,
  added: readonly WrittenChainRow[],
) => Promise<void>;

/**
 * Appends `records` in order and, with `keepLast`, trims the agent to its newest `keepLast`
 * chains, all in one transaction with `onChange`. Returns the sequence numbers given to the
 * records. A batch append calls this too.
 */
export async function appendChainRecords(
  db: SqliteConnection,
  agentId: string,
  records: readonly JsonObject[],
  keepLast: number | null,
  onChange: ChainChangeHook,
): Promise<number[]> {
  const what = chainAppendText(agentId, records.length);
  const insert = async (q: Transaction): Promise<number[]> => {
    const rows = records.map((record) => toRowParts(record, [], 'stored_at', nowTimestamp()));
    const ids = await insertChainRows(q, agentId, rows);
    const added = rows.map((row, i) => ({ id: ids[i]!, json: row.json, createdAt: row.timestamp }));
    const removed = keepLast === null ? 0 : await trimInside(q, agentId, keepLast);
    await onChange(q, removed > 0, removed > 0 ? [] : added);
    return added.map((row) => row.id);
  };
  return db.transaction(what, insert);
}

/**
 * Inserts chain rows in order and returns their ids (sequence numbers) in that order: several
 * rows in ONE statement (one round trip through the driver instead of one per chain), a single
 * row in one of its own.
 */
async function insertChainRows(
  q: Transaction,
  agentId: string,
  rows: readonly RowParts[],
): Promise<number[]> {
  if (rows.length > 1) {
    const json = chainBatchJson(agentId, rows);
    const inserted = await q.all<{ id: number }>(CHAIN_SQL.insertChains, [agentId, json]);
    return inserted.map((row) => Number(row.id)).sort((a, b) => a - b);
  }
  const [row] = rows;
  if (row === undefined) return [];
  const [inserted] = await q.all<{ id: number }>(CHAIN_SQL.insertChain, [agentId, row.json, row.timestamp]);
  return [Number(inserted?.id)];
}

/**
 * The parameter of `insertChains`: a JSON array of `[chain_data JSON text, created_at]`. Chains
 * that fit one call each can add up to more than one string holds: a `ValidationError` naming
 * the batch, thrown before the insert (only a list of several chains comes here).
 */
export function chainBatchJson(agentId: string, rows: readonly RowParts[]): string {
  return batchText(chainBatchName(agentId, rows.length), () =>
    JSON.stringify(rows.map((row) => [row.json, row.timestamp])),
  );
}

/** Names `appendReasoningChains` in the error of a batch too large to send. */
export function chainBatchName(agentId: string, count: number): () => BatchName {
  return () => ({
    method: 'appendReasoningChains',
    field: 'chains',
    count,
    first: `chain of agent ${quote(agentId)}`,
  });
}

/** Keeps the newest `keepLast` chains of the agent; returns how many were removed. */
export function trimChainRecords(
  db: SqliteConnection,
  agentId: string,
  keepLast: number,
  onChange: ChainChangeHook,
): Promise<number> {
  return db.transaction(`trim reasoning chains of ${quote(agentId)}`, async (q) => {
    const removed = await trimInside(q, agentId, keepLast);
    if (removed > 0) await onChange(q, true, []);
    return removed;
  });
}

/** The chains `read` selects with their sequence numbers (row ids), oldest first (`skip`: see `SkipItem`). */
export async function readSequencedChainRecords(
  db: SqliteConnection,
  agentId: string,
  read: SequencedChainRead,
  skip?: SkipItem,
): Promise<SequencedChain[]> {
  const what = `load reasoning chains of ${quote(agentId)}`;
  let rows: ChainRow[];
  if (read.after !== null) {
    rows = await db.all<ChainRow>(what, CHAIN_SQL.selectChainsAfter, [agentId, read.after, read.limit ?? -1]);
  } else if (read.limit !== null) {
    rows = (await db.all<ChainRow>(what, SQL.selectLastChains, [agentId, read.limit])).reverse();
  } else {
    rows = await db.all<ChainRow>(what, SQL.selectChains, [agentId]);
  }
  return parseEach(
    rows,
    skip,
    (row) => {
      const sequence = Number(row.id);
      return { sequence, chain: parseSequencedChain(agentId, sequence, () => chainFromRow(row, agentId)) };
    },
    (row) => Number(row.id),
  );
}
