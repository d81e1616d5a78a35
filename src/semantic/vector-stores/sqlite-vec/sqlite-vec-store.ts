/**
 * The SQLite vector store: a `vec0` virtual table of the `sqlite-vec` extension, with the
 * record's kind, agent and conversation as metadata columns. Filters on them run inside the
 * KNN scan, so a query scoped to a small part of the data still gets its k nearest.
 */
import { access } from 'node:fs/promises';
import { z } from 'zod';
import { parseBackendConfig } from '../../../core/config.js';
import { NotInitializedError, StorageError } from '../../../core/errors.js';
import { isSqliteSideFileName, SQLITE_SIDE_FILE_REASON } from '../../../backends/sqlite/config.js';
import { isMemoryPath, toStorageError } from '../../../backends/sqlite/sqlite-errors.js';
import type { SqliteDatabase } from '../../../backends/sqlite/driver.js';
import { BaseVectorStore } from '../base-store.js';
import { type IndexSignature, MAX_QUERY_K, type VectorMatch } from '../types.js';
import {
  type PreparedFilter,
  type PreparedItem,
  sameSignature,
  signatureMismatch,
  validateSignature,
} from '../validation.js';
import { compareMatches, scoreOf } from '../vector-table.js';
import { openVectorDatabase } from './connection.js';

/** Config of {@link SqliteVecStore}. */
export interface SqliteVecStoreConfig {
  /** Database file (default `./storage_data/vectors.db`; `:memory:` allowed). It may be the SQLite store's own file. */
  path?: string;
  /** How long to wait for another connection's lock, in seconds (default 30). */
  connectionTimeout?: number;
}

const sqliteVecSchema = z.object({
  // Beside a store's `x.db`, a vector file `x.db-wal` would be read as its log and deleted.
  path: z
    .string()
    .min(1)
    .refine((p) => !isSqliteSideFileName(p), SQLITE_SIDE_FILE_REASON)
    .default('./storage_data/vectors.db'),
  connectionTimeout: z.number().positive().max(3600).default(30),
});

const VECTORS = 'connectome_vectors';
const META = 'connectome_vector_meta';
// Absent scopes are stored as '' (valid ids are never empty): vec0 metadata columns take no NULL.
const NONE = '';

interface Row {
  id: string;
  distance: number;
}

/** Vectors in a SQLite file, searched by `sqlite-vec`. */
export class SqliteVecStore extends BaseVectorStore {
  readonly kind = 'sqlite-vec';
  /** The database file, as configured. */
  readonly path: string;
  readonly #busyTimeoutMs: number;
  #db: SqliteDatabase | null = null;
  // Set by close(): the connection is opened lazily, and must never be opened again after it.
  #closed = false;
  #signature: IndexSignature | null = null;

  constructor(config: SqliteVecStoreConfig = {}) {
    super();
    const parsed = parseBackendConfig('sqlite-vec vector store', sqliteVecSchema, config);
    this.path = parsed.path;
    this.#busyTimeoutMs = Math.round(parsed.connectionTimeout * 1000);
  }

  protected location(): string {
    return this.path;
  }

  async #connection(): Promise<SqliteDatabase> {
    if (this.#closed) {
      const error = new NotInitializedError('sqlite-vec vector', 'query', 'closed');
      error.message = `sqlite-vec vector store ${this.path}: used after close()`;
      throw error;
    }
    this.#db ??= await openVectorDatabase(this.path, this.#busyTimeoutMs, this.readOnly);
    return this.#db;
  }

  /** Runs `task` on the connection, turning driver errors into typed ones. */
  async #run<T>(what: string, task: (db: SqliteDatabase) => Promise<T>): Promise<T> {
    const db = await this.#connection();
    try {
      return await task(db);
    } catch (error) {
      throw toStorageError(error, what, this.path, 'path');
    }
  }

  /** Runs `task` in a write transaction (`BEGIN IMMEDIATE`), rolled back when it fails. */
  #write<T>(what: string, task: (db: SqliteDatabase) => Promise<T>): Promise<T> {
    return this.#run(what, async (db) => {
      await db.exec('BEGIN IMMEDIATE');
      try {
        const result = await task(db);
        await db.exec('COMMIT');
        return result;
      } catch (error) {
        await db.exec('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  protected async readSignature(): Promise<IndexSignature | null> {
    // A read-only open creates nothing, so it does not open a file that is not there (yet).
    if (this.readOnly && this.#db === null && !(await this.#fileExists())) return null;
    return this.#run('read the index signature', async (db) => {
      const table = await db.get<{ name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`,
        META,
      );
      if (table === undefined) return null;
      const row = await db.get<{ value: string }>(`SELECT value FROM ${META} WHERE key = 'signature'`);
      if (row === undefined) return null;
      try {
        return validateSignature(JSON.parse(row.value));
      } catch (error) {
        throw new StorageError(`Vector store ${this.path}: unreadable index signature in ${META}`, {
          cause: error,
        });
      }
    });
  }

  protected async createIndex(signature: IndexSignature): Promise<void> {
    // Dimensions and metric are checked values (a whole number, 'cosine' or 'l2'), safe in DDL.
    await this.#write('create the vector index', async (db) => {
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
    });
    this.#signature = signature;
  }

  protected openIndex(signature: IndexSignature): Promise<void> {
    // A read-only open may find no index yet: each read looks again (`#hasIndex`).
    this.#signature = signature;
    return Promise.resolve();
  }

  async #fileExists(): Promise<boolean> {
    if (isMemoryPath(this.path)) return false;
    return access(this.path).then(
      () => true,
      () => false,
    );
  }

  /**
   * Whether there is an index to read. A writable open made or found one; a read-only one reads
   * the signature at each read (one small query beside the scan), since a writer may make the
   * index later or reset it for another embedder (a `ConfigError`, as at open).
   */
  async #hasIndex(): Promise<boolean> {
    if (!this.readOnly) return true;
    const stored = await this.readSignature();
    const wanted = this.#signature;
    if (stored === null || wanted === null) return false;
    if (!sameSignature(stored, wanted)) throw signatureMismatch(this.path, stored, wanted, true);
    return true;
  }

  /**
   * `vector` as written to and compared in `vec0`: for `cosine` its unit vector, worked out in
   * double precision. `vec0` sums squares in float32, where the norm of a vector of valid
   * float32 values can overflow (components near 1e20) or underflow (near 1e-23) and every
   * score came out 1 or wrong; cosine depends only on direction, and the other stores keep
   * `1 / |v|` in double precision. `l2` vectors go as given.
   */
  #forMetric(vector: Float32Array): Float32Array {
    return this.#signature?.metric === 'l2' ? vector : unitVector(vector);
  }

  protected upsertItems(items: PreparedItem[]): Promise<void> {
    return this.#write('upsert vectors', async (db) => {
      // vec0 has no UPSERT: delete, then insert, in one transaction.
      const remove = await db.prepare(`DELETE FROM ${VECTORS} WHERE id = ?`);
      const insert = await db.prepare(
        `INSERT INTO ${VECTORS} (id, embedding, kind, agent_id, conversation_id) VALUES (?, ?, ?, ?, ?)`,
      );
      try {
        for (const item of items) {
          await remove.run(item.id);
          const blob = blobOf(this.#forMetric(item.vector));
          await insert.run(item.id, blob, item.kind, item.agentId ?? NONE, item.conversationId ?? NONE);
        }
      } finally {
        await remove.finalize();
        await insert.finalize();
      }
    });
  }

  protected deleteIds(ids: string[]): Promise<number> {
    return this.#write('delete vectors', async (db) => {
      const remove = await db.prepare(`DELETE FROM ${VECTORS} WHERE id = ?`);
      let removed = 0;
      try {
        for (const id of ids) removed += (await remove.run(id)).changes ?? 0;
      } finally {
        await remove.finalize();
      }
      return removed;
    });
  }

  protected async search(vector: Float32Array, k: number, filter: PreparedFilter): Promise<VectorMatch[]> {
    if (!(await this.#hasIndex())) return [];
    const metric = this.#signature?.metric ?? 'cosine';
    const where = ['embedding MATCH ?', 'k = ?'];
    // `k` is filled in per fetch (see below).
    const params: (string | number | Buffer)[] = [blobOf(this.#forMetric(vector)), 0];
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
    return this.#run('query vectors', async (db) => {
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
    });
  }

  protected async countItems(): Promise<number> {
    if (!(await this.#hasIndex())) return 0;
    return this.#run(
      'count vectors',
      async (db) => (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${VECTORS}`))?.n ?? 0,
    );
  }

  protected async idsAfter(after: string | null, count: number): Promise<string[]> {
    if (!(await this.#hasIndex())) return [];
    // vec0 answers a range on its id column by scanning every row and sorting; its shadow table
    // `<table>_rowids` keeps the ids under a UNIQUE index (BINARY collation: code point order),
    // which a keyset page reads as a range. Only read, never written, so vec0 stays consistent.
    const sql =
      after === null
        ? `SELECT id FROM ${VECTORS}_rowids ORDER BY id LIMIT ?`
        : `SELECT id FROM ${VECTORS}_rowids WHERE id > ? ORDER BY id LIMIT ?`;
    const params = after === null ? [count] : [after, count];
    return this.#run('list vector ids', async (db) =>
      (await db.all<Array<{ id: string }>>(sql, params)).map((row) => row.id),
    );
  }

  protected async closeStore(): Promise<void> {
    this.#closed = true;
    await this.#closeConnection();
  }

  /** A failed open closes the connection it opened; the next open opens another (in its own mode). */
  protected override releaseFailedOpen(): Promise<void> {
    return this.#closeConnection();
  }

  async #closeConnection(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    if (db !== null)
      await db
        .close()
        .catch((error: unknown) => Promise.reject(toStorageError(error, 'close', this.path, 'path')));
  }
}

/** The bytes of a float32 vector, as `vec0` takes them. */
function blobOf(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
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
