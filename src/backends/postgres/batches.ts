/**
 * Batches on PostgreSQL: each batch is one statement over `unnest(...)` arrays (all or nothing,
 * one round trip, no bind-parameter limit), fed by the same row builders as the single writes
 * (`memoryColumns`, `cacheRowValues`). One statement cannot update a row twice, so repeated
 * memory ids and cache keys are first folded as a loop of single calls would leave them.
 */
import {
  type CacheRecord,
  type CacheRecordWrite,
  collapseMemoryWrites,
  type JsonObject,
  lastWriteWins,
  type MemoryWrite,
  parseStoredJsonObject,
} from '../../core/index.js';
import type { PostgresConnection } from './connection.js';
import { cacheRowValues, memoryColumns } from './rows.js';
import { quoteIdent } from './sql.js';

const q = (value: string): string => JSON.stringify(value);

/** The batch statements of a store whose tables live in `schema`. */
function buildBatchSql(schema: string) {
  const s = quoteIdent(schema);
  return {
    // $1: conversation id; $2..$5: memory ids, created_at JSON, data JSON, caller-chose-created_at.
    // Rows go in batch order (`ORDER BY n`), so new memories get ids, i.e. positions, in order;
    // a replace keeps its row and, unless the caller chose one, its created_at (D7).
    upsertMemories: `WITH b AS (
        SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[])
          WITH ORDINALITY AS b(memory_id, created_at, memory_data, explicit, n))
      INSERT INTO ${s}.memories AS m (conversation_id, memory_id, created_at, memory_data)
      SELECT $1, b.memory_id, b.created_at, b.memory_data FROM b ORDER BY b.n
      ON CONFLICT (conversation_id, memory_id) DO UPDATE SET
        memory_data = EXCLUDED.memory_data,
        created_at = CASE WHEN (SELECT b.explicit FROM b WHERE b.memory_id = EXCLUDED.memory_id)
          THEN EXCLUDED.created_at ELSE m.created_at END,
        updated_at = now()`,
    // $1: agent id; $2: chain records' JSON, in order.
    insertChains: `INSERT INTO ${s}.reasoning_chains (agent_id, chain_data)
      SELECT $1, c.data FROM unnest($2::text[]) WITH ORDINALITY AS c(data, n) ORDER BY c.n`,
    // The columns of `cacheRowValues`, one array each; '' stands for a null expiry.
    upsertCache: `INSERT INTO ${s}.cache_entries (cache_key, cache_data, stored_at, expires_at_text, expires_at)
      SELECT c.k, c.d, c.s, NULLIF(c.e, ''), NULLIF(c.i, '')::timestamptz
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS c(k, d, s, e, i)
      ON CONFLICT (cache_key) DO UPDATE SET cache_data = EXCLUDED.cache_data, stored_at = EXCLUDED.stored_at,
        expires_at_text = EXCLUDED.expires_at_text, expires_at = EXCLUDED.expires_at`,
    selectCache: `SELECT cache_key, cache_data AS json, stored_at, expires_at_text FROM ${s}.cache_entries
      WHERE cache_key = ANY($1::text[])`,
  } as const;
}

type BatchSql = ReturnType<typeof buildBatchSql>;
const built = new Map<string, BatchSql>();

function batchSql(schema: string): BatchSql {
  let sql = built.get(schema);
  if (sql === undefined) {
    sql = buildBatchSql(schema);
    built.set(schema, sql);
  }
  return sql;
}

/** Upserts memories (ids may repeat) in one statement. */
export async function upsertMemoryBatch(
  db: PostgresConnection,
  schema: string,
  conversationId: string,
  writes: readonly MemoryWrite[],
): Promise<void> {
  const folded = collapseMemoryWrites(writes);
  const columns = folded.map((write) => memoryColumns(write.record));
  await db.run(
    `store ${writes.length} memories of conversation ${q(conversationId)}`,
    batchSql(schema).upsertMemories,
    [
      conversationId,
      folded.map((write) => write.memoryId),
      columns.map((column) => column.createdAt),
      columns.map((column) => column.data),
      folded.map((write) => String(write.explicitCreatedAt)),
    ],
  );
}

/** Appends chain records in order in one statement. */
export async function addReasoningChainBatch(
  db: PostgresConnection,
  schema: string,
  agentId: string,
  records: readonly JsonObject[],
): Promise<void> {
  const texts = records.map((record) => JSON.stringify(record));
  await db.run(`store ${records.length} reasoning chains of ${q(agentId)}`, batchSql(schema).insertChains, [
    agentId,
    texts,
  ]);
}

/** Upserts cache records (keys may repeat: the last wins) in one statement. */
export async function writeCacheRecordBatch(
  db: PostgresConnection,
  schema: string,
  writes: readonly CacheRecordWrite[],
): Promise<void> {
  const rows = lastWriteWins(writes).map((write) => cacheRowValues(write.key, write.record));
  const column = (i: 0 | 1 | 2 | 3 | 4): string[] => rows.map((row) => row[i] ?? '');
  await db.run(`store ${writes.length} cache entries`, batchSql(schema).upsertCache, [
    column(0),
    column(1),
    column(2),
    column(3),
    column(4),
  ]);
}

/** The stored cache records of `keys` (expired or not), aligned with `keys`, in one query. */
export async function readCacheRecordBatch(
  db: PostgresConnection,
  schema: string,
  keys: readonly string[],
): Promise<Array<CacheRecord | null>> {
  type Row = { cache_key: string; json: string; stored_at: string; expires_at_text: string | null };
  const rows = await db.rows<Row>(`load ${keys.length} cache entries`, batchSql(schema).selectCache, [
    [...new Set(keys)],
  ]);
  const found = new Map<string, CacheRecord>();
  for (const row of rows) {
    const where = `postgres ${quoteIdent(schema)}.cache_entries cache entry ${q(row.cache_key)}`;
    const data = parseStoredJsonObject(row.json, where);
    found.set(row.cache_key, { data, storedAt: row.stored_at, expiresAt: row.expires_at_text });
  }
  return keys.map((key) => found.get(key) ?? null);
}
