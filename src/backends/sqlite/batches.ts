/**
 * The SQLite backend's per-record row writers, shared by the single writes and the batches, and
 * the batches themselves: each batch is one `BEGIN IMMEDIATE` transaction running the same
 * prepared statement per record (all or nothing); raw messages, cache batches and batch reads
 * are one statement, a memory batch a few (memory-batch.ts).
 * Writes that the search index follows take a hook run inside their transaction. Chain batches
 * go through `appendChainRecords` (chains.ts), like single appends.
 */
import {
  type BatchName,
  batchText,
  type CacheEntryRead,
  type CacheRecord,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
  nowTimestamp,
  parseStoredJsonObject,
  replaceMemoryRecord,
} from '../../core/index.js';
import type { SqliteConnection, Transaction } from './connection.js';
import { memoryFromRow, type MemoryRow, toRowParts } from './rows.js';
import { upsertMemoryRows } from './memory-batch.js';
import { expiryText, SQL } from './sql.js';
import { quoteName } from '../../core/shown-text.js';

const quote = quoteName;

/** Statements only the batch paths run. */
const BATCH_SQL = {
  // Parameters: conversation id, created_at, a JSON array of the messages' JSON texts. One
  // statement for the whole list; json_each yields the texts exactly, in order, with their index.
  insertRawMessages: `INSERT INTO raw_messages (conversation_id, message_data, message_index, created_at)
    SELECT ?, value, key, ? FROM json_each(?) ORDER BY key`,
  // Parameter: a JSON array of `[key, data JSON text, created_at, expires_at]`. One statement
  // for the whole batch: rows go in array order, so a repeated key's last record wins, as with
  // single upserts in a loop ("WHERE true" lets SQLite parse the upsert clause after a SELECT).
  upsertCacheRecords: `INSERT INTO cache_entries (cache_key, cache_data, created_at, expires_at)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true ORDER BY key
    ON CONFLICT (cache_key) DO UPDATE SET
      cache_data = excluded.cache_data, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  // Parameter: a JSON array of keys. Each row carries its key's position in the array (a
  // repeated key has a row per position) instead of the key: the driver turns every text
  // column into a string, and the stored key would be one more per row.
  selectCacheRecords: `SELECT j.key AS i, c.cache_data AS d, c.created_at AS s, ${expiryText('c.expires_at')} AS e
    FROM json_each(?) j JOIN cache_entries c ON c.cache_key = j.value`,
  // Parameter: a JSON array of keys (absent or repeated keys are fine). One statement, atomic
  // on its own, instead of a delete per key.
  deleteCacheRecords: `DELETE FROM cache_entries WHERE cache_key IN (SELECT value FROM json_each(?))`,
  // The same without the write's timestamp, which a load of entries does not return.
  selectCacheEntries: `SELECT j.key AS i, c.cache_data AS d, ${expiryText('c.expires_at')} AS e
    FROM json_each(?) j JOIN cache_entries c ON c.cache_key = j.value`,
} as const;

/** A memory row as a write left it: its row id and columns, and whether it replaced a row in place. */
export interface WrittenMemoryRow {
  id: number;
  memoryId: string;
  /** The `memory_data` JSON text and `created_at` column written. */
  json: string;
  createdAt: string;
  /** True when an existing row was updated in place (same row id), false for a new row. */
  replaced: boolean;
}

/**
 * Runs inside a memory write's transaction after its rows, with the rows written in order
 * (the search index follows them there).
 */
export type MemoriesChangedHook = (q: Transaction, rows: readonly WrittenMemoryRow[]) => Promise<void>;

/** Upserts one memory row in `q`'s transaction (D7: a replace keeps its row, so its position). */
export async function upsertMemoryRow(
  q: Transaction,
  conversationId: string,
  memory: MemoryWrite,
): Promise<WrittenMemoryRow> {
  const keys = [conversationId, memory.memoryId];
  const [existing] = await q.all<MemoryRow & { id: number }>(SQL.selectMemory, keys);
  const record = existing
    ? replaceMemoryRecord(memoryFromRow(existing, conversationId), memory)
    : memory.record;
  const row = toRowParts(record, ['memory_id'], 'created_at', existing?.created_at ?? nowTimestamp());
  const written = { memoryId: memory.memoryId, json: row.json, createdAt: row.timestamp };
  if (!existing) {
    const [inserted] = await q.all<{ id: number }>(SQL.insertMemory, [...keys, row.json, row.timestamp]);
    return { ...written, id: Number(inserted?.id), replaced: false };
  }
  await q.run(SQL.updateMemory, [row.json, row.timestamp, ...keys]);
  return { ...written, id: Number(existing.id), replaced: true };
}

/** Upserts one cache row. */
export async function upsertCacheRow(q: Transaction, cacheKey: string, record: CacheRecord): Promise<void> {
  await q.run(SQL.upsertCache, [cacheKey, JSON.stringify(record.data), record.storedAt, record.expiresAt]);
}

/** Replaces a conversation's raw message rows in `q`'s transaction: one delete and one insert statement. */
export async function replaceRawMessageRows(
  q: Transaction,
  conversationId: string,
  messages: readonly JsonValue[],
): Promise<void> {
  await q.run(SQL.deleteRawMessages, [conversationId]);
  if (messages.length === 0) return;
  const texts = JSON.stringify(messages.map((message) => JSON.stringify(message)));
  await q.run(BATCH_SQL.insertRawMessages, [conversationId, nowTimestamp(), texts]);
}

/**
 * Upserts memories in order in `q`'s transaction, then runs `onChange` once: a few statements
 * for the whole batch (memory-batch.ts). `name` names the public batch in the error of
 * one too large to send (a `ValidationError` thrown before any write). True when a write
 * replaced a stored id.
 */
export async function upsertMemoryBatchRows(
  q: Transaction,
  conversationId: string,
  writes: readonly MemoryWrite[],
  onChange: MemoriesChangedHook,
  name: () => BatchName,
): Promise<boolean> {
  const rows = await upsertMemoryRows(q, conversationId, writes, name);
  await onChange(q, rows);
  return rows.some((row) => row.replaced);
}

/** Names `storeConversationBatch` in the error of a batch too large to send. */
export function conversationBatchName(writes: ReadonlyArray<{ conversationId: string }>): () => BatchName {
  return () => ({
    method: 'storeConversationBatch',
    field: 'items',
    count: writes.length,
    first: `conversation ${quote(writes[0]?.conversationId ?? '')}`,
  });
}

/** Names `storeMemories` in the error of a batch too large to send. */
export function memoryBatchName(conversationId: string, writes: readonly MemoryWrite[]): () => BatchName {
  return () => ({
    method: 'storeMemories',
    field: 'memories',
    count: writes.length,
    first: `memory ${quote(writes[0]?.memoryId ?? '')} of conversation ${quote(conversationId)}`,
  });
}

/**
 * Upserts memories in order ({@link upsertMemoryBatchRows}) in one transaction; `name` (see
 * {@link memoryBatchName}) names the batch in the error of one too large to send. True when a
 * write replaced a stored id.
 */
export async function upsertMemoryBatch(
  db: SqliteConnection,
  conversationId: string,
  writes: readonly MemoryWrite[],
  onChange: MemoriesChangedHook,
  name: () => BatchName,
): Promise<boolean> {
  return db.transaction(`store ${writes.length} memories of ${quote(conversationId)}`, (q) =>
    upsertMemoryBatchRows(q, conversationId, writes, onChange, name),
  );
}

/**
 * The parameter of `upsertCacheRecords`: a JSON array of `[key, data JSON text, created_at,
 * expires_at]` in order. Records that fit one call each can add up to more than one string
 * holds: that is a `ValidationError` naming the batch (public `method`), thrown before any write.
 */
export function cacheBatchJson(
  method: string,
  writes: ReadonlyArray<{ key: string; record: CacheRecord }>,
): string {
  const rows = writes.map(({ key, record }) => [
    key,
    JSON.stringify(record.data),
    record.storedAt,
    record.expiresAt,
  ]);
  const name = () => ({
    method,
    field: method === 'storeCacheRecords' ? 'records' : 'entries',
    count: writes.length,
    first: `key ${quote(writes[0]?.key ?? '')}`,
  });
  return batchText(name, () => JSON.stringify(rows));
}

/**
 * Upserts cache records in order (the last of a repeated key wins) in ONE statement, atomic on
 * its own: one round trip through the driver instead of `BEGIN`, one upsert per record and `COMMIT`.
 */
export async function writeCacheRecordBatch(
  db: SqliteConnection,
  method: string,
  writes: ReadonlyArray<{ key: string; record: CacheRecord }>,
): Promise<void> {
  const json = cacheBatchJson(method, writes);
  await db.run(`store ${writes.length} cache entries`, BATCH_SQL.upsertCacheRecords, [json]);
}

/** A cache row by its key's position: `i` the position in `keys`, `d` the data, `e` the expiry. */
type CacheRow = { i: number; d: string; e: string | null };

/**
 * Runs a cache select (`keys` as its JSON array parameter) and places `build` of each row at
 * its key's position; `null` where no row came back. The data's error names the key (looked up
 * only then).
 */
async function cacheRowsByPosition<R extends CacheRow, T>(
  db: SqliteConnection,
  keys: readonly string[],
  sql: string,
  build: (row: R, data: JsonObject) => T,
): Promise<Array<T | null>> {
  const rows = await db.all<R>(`load ${keys.length} cache entries`, sql, [JSON.stringify(keys)]);
  const found = new Array<T | null>(keys.length).fill(null);
  for (const row of rows) {
    const data = parseStoredJsonObject(row.d, () => `cache_entries row ${quote(keys[row.i] as string)}`);
    found[row.i] = build(row, data);
  }
  return found;
}

/** The stored cache records of `keys` (expired or not), aligned with `keys`, in one query. */
export function readCacheRecordBatch(
  db: SqliteConnection,
  keys: readonly string[],
): Promise<Array<CacheRecord | null>> {
  return cacheRowsByPosition(
    db,
    keys,
    BATCH_SQL.selectCacheRecords,
    (row: CacheRow & { s: string }, data) => ({
      data,
      storedAt: row.s,
      expiresAt: row.e,
    }),
  );
}

/** The stored entries of `keys` (data and expiry, expired or not), aligned with `keys`, in one query. */
export function readCacheEntryBatch(
  db: SqliteConnection,
  keys: readonly string[],
): Promise<Array<CacheEntryRead | null>> {
  return cacheRowsByPosition(db, keys, BATCH_SQL.selectCacheEntries, (row: CacheRow, data) => ({
    data,
    expiresAt: row.e,
  }));
}

/** Deletes the cache rows of `keys` (absent or repeated keys are fine) in ONE statement: all or nothing. */
export async function removeCacheRecordBatch(db: SqliteConnection, keys: readonly string[]): Promise<void> {
  const name = () => ({
    method: 'deleteCacheEntries',
    field: 'keys',
    count: keys.length,
    first: `key ${quote(keys[0] ?? '')}`,
  });
  const json = batchText(name, () => JSON.stringify(keys));
  await db.run(`delete ${keys.length} cache entries`, BATCH_SQL.deleteCacheRecords, [json]);
}
