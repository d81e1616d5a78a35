/**
 * The part of {@link PostgresStorage} that is not about one record kind: configuration,
 * lifecycle (pool, schema creation or upgrade), the helpers every record kind uses, paging,
 * search, health and stats. The record primitives are in `postgres-storage.ts`.
 */
import {
  type HealthProbe,
  type JsonObject,
  type ListingName,
  type NormalizedSearchQuery,
  NotInitializedError,
  type SearchCandidate,
  parseStoredJsonObject,
  type StatsSnapshot,
  StorageInterface,
  logEvent,
  openPrepared,
  redactUrl,
  type BulkCopyDefaults,
} from '../../core/index.js';
import { parsePostgresConfig, type PostgresStorageConfig, type ResolvedPostgresConfig } from './config.js';
import { PostgresConnection, type SqlParam } from './connection.js';
import { isWriteRefused } from './driver-errors.js';
import { collectPostgresStats, probePostgresHealth, type SizeReuse } from './health-stats.js';
import { readPostgresIdPage, readPostgresMemoryWindow, readPostgresRawWindow } from './paging.js';
import { checkSchemaReadOnly, describePostgresStore, ensureSchema } from './schema.js';
import { PostgresSearchIndex } from './search-index.js';
import { withShownConfig } from '../../core/shown-store.js';
import { buildSql, type PostgresSql, quoteIdent } from './sql.js';
import type { SqlText } from './statements.js';
import { buildChainSql, type ChainSql } from './chains.js';

/**
 * Copies into PostgreSQL: groups of 64 conversations (one transaction each; groups of 32 commit
 * twice as often and measured slower), two at once (four hold twice the parsed records in
 * memory): sqlite→postgres at 2,000 conversations, index on, 1,918 → 1,756 ms against 64 × 4,
 * medians of 6 alternating cold runs on 2 cores (README, Migration).
 */
const POSTGRES_BULK_COPY: Readonly<BulkCopyDefaults> = Object.freeze({
  conversationBatchSize: 64,
  concurrency: 2,
});

/** Configuration, lifecycle, shared helpers, paging, search, health and stats of the PostgreSQL backend. */
export abstract class PostgresStorageBase extends StorageInterface {
  /** Backend name as registered in the factory. */
  readonly storageType = 'postgres';

  /** The validated configuration, defaults filled in. */
  readonly config: Readonly<ResolvedPostgresConfig>;

  /** The statements on the data (`sql.ts`). */
  protected readonly sql: PostgresSql;
  /** The reasoning-chain statements (`chains.ts`). */
  protected readonly chainSql: ChainSql;
  /** The search index: the columns each write stores, and the index queries. */
  protected readonly index: PostgresSearchIndex;
  private connection: PostgresConnection | undefined;
  /** The table sizes `getStorageStats()` may reuse (unchanged by the guard, or `statsSizeMaxAgeMillis`). */
  private readonly sizes: SizeReuse;

  /** Validates the configuration (unknown keys throw `ConfigError`); connects in `initialize()`. */
  constructor(config: PostgresStorageConfig = {}) {
    super();
    // `console.log(storage.config)` masks secrets as `console.log(storage)` does (withShownConfig).
    this.config = Object.freeze(withShownConfig(parsePostgresConfig(config)));
    this.sql = buildSql(this.config.schema);
    this.chainSql = buildChainSql(this.config.schema);
    this.sizes = {
      maxAgeMs: this.config.statsSizeMaxAgeMillis,
      last: undefined,
      guarded: this.config.preparedStatements,
    };
    this.index = new PostgresSearchIndex(
      this.config.schema,
      this.config.searchIndex,
      () => this.textExtractor,
    );
  }

  /** A copy into this store goes in groups of 64 conversations, two at once (see `POSTGRES_BULK_COPY`). */
  override get bulkCopyDefaults(): Readonly<BulkCopyDefaults> {
    return POSTGRES_BULK_COPY;
  }

  /** The `maxReasoningChainsPerAgent` option (`null`: no limit). */
  override get maxReasoningChainsPerAgent(): number | null {
    return this.config.maxReasoningChainsPerAgent;
  }

  /** The schema holding this store's tables. */
  get schema(): string {
    return this.config.schema;
  }

  // ----- lifecycle -----------------------------------------------------------------------

  /** True when configured `readOnly`: opens an existing schema only, and refuses every write. */
  override get isReadOnly(): boolean {
    return this.config.readOnly;
  }

  protected override describeStore(): string {
    const label = this.connection?.label ?? (this.config.pool ? 'given pg.Pool' : redactUrl(this.config.url));
    return describePostgresStore(label, this.config.schema);
  }

  protected async openStore(): Promise<void> {
    // A reopened store may face another server or a restored database: measure afresh.
    this.sizes.last = undefined;
    this.sizes.guarded = this.config.preparedStatements;
    this.connection = await openPrepared(
      () => PostgresConnection.open(this.config),
      (connection) =>
        this.config.readOnly
          ? checkSchemaReadOnly(connection, this.config.schema)
          : this.prepareSchema(connection),
      {
        // pg's pool.end() waits for every client it counts; one its driver lost track of (a
        // socket that threw inside the pool, as for a port that was no number before
        // 08fe4de) kept it from ever settling, and initialize() with it. Every connect the
        // pool still waits on ends within connectionTimeoutMillis, so past that it is stuck.
        waitMillis: this.config.connectionTimeoutMillis,
        onStuck: () =>
          logEvent(
            this.config.logger,
            'warn',
            `postgres storage: ${this.describeStore()}: the pool did not close after the failed open; left closing`,
            { waited_ms: this.config.connectionTimeoutMillis },
          ),
      },
    );
  }

  /**
   * Creates or upgrades the schema, then indexes rows stored without index columns (older
   * versions, index off), or every row when the index was built under another text rule.
   */
  private async prepareSchema(connection: PostgresConnection): Promise<void> {
    await ensureSchema(connection, this.config.schema, { searchIndex: this.index.enabled });
    if (!this.index.enabled) return;
    try {
      await this.index.prepare(connection);
    } catch (error) {
      // A server that refuses writes (a standby, default_transaction_read_only) still serves
      // reads, and the schema needs no change: the store opens, searches scan until the
      // index is caught up (a search once writes work again; an index never built: the next
      // writable open or reindex()), and each write rejects as unavailable.
      if (!isWriteRefused(error)) throw error;
      logEvent(
        this.config.logger,
        'warn',
        `postgres storage: ${this.describeStore()}: search index not caught up on open`,
        {
          error: error instanceof Error ? error.message : String(error),
        },
      );
    }
  }

  protected async closeStore(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
  }

  /** The open connection pool. */
  protected get db(): PostgresConnection {
    // Only reachable when shutdown() ran while a call was on its way.
    if (!this.connection)
      throw new NotInitializedError(this.storageType, 'a call', 'closed', this.shownStore());
    return this.connection;
  }

  /** Where a row lives, for error messages: `"schema".table (what)`. */
  protected where(table: string, what: string): string {
    return `postgres (${this.db.label}) ${quoteIdent(this.config.schema)}.${table} ${what}`;
  }

  /** One JSON object by key, `null` when absent. */
  protected async loadObject(
    table: string,
    what: string,
    sql: SqlText,
    key: string,
  ): Promise<JsonObject | null> {
    const [row] = await this.db.rows<{ json: string }>(`load ${what}`, sql, [key]);
    // The location is built only for a bad value, as for every load (not once per call).
    return row === undefined ? null : parseStoredJsonObject(row.json, () => this.where(table, what));
  }

  /** The ids a listing statement returns, in its order. */
  protected async listIds(what: string, sql: SqlText, params: readonly SqlParam[] = []): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(`list ${what}`, sql, params);
    return rows.map((row) => row.id);
  }

  // ----- paging (see paging.ts) ----------------------------------------------------------

  protected override readIdPage(listing: ListingName, after: string | null, limit: number, nowMs: number) {
    return readPostgresIdPage(this.db, this.config.schema, listing, { after, limit, nowMs });
  }

  protected override readRawMessagesWindow(conversationId: string, offset: number, limit: number | null) {
    const where = (what: string): string => this.where('raw_messages', what);
    return readPostgresRawWindow(this.db, this.config.schema, conversationId, { offset, limit, where });
  }

  protected override readMemoriesWindow(conversationId: string, offset: number, limit: number | null) {
    const where = (what: string): string => this.where('memories', what);
    return readPostgresMemoryWindow(this.db, this.config.schema, conversationId, { offset, limit, where });
  }

  // ----- search (see search-index.ts) ----------------------------------------------------

  protected override searchIndex(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    if (!this.index.enabled) return super.searchIndex(query);
    return this.index.search(this.db, query, this.isReadOnly, () => super.searchIndex(query));
  }

  protected override rebuildSearchIndex(signal?: AbortSignal): Promise<number> {
    return this.index.enabled ? this.index.rebuild(this.db, signal) : super.rebuildSearchIndex(signal);
  }

  // ----- health and stats ----------------------------------------------------------------

  protected probeHealth(): Promise<HealthProbe> {
    return probePostgresHealth(this.db, this.sql, this.config.schema);
  }

  protected collectStats(nowMs: number): Promise<StatsSnapshot> {
    return collectPostgresStats(this.db, this.sql, this.config.schema, nowMs, this.index, this.sizes);
  }
}
