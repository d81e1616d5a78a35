/**
 * The SQLite backend's per-record row writers, shared by the single writes and the batches, and
 * the batches themselves: each batch is one `BEGIN IMMEDIATE` transaction running the same
 * prepared statement per record (all or nothing); raw messages and batch reads are one statement.
 */
import {
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
import { SQL } from './sql.js';

const quote = (id: string): string => JSON.stringify(id);

/** Statements only the batch paths run. */
const BATCH_SQL = {
  // Parameters: conversation id, created_at, a JSON array of the messages' JSON texts. One
  // statement for the whole list; json_each yields the texts exactly, in order, with their index.
  insertRawMessages: `INSERT INTO raw_messages (conversation_id, message_data, message_index, created_at)
    SELECT ?, value, key, ? FROM json_each(?) ORDER BY key`,
  // Parameter: a JSON array of keys.
  selectCacheRecords: `SELECT cache_key, cache_data, created_at, expires_at FROM cache_entries
    WHERE cache_key IN (SELECT value FROM json_each(?))`,
} as const;

/** Upserts one memory row in `q`'s transaction (D7: a replace keeps its row, so its position). */
export async function upsertMemoryRow(
  q: Transaction,
  conversationId: string,
  memory: MemoryWrite,
): Promise<void> {
  const keys = [conversationId, memory.memoryId];
  const [existing] = await q.all<MemoryRow>(SQL.selectMemory, keys);
  const record = existing
    ? replaceMemoryRecord(memoryFromRow(existing, conversationId), memory)
    : memory.record;
  const row = toRowParts(record, ['memory_id'], 'created_at', existing?.created_at ?? nowTimestamp());
  if (existing) await q.run(SQL.updateMemory, [row.json, row.timestamp, ...keys]);
  else await q.run(SQL.insertMemory, [...keys, row.json, row.timestamp]);
}

/** Inserts one reasoning-chain row. */
export async function insertChainRow(q: Transaction, agentId: string, record: JsonObject): Promise<void> {
  const row = toRowParts(record, [], 'stored_at', nowTimestamp());
  await q.run(SQL.insertChain, [agentId, row.json, row.timestamp]);
}

/** Upserts one cache row. */
export async function upsertCacheRow(q: Transaction, cacheKey: string, record: CacheRecord): Promise<void> {
  await q.run(SQL.upsertCache, [cacheKey, JSON.stringify(record.data), record.storedAt, record.expiresAt]);
}

/** Replaces a conversation's raw messages: one delete and one insert statement, in one transaction. */
export async function replaceRawMessages(
  db: SqliteConnection,
  conversationId: string,
  messages: readonly JsonValue[],
): Promise<void> {
  const texts = JSON.stringify(messages.map((message) => JSON.stringify(message)));
  await db.transaction(`store raw messages of ${quote(conversationId)}`, async (q) => {
    await q.run(SQL.deleteRawMessages, [conversationId]);
    if (messages.length > 0)
      await q.run(BATCH_SQL.insertRawMessages, [conversationId, nowTimestamp(), texts]);
  });
}

/** Upserts memories in order in one transaction. */
export async function upsertMemoryBatch(
  db: SqliteConnection,
  conversationId: string,
  writes: readonly MemoryWrite[],
): Promise<void> {
  await db.transaction(`store ${writes.length} memories of ${quote(conversationId)}`, async (q) => {
    for (const write of writes) await upsertMemoryRow(q, conversationId, write);
  });
}

/** Appends chains in order in one transaction. */
export async function addReasoningChainBatch(
  db: SqliteConnection,
  agentId: string,
  records: readonly JsonObject[],
): Promise<void> {
  await db.transaction(`store ${records.length} reasoning chains of ${quote(agentId)}`, async (q) => {
    for (const record of records) await insertChainRow(q, agentId, record);
  });
}

/** Upserts cache records in order (the last of a repeated key wins) in one transaction. */
export async function writeCacheRecordBatch(
  db: SqliteConnection,
  writes: ReadonlyArray<{ key: string; record: CacheRecord }>,
): Promise<void> {
  await db.transaction(`store ${writes.length} cache entries`, async (q) => {
    for (const write of writes) await upsertCacheRow(q, write.key, write.record);
  });
}

/** The stored cache records of `keys` (expired or not), aligned with `keys`, in one query. */
export async function readCacheRecordBatch(
  db: SqliteConnection,
  keys: readonly string[],
): Promise<Array<CacheRecord | null>> {
  type Row = { cache_key: string; cache_data: string; created_at: string; expires_at: string | null };
  const rows = await db.all<Row>(`load ${keys.length} cache entries`, BATCH_SQL.selectCacheRecords, [
    JSON.stringify(keys),
  ]);
  const found = new Map<string, CacheRecord>();
  for (const row of rows) {
    const data = parseStoredJsonObject(row.cache_data, `cache_entries row ${quote(row.cache_key)}`);
    found.set(row.cache_key, { data, storedAt: row.created_at, expiresAt: row.expires_at });
  }
  return keys.map((key) => found.get(key) ?? null);
}
