/**
 * The parts of the sqlite-vec store that work around `vec0` itself: the tables' DDL (scopes as
 * metadata columns, which take no NULL), the KNN query with its scope filters and a fetch that
 * completes a tie at the cut (`vec0` cuts ties arbitrarily), and vectors as `vec0` takes them
 * (float32 bytes; unit vectors under cosine, as its float32 norms overflow). Separate from the
 * store (sqlite-vec-store.ts), which owns the connection, its transactions and lifecycle and
 * the plain statements (delete by id, count, id pages).
 */
import type { SqliteDatabase } from '../../../backends/sqlite/driver.js';
import { type IndexSignature, MAX_QUERY_K, type VectorMatch, type VectorMetric } from '../types.js';
import type { PreparedFilter } from '../validation.js';
import { compareMatches, scoreOf } from '../vector-table.js';

/** The `vec0` virtual table of the vectors and their scope columns. */
export const VECTORS = 'connectome_vectors';
/** The plain table beside it holding the index signature (key `signature`). */
export const META = 'connectome_vector_meta';
/** An absent scope as stored: valid ids are never empty, and vec0 metadata columns take no NULL. */
export const NONE = '';

interface Row {
  id: string;
  distance: number;
}

/** (Re)creates the tables for `signature` and records it, in the caller's transaction. */
export async function createVectorTables(db: SqliteDatabase, signature: IndexSignature): Promise<void> {
  // Dimensions and metric are checked values (a whole number, 'cosine' or 'l2'), safe in DDL.
  await db.exec(`DROP TABLE IF EXISTS ${VECTORS}`);
  await db.exec(`CREATE TABLE IF NOT EXISTS ${META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  await db.exec(
    `CREATE VIRTUAL TABLE ${VECTORS} USING vec0(id TEXT PRIMARY KEY, ` +
      `embedding float[${signature.dimensions}] distance_metric=${signature.metric}, ` +
      'kind TEXT, agent_id TEXT, conversation_id TEXT)',
  );
  await db.run(
    `INSERT OR REPLACE INTO ${META} (key, value) VALUES ('signature', ?)`,
    JSON.stringify(signature),
  );
}

/**
 * The `k` nearest rows to `vector` (as {@link vectorBlob} made it) within `filter`'s scopes,
 * ties at the same distance ordered by id as in every store.
 */
export async function nearestRows(
  db: SqliteDatabase,
  blob: Buffer,
  k: number,
  filter: PreparedFilter,
  metric: VectorMetric,
): Promise<VectorMatch[]> {
  const where = ['embedding MATCH ?', 'k = ?'];
  // `k` is filled in per fetch (see below).
  const params: (string | number | Buffer)[] = [blob, 0];
  if (filter.agentId !== null) {
    where.push('agent_id = ?');
    params.push(filter.agentId);
  }
  if (filter.conversationId !== null) {
    where.push('conversation_id = ?');
    params.push(filter.conversationId);
  }
  if (filter.kinds !== null) {
    where.push(`kind IN (${filter.kinds.map(() => '?').join(', ')})`);
    params.push(...filter.kinds);
  }
  const sql = `SELECT id, distance FROM ${VECTORS} WHERE ${where.join(' AND ')} ORDER BY distance`;
  // vec0 keeps whichever rows at the k-th distance its scan meets first, but ties go by id
  // (as in every store): one row more than asked tells whether the tie runs past the cut,
  // and then the fetch grows until it has every row at that distance (up to vec0's cap).
  let rows: Row[];
  for (let fetch = Math.min(k + 1, MAX_QUERY_K); ; fetch = Math.min(fetch * 2, MAX_QUERY_K)) {
    params[1] = fetch;
    rows = await db.all<Row[]>(sql, params);
    const last = rows[rows.length - 1];
    if (rows.length < fetch || fetch === MAX_QUERY_K || last?.distance !== rows[k - 1]?.distance) break;
  }
  return rows
    .map((row) => ({ id: row.id, distance: row.distance, score: scoreOf(metric, row.distance) }))
    .sort(compareMatches)
    .slice(0, k);
}

/**
 * The bytes of `vector` as written to and compared in `vec0`: for `cosine` its unit vector,
 * worked out in double precision. `vec0` sums squares in float32, where the norm of a vector of
 * valid float32 values can overflow (components near 1e20) or underflow (near 1e-23) and every
 * score came out 1 or wrong; cosine depends only on direction, and the other stores keep
 * `1 / |v|` in double precision. `l2` vectors go as given.
 */
export function vectorBlob(metric: VectorMetric | undefined, vector: Float32Array): Buffer {
  const value = metric === 'l2' ? vector : unitVector(vector);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * `vector / |vector|`, the norm summed in double precision: squares of float32 values neither
 * overflow nor underflow there (validation refused zero vectors under cosine).
 */
function unitVector(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const scale = 1 / Math.sqrt(sum);
  const unit = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i += 1) unit[i] = (vector[i] as number) * scale;
  return unit;
}
