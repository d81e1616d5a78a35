/**
 * The SQLite vector store: a `vec0` virtual table of the `sqlite-vec` extension, with the
 * record's kind, agent and conversation as metadata columns. Filters on them run inside the
 * KNN scan, so a query scoped to a small part of the data still gets its k nearest. The
 * statements and vector encoding `vec0` needs are vec0-sql.ts; this module holds the connection,
 * its transactions and the store's lifecycle.
 */
import { access } from 'node:fs/promises';
import { z } from 'zod';
import { parseBackendConfig } from '../../../core/config.js';
import { NotInitializedError, StorageError } from '../../../core/errors.js';
import { isSqliteSideFileName, SQLITE_SIDE_FILE_REASON } from '../../../backends/sqlite/config.js';
import { isMemoryPath, toStorageError } from '../../../backends/sqlite/sqlite-errors.js';
import type { SqliteDatabase } from '../../../backends/sqlite/driver.js';
import { BaseVectorStore } from '../base-store.js';
import type { IndexSignature, VectorMatch } from '../types.js';
import {
  type PreparedFilter,
  type PreparedItem,
  sameSignature,
  signatureMismatch,
  validateSignature,
} from '../validation.js';
import { openVectorDatabase } from './connection.js';
import { createVectorTables, META, nearestRows, NONE, vectorBlob, VECTORS } from './vec0-sql.js';

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
      const error = new NotInitializedError('sqlite-vec vector', 'query', 'closed', this.path);
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
    await this.#write('create the vector index', (db) => createVectorTables(db, signature));
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
          const blob = vectorBlob(this.#signature?.metric, item.vector);
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
    const blob = vectorBlob(metric, vector);
    return this.#run('query vectors', (db) => nearestRows(db, blob, k, filter, metric));
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
