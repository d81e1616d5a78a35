/**
 * Batches on PostgreSQL: each batch is one named statement (all or nothing, one round trip, no
 * bind-parameter limit), its rows sent as JSON parameters (`bulk-rows.ts`): memories through
 * `storeMemories`' own statements (`memory-rows.ts`), cache entries through `upsertCaches`.
 * One statement cannot update a row twice, so repeated memory ids and cache keys are first
 * folded as a loop of single calls would leave them. Chain batches go through `appendChainRecords` (chains.ts),
 * like single appends.
 */
import {
  type CacheRecord,
  type CacheRecordWrite,
  lastWriteWins,
  type MemoryWrite,
  parseStoredJsonObject,
} from '../../core/index.js';
import type { PostgresConnection } from './connection.js';
import { addMemoryRows, MemoryBulkRows, type MemoryUpserts } from './memory-rows.js';
import { BulkRows } from './bulk-rows.js';
import { cacheTimeColumns } from './rows.js';
import type { PostgresSearchIndex } from './search-index.js';
import { type PostgresSql, quoteIdent } from './sql.js';
import { quoteName } from '../../core/shown-text.js';

const q = quoteName;

/**
 * Upserts memories (ids may repeat) with their search columns (from `index`, only with the
 * index on) in one statement of `sql` (memory-rows.ts), which first takes the conversation's
 * shared lock of namespace `lock` (`conversationRowsLock`, sql.ts).
 */
export async function upsertMemoryBatch(
  db: PostgresConnection,
  sql: MemoryUpserts,
  lock: string,
  conversationId: string,
  writes: readonly MemoryWrite[],
  index: PostgresSearchIndex,
): Promise<void> {
  const rows = new MemoryBulkRows(false, index.enabled);
  addMemoryRows(rows, conversationId, writes, index);
  const what = `store ${writes.length} memories of conversation ${q(conversationId)}`;
  const name = () => ({
    method: 'storeMemories',
    field: 'memories',
    count: writes.length,
    first: `memory ${q(writes[0]?.memoryId ?? '')} of conversation ${q(conversationId)}`,
  });
  await db.run(what, ...rows.upsert(sql, name, [conversationId, lock]));
}

/** The order cache batches lock rows in: the keys' UTF-16 order, the same for every batch. */
const byKey = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * Upserts cache records (keys may repeat: the last wins) in one statement, its rows in key
 * order: the order of distinct keys does not change the result, and two batches that lock
 * shared keys in one order cannot deadlock each other.
 */
export async function writeCacheRecordBatch(
  db: PostgresConnection,
  sql: PostgresSql,
  method: string,
  writes: readonly CacheRecordWrite[],
): Promise<void> {
  const rows = new BulkRows(4);
  // lastWriteWins returns a new array, so sorting it leaves the caller's alone.
  const ordered = lastWriteWins(writes).sort((x, y) => byKey(x.key, y.key));
  for (const { key, record } of ordered) {
    rows.add(record.data, key, ...cacheTimeColumns(record));
  }
  const first = q(writes[0]?.key ?? '');
  const what = `store ${writes.length} cache entries from ${first}`;
  const name = () => ({
    method,
    field: method === 'storeCacheRecords' ? 'records' : 'entries',
    count: writes.length,
    first: `key ${first}`,
  });
  await db.run(what, sql.upsertCaches, rows.params(name));
}

/**
 * Deletes the cache rows of `keys` (absent or repeated keys are fine) in one statement (all or
 * nothing), locking them in the order the write batches do ({@link byKey}).
 */
export async function removeCacheRecordBatch(
  db: PostgresConnection,
  sql: PostgresSql,
  keys: readonly string[],
): Promise<void> {
  const ordered = [...new Set(keys)].sort(byKey);
  await db.run(`delete ${keys.length} cache entries from ${q(keys[0] ?? '')}`, sql.deleteCaches, [ordered]);
}

/**
 * The stored cache records of `keys` (expired or not), aligned with `keys`, in one query. A
 * key given twice gets an object of its own at each position, as two single loads would.
 */
export async function readCacheRecordBatch(
  db: PostgresConnection,
  sql: PostgresSql,
  schema: string,
  keys: readonly string[],
): Promise<Array<CacheRecord | null>> {
  type Row = { cache_key: string; json: string; stored_at: string; expires_at_text: string | null };
  const rows = await db.rows<Row>(`load ${keys.length} cache entries`, sql.selectCaches, [
    [...new Set(keys)],
  ]);
  const found = new Map<string, Row>();
  for (const row of rows) found.set(row.cache_key, row);
  // One location for the whole batch, naming the key being parsed: a closure per row cost more
  // than the rest of the loop but JSON.parse (and under tsx, which names each, more again).
  let key = '';
  const where = () => `postgres ${quoteIdent(schema)}.cache_entries cache entry ${q(key)}`;
  const records = new Array<CacheRecord | null>(keys.length);
  for (let i = 0; i < keys.length; i += 1) {
    key = keys[i] as string;
    const row = found.get(key);
    records[i] =
      row === undefined
        ? null
        : {
            data: parseStoredJsonObject(row.json, where),
            storedAt: row.stored_at,
            expiresAt: row.expires_at_text,
          };
  }
  return records;
}
