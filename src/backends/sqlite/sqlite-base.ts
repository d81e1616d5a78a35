/**
 * The SQLite backend's foundation: configuration, the connection and its lifecycle, the keyed
 * records (cache, system state), paging, health and stats. `SQLiteStorage` adds the
 * conversation, memory and reasoning-chain records and search on top.
 */
import {
  nowTimestamp,
  StorageError,
  StorageInterface,
  type CacheEntryRead,
  type CacheRecord,
  type CacheRecordWrite,
  type HealthProbe,
  type JsonObject,
  type ListingName,
  parseStoredJson,
  parseStoredJsonObject,
  type StatsSnapshot,
  openPrepared,
} from '../../core/index.js';
import { parseSqliteConfig, type ResolvedSQLiteConfig, type SQLiteStorageConfig } from './config.js';
import { SqliteConnection } from './connection.js';
import {
  ensureSchema,
  inspectSchemaReadOnly,
  SQLITE_SCHEMA_VERSION,
  schemaVersionDetails,
} from './schema.js';
import { collectSqliteStats, probeSqliteHealth } from './health-stats.js';
import { SQL } from './sql.js';
import { listLiveCacheKeys, purgeExpiredCache } from './cache-expiry.js';
import { readSqliteIdPage, readSqliteMemoryWindow, readSqliteRawWindow } from './paging.js';
import { SqliteSearchIndex } from './search-index.js';
import * as batches from './batches.js';
import { upsertCacheRow } from './batches.js';
import { FAST_WRITE_TEMP_OBJECTS, PLAIN_WRITE_TEMP_OBJECTS } from './fast-write-views.js';
import { SqliteFastWrites } from './fast-writes.js';
import { quoteName } from '../../core/shown-text.js';
import { withShownConfig } from '../../core/shown-store.js';

/** Quotes an id for an error or log message. */
export const quote = quoteName;

/** One SQLite database file (or `:memory:`) opened with the reference's schema; the records on top are SQLiteStorage's. */
export abstract class SQLiteStorageBase extends StorageInterface {
  /** The validated configuration, defaults filled in. */
  readonly config: Readonly<ResolvedSQLiteConfig>;

  private connection: SqliteConnection | undefined;
  /** The open file's schema version (older than ours only in a read-only open). */
  protected schemaVersion = SQLITE_SCHEMA_VERSION;
  /** The full-text index; every write path calls its `sync` inside the write's transaction. */
  protected readonly fts = new SqliteSearchIndex(
    () => this.textExtractor,
    () => this.config.searchIndex,
  );
  /** One-statement paths of the hot writes (see fast-writes.ts); they fall back to SQLiteStorage's transactions. */
  protected readonly fast = new SqliteFastWrites(() => this.db, this.fts);

  /** Validates the configuration (unknown keys throw `ConfigError`); opens nothing until `initialize()`. */
  protected constructor(config: SQLiteStorageConfig) {
    super();
    // `console.log(storage.config)` masks secrets as `console.log(storage)` does (withShownConfig).
    this.config = Object.freeze(withShownConfig(parseSqliteConfig(config)));
  }

  // ----- lifecycle -----------------------------------------------------------------------

  /** True when configured `readOnly`: opens an existing database only and refuses every write. */
  override get isReadOnly(): boolean {
    return this.config.readOnly;
  }

  /** The `maxReasoningChainsPerAgent` option (`null`: no limit). */
  override get maxReasoningChainsPerAgent(): number | null {
    return this.config.maxReasoningChainsPerAgent ?? null;
  }

  protected override describeStore(): string {
    return this.config.dbPath;
  }

  protected async openStore(): Promise<void> {
    this.connection = await openPrepared(
      () => SqliteConnection.open(this.config),
      async (connection) => {
        if (this.config.readOnly) this.schemaVersion = await inspectSchemaReadOnly(connection);
        else {
          await ensureSchema(connection);
          if (this.config.enableWalMode) await connection.enableWal(this.config.connectionTimeout * 1000);
          await (this.config.searchIndex ? this.fts.open(connection) : this.fts.drop(connection));
          const temp = [
            ...PLAIN_WRITE_TEMP_OBJECTS,
            ...(this.config.searchIndex ? FAST_WRITE_TEMP_OBJECTS : []),
          ];
          await connection.exclusive('prepare writes', async (q) => {
            for (const sql of temp) await q.exec(sql);
          });
        }
      },
    );
  }

  protected async closeStore(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection === undefined) return;
    // A clean shutdown leaves no entry waiting outside FTS5 (read-only opens, which cannot move
    // them in, rank waiting entries apart). A failure (another process holding the write lock
    // past the timeout) loses nothing: the entries stay, durable, for the next writer.
    if (this.config.searchIndex && !this.config.readOnly)
      await this.fts.flush(connection).catch(() => undefined);
    await connection.close();
  }

  /** The open connection; the core has already refused calls before `initialize()` and after `shutdown()`. */
  protected get db(): SqliteConnection {
    // Only reachable when shutdown() ran while this call was on its way.
    if (this.connection === undefined)
      throw new StorageError(`SQLite database ${this.config.dbPath} is not open`);
    return this.connection;
  }

  /** Upserts a `(key, JSON text, created_at, updated_at)` row; an update keeps `created_at`. */
  protected async upsertObject(what: string, sql: string, key: string, data: JsonObject): Promise<void> {
    const now = nowTimestamp();
    await this.db.run(`store ${what}`, sql, [key, JSON.stringify(data), now, now]);
  }

  /** The object in the `json` column of the row `sql` finds for `key`, or null. */
  protected async loadObject(what: string, sql: string, key: string): Promise<JsonObject | null> {
    const db = this.db;
    const [row] = await db.all<{ json: string }>(`load ${what}`, sql, [key]);
    return row === undefined ? null : parseStoredJsonObject(row.json, `${what} in ${db.path}`);
  }

  /** The ids `sql` returns as one JSON array in its `ids` column. */
  protected async listIds(what: string, sql: string): Promise<string[]> {
    const [row] = await this.db.all<{ ids: string }>(`list ${what}`, sql);
    return row === undefined ? [] : (parseStoredJson(row.ids, `list of ${what}`) as string[]);
  }

  // ----- cache ---------------------------------------------------------------------------

  protected async writeCacheRecord(cacheKey: string, record: CacheRecord): Promise<void> {
    await this.db.exclusive(`store cache entry ${quote(cacheKey)}`, (q) =>
      upsertCacheRow(q, cacheKey, record),
    );
  }

  protected override writeCacheRecordBatch(
    method: string,
    writes: readonly CacheRecordWrite[],
  ): Promise<void> {
    return batches.writeCacheRecordBatch(this.db, method, writes);
  }

  protected override readCacheRecordBatch(keys: readonly string[]): Promise<Array<CacheRecord | null>> {
    return batches.readCacheRecordBatch(this.db, keys);
  }

  protected override readCacheEntryBatch(keys: readonly string[]): Promise<Array<CacheEntryRead | null>> {
    return batches.readCacheEntryBatch(this.db, keys);
  }

  protected async readCacheRecord(cacheKey: string): Promise<CacheRecord | null> {
    type Row = { cache_data: string; created_at: string; expires_at: string | null };
    const rows = await this.db.all<Row>(`load cache entry ${quote(cacheKey)}`, SQL.selectCache, [cacheKey]);
    const row = rows[0];
    if (row === undefined) return null;
    const data = parseStoredJsonObject(row.cache_data, `cache_entries row ${quote(cacheKey)}`);
    return { data, storedAt: row.created_at, expiresAt: row.expires_at };
  }

  protected async removeCacheRecord(cacheKey: string): Promise<void> {
    await this.db.run(`delete cache entry ${quote(cacheKey)}`, SQL.deleteCache, [cacheKey]);
  }

  protected override removeCacheRecordBatch(keys: readonly string[]): Promise<void> {
    return batches.removeCacheRecordBatch(this.db, keys);
  }

  protected listLiveCacheKeys(nowMs: number): Promise<string[]> {
    return listLiveCacheKeys(this.db, nowMs);
  }

  protected async removeExpiredCache(nowMs: number): Promise<number> {
    return purgeExpiredCache(this.db, nowMs);
  }

  // ----- system state --------------------------------------------------------------------

  protected writeSystemState(stateKey: string, data: JsonObject): Promise<void> {
    return this.upsertObject(`system state ${quote(stateKey)}`, SQL.upsertState, stateKey, data);
  }

  protected readSystemState(stateKey: string): Promise<JsonObject | null> {
    return this.loadObject(`system state ${quote(stateKey)}`, SQL.selectState, stateKey);
  }

  protected async removeSystemState(stateKey: string): Promise<void> {
    await this.db.run(`delete system state ${quote(stateKey)}`, SQL.deleteState, [stateKey]);
  }

  protected listStateKeys(): Promise<string[]> {
    return this.listIds('system state keys', SQL.listStateKeys);
  }

  // ----- paging (see paging.ts) ----------------------------------------------------------

  protected override readIdPage(listing: ListingName, after: string | null, limit: number, nowMs: number) {
    return readSqliteIdPage(this.db, listing, after, limit, nowMs);
  }

  protected override readRawMessagesWindow(conversationId: string, offset: number, limit: number | null) {
    return readSqliteRawWindow(this.db, conversationId, offset, limit);
  }

  protected override readMemoriesWindow(conversationId: string, offset: number, limit: number | null) {
    return readSqliteMemoryWindow(this.db, conversationId, offset, limit);
  }

  // ----- health and stats ----------------------------------------------------------------

  protected async probeHealth(): Promise<HealthProbe> {
    const probe = await probeSqliteHealth(this.db);
    return { ...probe, details: { ...probe.details, ...schemaVersionDetails(this.schemaVersion) } };
  }

  // Not `async`: the collector's promise is returned as it is, without two more microtask turns.
  protected collectStats(nowMs: number): Promise<StatsSnapshot> {
    const schema = schemaVersionDetails(this.schemaVersion);
    return collectSqliteStats(this.db, nowMs, this.config.searchIndex, schema);
  }
}
