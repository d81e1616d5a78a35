/**
 * SQLite backend: the Python reference's database schema, so one database file
 * works from both sides, with the README's divergences (typed errors, memory replace in
 * place, caller timestamps kept, sorted lists, bulk TTL purge).
 */
import {
  nowTimestamp,
  StorageError,
  StorageInterface,
  type CacheRecord,
  type CacheRecordWrite,
  type HealthProbe,
  type JsonObject,
  type JsonValue,
  type ListingName,
  type MemoryWrite,
  type NormalizedSearchQuery,
  type SearchCandidate,
  type SequencedChain,
  type SequencedChainRead,
  parseStoredJson,
  parseStoredJsonObject,
  type StatsSnapshot,
  openPrepared,
} from '../../core/index.js';
import { parseSqliteConfig, type ResolvedSQLiteConfig, type SQLiteStorageConfig } from './config.js';
import { SqliteConnection } from './connection.js';
import { chainFromRow, memoryFromRow, type ChainRow, type MemoryRow } from './rows.js';
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
import { readSqliteConversationBatch } from './batch-reads.js';
import { SqliteSearchIndex } from './search-index.js';
import { searchIndexEntries, searchWithIndex } from './search-read.js';
import { chainSearchSync, memorySearchSync } from './search-writes.js';
import {
  appendChainRecords,
  type ChainChangeHook,
  readSequencedChainRecords,
  trimChainRecords,
} from './chains.js';
import * as batches from './batches.js';
import { replaceRawMessages, upsertCacheRow, upsertMemoryRow } from './batches.js';
import { FAST_WRITE_TEMP_OBJECTS, PLAIN_WRITE_TEMP_OBJECTS, SqliteFastWrites } from './fast-writes.js';

const quote = (id: string): string => JSON.stringify(id);

/** Storage in one SQLite database file (or `:memory:`), readable and writable by the Python reference. */
export class SQLiteStorage extends StorageInterface {
  /** One-line description shown by the factory. */
  static readonly description = 'SQLite database file, same schema as the Python reference (needs sqlite3)';

  /** Backend name as registered in the factory. */
  readonly storageType = 'sqlite';

  /** The validated configuration, defaults filled in. */
  readonly config: Readonly<ResolvedSQLiteConfig>;

  private connection: SqliteConnection | undefined;
  /** The open file's schema version (older than ours only in a read-only open). */
  private schemaVersion = SQLITE_SCHEMA_VERSION;
  /** The full-text index; every write path calls its `sync` inside the write's transaction. */
  private readonly fts = new SqliteSearchIndex(
    () => this.textExtractor,
    () => this.config.searchIndex,
  );
  /** One-statement paths of the hot writes (see fast-writes.ts); they fall back to the methods below. */
  private readonly fast = new SqliteFastWrites(() => this.db, this.fts);

  /** Validates the configuration (unknown keys throw `ConfigError`); opens nothing until `initialize()`. */
  constructor(config: SQLiteStorageConfig = {}) {
    super();
    this.config = Object.freeze(parseSqliteConfig(config));
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
    await connection?.close();
  }

  /** The open connection; the core has already refused calls before `initialize()` and after `shutdown()`. */
  private get db(): SqliteConnection {
    // Only reachable when shutdown() ran while this call was on its way.
    if (this.connection === undefined)
      throw new StorageError(`SQLite database ${this.config.dbPath} is not open`);
    return this.connection;
  }

  /** Upserts a `(key, JSON text, created_at, updated_at)` row; an update keeps `created_at`. */
  private async upsertObject(what: string, sql: string, key: string, data: JsonObject): Promise<void> {
    const now = nowTimestamp();
    await this.db.run(`store ${what}`, sql, [key, JSON.stringify(data), now, now]);
  }

  /** The object in the `json` column of the row `sql` finds for `key`, or null. */
  private async loadObject(what: string, sql: string, key: string): Promise<JsonObject | null> {
    const db = this.db;
    const [row] = await db.all<{ json: string }>(`load ${what}`, sql, [key]);
    return row === undefined ? null : parseStoredJsonObject(row.json, `${what} in ${db.path}`);
  }

  /** The ids `sql` returns as one JSON array in its `ids` column. */
  private async listIds(what: string, sql: string): Promise<string[]> {
    const [row] = await this.db.all<{ ids: string }>(`list ${what}`, sql);
    return row === undefined ? [] : (parseStoredJson(row.ids, `list of ${what}`) as string[]);
  }

  // ----- conversations -------------------------------------------------------------------

  protected async writeConversation(conversationId: string, data: JsonObject): Promise<void> {
    const now = nowTimestamp();
    if (await this.fast.upsertObject('conversations', conversationId, data, now)) return;
    await this.db.transaction(`store conversation ${quote(conversationId)}`, async (q) => {
      await q.run(SQL.upsertConversation, [conversationId, JSON.stringify(data), now, now]);
      await this.fts.sync(q, 'conversations', conversationId, { reindex: 'scope' });
    });
  }

  protected readConversation(conversationId: string): Promise<JsonObject | null> {
    return this.loadObject(`conversation ${quote(conversationId)}`, SQL.selectConversation, conversationId);
  }

  protected listConversationIds(): Promise<string[]> {
    return this.listIds('conversations', SQL.listConversations);
  }

  protected listStoredConversationIds(): Promise<string[]> {
    return this.listIds('conversation ids', SQL.listAllConversations);
  }

  protected async removeConversation(conversationId: string): Promise<void> {
    const kinds = [SQL.deleteRawMessages, SQL.deleteMemories, SQL.deleteChunkInfo, SQL.deleteConversation];
    await this.db.transaction(`delete conversation ${quote(conversationId)}`, async (q) => {
      for (const sql of kinds) await q.run(sql, [conversationId]);
      for (const kind of ['raw_messages', 'memories', 'chunk_info', 'conversations'] as const) {
        await this.fts.sync(q, kind, conversationId, { prune: true });
      }
    });
  }

  // ----- raw messages --------------------------------------------------------------------

  protected async writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void> {
    if (await this.fast.replaceRawMessages(conversationId, messages, nowTimestamp())) return;
    return replaceRawMessages(this.db, conversationId, messages, (q) =>
      this.fts.sync(q, 'raw_messages', conversationId, { prune: true }),
    );
  }

  protected async readRawMessages(conversationId: string): Promise<JsonValue[] | null> {
    const what = `raw messages of ${quote(conversationId)}`;
    const rows = await this.db.all<{ message_data: string }>(`load ${what}`, SQL.selectRawMessages, [
      conversationId,
    ]);
    return rows.map((r, i) =>
      parseStoredJson(r.message_data, `raw_messages row ${i} of ${quote(conversationId)}`),
    );
  }

  // ----- memories ------------------------------------------------------------------------

  protected async upsertMemory(conversationId: string, memory: MemoryWrite): Promise<void> {
    if (await this.fast.insertMemory(conversationId, memory, nowTimestamp())) return;
    const what = `store memory ${quote(memory.memoryId)} of conversation ${quote(conversationId)}`;
    await this.db.transaction(what, async (q) => {
      await this.memoriesChanged(conversationId)(q, [await upsertMemoryRow(q, conversationId, memory)]);
    });
  }

  protected override upsertMemoryBatch(
    conversationId: string,
    writes: readonly MemoryWrite[],
  ): Promise<void> {
    return batches.upsertMemoryBatch(this.db, conversationId, writes, this.memoriesChanged(conversationId));
  }

  /** Keeps the search index in step with a memory write, in its transaction. */
  private memoriesChanged(conversationId: string): batches.MemoriesChangedHook {
    return (q, rows) => this.fts.sync(q, 'memories', conversationId, memorySearchSync(conversationId, rows));
  }

  protected async removeMemory(conversationId: string, memoryId: string): Promise<void> {
    const what = `delete memory ${quote(memoryId)} of conversation ${quote(conversationId)}`;
    await this.db.transaction(what, async (q) => {
      await q.run(SQL.deleteMemory, [conversationId, memoryId]);
      await this.fts.sync(q, 'memories', conversationId, { prune: true });
    });
  }

  protected async readMemories(conversationId: string): Promise<JsonObject[]> {
    const what = `load memories of ${quote(conversationId)}`;
    const rows = await this.db.all<MemoryRow>(what, SQL.selectMemories, [conversationId]);
    return rows.map((row) => memoryFromRow(row, conversationId));
  }

  // ----- reasoning chains ----------------------------------------------------------------

  protected async appendReasoningChain(agentId: string, record: JsonObject): Promise<void> {
    const fast = this.maxReasoningChainsPerAgent === null;
    if (fast && (await this.fast.appendChain(agentId, record, nowTimestamp()))) return;
    return this.addReasoningChainBatch(agentId, [record]);
  }

  /** Appends and trims to `maxReasoningChainsPerAgent` in one transaction, as a single append. */
  protected override async addReasoningChainBatch(
    agentId: string,
    records: readonly JsonObject[],
  ): Promise<void> {
    await appendChainRecords(
      this.db,
      agentId,
      records,
      this.maxReasoningChainsPerAgent,
      this.chainChanged(agentId),
    );
  }

  /** Keeps the search index in step with a chain change, in its transaction. */
  private chainChanged(agentId: string): ChainChangeHook {
    return (q, removed, added) =>
      this.fts.sync(q, 'reasoning_chains', agentId, chainSearchSync(agentId, removed, added));
  }

  protected override readSequencedChains(
    agentId: string,
    read: SequencedChainRead,
  ): Promise<SequencedChain[]> {
    return readSequencedChainRecords(this.db, agentId, read);
  }

  protected override keepLastChains(agentId: string, keepLast: number): Promise<number> {
    return trimChainRecords(this.db, agentId, keepLast, this.chainChanged(agentId));
  }

  protected async readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    const what = `load reasoning chains of ${quote(agentId)}`;
    const rows =
      limit === null
        ? await this.db.all<ChainRow>(what, SQL.selectChains, [agentId])
        : (await this.db.all<ChainRow>(what, SQL.selectLastChains, [agentId, limit])).reverse();
    return rows.map((row) => chainFromRow(row, agentId));
  }

  protected async removeReasoningChains(agentId: string): Promise<void> {
    await this.db.transaction(`delete reasoning chains of ${quote(agentId)}`, async (q) => {
      await q.run(SQL.deleteChains, [agentId]);
      await this.fts.sync(q, 'reasoning_chains', agentId, { prune: true });
    });
  }

  protected listAgentIds(): Promise<string[]> {
    return this.listIds('agents', SQL.listAgents);
  }

  // ----- chunk info ----------------------------------------------------------------------

  protected async writeChunkInfo(conversationId: string, data: JsonObject): Promise<void> {
    const now = nowTimestamp();
    if (await this.fast.upsertObject('chunk_info', conversationId, data, now)) return;
    await this.db.transaction(`store chunk info of ${quote(conversationId)}`, async (q) => {
      await q.run(SQL.upsertChunkInfo, [conversationId, JSON.stringify(data), now, now]);
      await this.fts.sync(q, 'chunk_info', conversationId, { reindex: 'scope' });
    });
  }

  protected readChunkInfo(conversationId: string): Promise<JsonObject | null> {
    return this.loadObject(`chunk info of ${quote(conversationId)}`, SQL.selectChunkInfo, conversationId);
  }

  // ----- cache ---------------------------------------------------------------------------

  protected async writeCacheRecord(cacheKey: string, record: CacheRecord): Promise<void> {
    await this.db.exclusive(`store cache entry ${quote(cacheKey)}`, (q) =>
      upsertCacheRow(q, cacheKey, record),
    );
  }

  protected override writeCacheRecordBatch(
    _method: string,
    writes: readonly CacheRecordWrite[],
  ): Promise<void> {
    return batches.writeCacheRecordBatch(this.db, writes);
  }

  protected override readCacheRecordBatch(keys: readonly string[]): Promise<Array<CacheRecord | null>> {
    return batches.readCacheRecordBatch(this.db, keys);
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

  protected override readConversationBatch(ids: readonly string[]) {
    return readSqliteConversationBatch(this.db, ids);
  }

  protected override readMemoriesWindow(conversationId: string, offset: number, limit: number | null) {
    return readSqliteMemoryWindow(this.db, conversationId, offset, limit);
  }

  // ----- health and stats ----------------------------------------------------------------

  protected async probeHealth(): Promise<HealthProbe> {
    const probe = await probeSqliteHealth(this.db);
    return { ...probe, details: { ...probe.details, ...schemaVersionDetails(this.schemaVersion) } };
  }

  protected async collectStats(nowMs: number): Promise<StatsSnapshot> {
    const stats = await collectSqliteStats(this.db, nowMs);
    const search_index_entries = this.config.searchIndex ? await searchIndexEntries(this.db, this.fts) : null;
    return {
      ...stats,
      extra: { ...stats.extra, ...schemaVersionDetails(this.schemaVersion), search_index_entries },
    };
  }

  // ----- search (see search-index.ts) ------------------------------------------------------

  protected override searchIndex(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    if (!this.config.searchIndex) return super.searchIndex(query);
    return searchWithIndex(this.db, this.fts, query, this.isReadOnly, () => super.searchIndex(query));
  }

  protected override rebuildSearchIndex(): Promise<number> {
    return this.config.searchIndex ? this.fts.rebuild(this.db) : Promise.resolve(0);
  }
}
