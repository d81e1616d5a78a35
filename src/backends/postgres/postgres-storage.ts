/**
 * PostgresStorage: the storage interface on PostgreSQL through `pg`, in one schema of one
 * database: the record primitives, one section per record kind. Configuration, lifecycle,
 * paging, search, health and stats: `postgres-base.ts`; tables: `schema.ts`; statements: `sql.ts`.
 */
import {
  type CacheRecord,
  type CacheRecordWrite,
  type ConversationWrite,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
  parseEach,
  type SequencedChain,
  type SequencedChainRead,
  type SkipItem,
  type StoredConversation,
  parseStoredJson,
  parseStoredJsonObject,
} from '../../core/index.js';
import { cacheRowValues, instant, memoriesFromRows, memoryColumns, type MemoryRow } from './rows.js';
import * as batches from './batches.js';
import { readPostgresConversationBatch } from './batch-reads.js';
import { buildBulkSql, type PostgresBulkSql, writeConversationBatch } from './bulk-writes.js';
import { appendChainRecords, readSequencedChainRecords, trimChainRecords } from './chains.js';
import { buildMemoryBatchSql, type MemoryUpserts } from './memory-rows.js';
import { PostgresStorageBase } from './postgres-base.js';
import { type SearchColumns, searchColumnArrays } from './search-columns.js';
import { EntryMemo } from '../../core/search/entry-memo.js';
import { conversationRowsLock, rawMessagesLock } from './sql.js';
import { quoteName } from '../../core/shown-text.js';

const q = quoteName;

/** Storage in one schema of a PostgreSQL database; many processes may share it. */
export class PostgresStorage extends PostgresStorageBase {
  /** One-line description for `getAvailableBackends()`. */
  static readonly description =
    'PostgreSQL via pg: one schema shared by many processes, transactional, indexed cache expiry';

  private bulkStatements: PostgresBulkSql | undefined;
  /** The statements of `storeMemories`, built on first use. */
  private memoryStatements: MemoryUpserts | undefined;
  /** Raw-message index columns by JSON text: a list stored again is not tokenized again. */
  private readonly rawColumns = new EntryMemo<SearchColumns>(([tokens]) => tokens?.length ?? 0);

  // ----- conversations -------------------------------------------------------------------

  protected async writeConversation(conversationId: string, data: JsonObject): Promise<void> {
    const what = `store conversation ${q(conversationId)}`;
    const columns = this.index.columns('conversations', data);
    await this.db.run(what, this.sql.upsertConversation, [conversationId, JSON.stringify(data), ...columns]);
  }

  protected readConversation(conversationId: string): Promise<JsonObject | null> {
    const what = `conversation ${q(conversationId)}`;
    return this.loadObject('conversations', what, this.sql.selectConversation, conversationId);
  }

  protected listConversationIds(): Promise<string[]> {
    return this.listIds('conversations', this.sql.listConversations);
  }

  protected listStoredConversationIds(): Promise<string[]> {
    return this.listIds('conversation ids', this.sql.listAllConversations);
  }

  protected async removeConversation(conversationId: string): Promise<void> {
    const what = `delete conversation ${q(conversationId)}`;
    const schema = this.config.schema;
    const args = [rawMessagesLock(schema), conversationRowsLock(schema), conversationId];
    await this.db.run(what, this.sql.deleteConversation, args);
  }

  // ----- raw messages --------------------------------------------------------------------

  protected async writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void> {
    let list: string;
    let columns: SearchColumns[] | null = null;
    if (this.index.enabled) {
      // Each message's text is the key of its memoized index columns; the list is their join
      // (what JSON.stringify of the list writes).
      const texts = messages.map((message) => JSON.stringify(message));
      columns = messages.map((message, i) =>
        this.rawColumns.get(texts[i] as string, () => this.index.columns('raw_messages', message)),
      );
      list = `[${texts.join(',')}]`;
    } else {
      list = JSON.stringify(messages);
    }
    const search = searchColumnArrays(columns);
    await this.db.run(`store raw messages of ${q(conversationId)}`, this.sql.storeRawMessages, [
      conversationId,
      rawMessagesLock(this.config.schema),
      list,
      ...search,
    ]);
  }

  protected async readRawMessages(conversationId: string, skip?: SkipItem): Promise<JsonValue[] | null> {
    const what = `raw messages of ${q(conversationId)}`;
    const rows = await this.db.rows<{ json: string }>(`load ${what}`, this.sql.selectRawMessages, [
      conversationId,
    ]);
    return parseEach(rows, skip, (row, i) =>
      parseStoredJson(row.json, () => this.where('raw_messages', `${what}, index ${i}`)),
    );
  }

  // ----- memories ------------------------------------------------------------------------

  protected async upsertMemory(conversationId: string, memory: MemoryWrite): Promise<void> {
    const { createdAt, data } = memoryColumns(memory.record);
    await this.db.run(
      `store memory ${q(memory.memoryId)} of conversation ${q(conversationId)}`,
      this.sql.upsertMemory,
      [
        conversationId,
        memory.memoryId,
        createdAt,
        data,
        memory.explicitCreatedAt,
        ...this.index.columns('memories', memory.record),
      ],
    );
  }

  /** The multi-row statements (whole-conversation and memory batches), built on first use. */
  private bulkSql(): PostgresBulkSql {
    return (this.bulkStatements ??= buildBulkSql(this.config.schema));
  }

  protected override writeConversationBatch(writes: readonly ConversationWrite[]): Promise<void> {
    return writeConversationBatch(this.db, this.bulkSql(), this.config.schema, this.index, writes);
  }

  protected override readConversationBatch(ids: readonly string[]): Promise<StoredConversation[]> {
    return readPostgresConversationBatch(this.db, this.config.schema, ids, (table, what) =>
      this.where(table, what),
    );
  }

  protected override upsertMemoryBatch(
    conversationId: string,
    writes: readonly MemoryWrite[],
  ): Promise<void> {
    const lock = conversationRowsLock(this.config.schema);
    this.memoryStatements ??= buildMemoryBatchSql(this.config.schema, this.index.enabled);
    return batches.upsertMemoryBatch(
      this.db,
      this.memoryStatements,
      lock,
      conversationId,
      writes,
      this.index,
    );
  }

  protected async removeMemory(conversationId: string, memoryId: string): Promise<void> {
    const what = `delete memory ${q(memoryId)} of conversation ${q(conversationId)}`;
    await this.db.run(what, this.sql.deleteMemory, [conversationId, memoryId]);
  }

  protected override async removeMemoryBatch(
    conversationId: string,
    memoryIds: readonly string[],
  ): Promise<void> {
    const what = `delete ${memoryIds.length} memories of conversation ${q(conversationId)}`;
    const args = [conversationRowsLock(this.config.schema), conversationId, memoryIds];
    await this.db.run(what, this.sql.deleteMemoryBatch, args);
  }

  protected async readMemories(conversationId: string, skip?: SkipItem): Promise<JsonObject[]> {
    const what = `memories of ${q(conversationId)}`;
    const rows = await this.db.rows<MemoryRow>(`load ${what}`, this.sql.selectMemories, [conversationId]);
    const where = (row: MemoryRow) => () =>
      this.where('memories', `conversation ${q(conversationId)}, memory ${q(row.memory_id)}`);
    return memoriesFromRows(rows, where, skip);
  }

  // ----- reasoning chains ----------------------------------------------------------------

  protected appendReasoningChain(agentId: string, record: JsonObject): Promise<void> {
    return this.addReasoningChainBatch(agentId, [record]);
  }

  /** Appends and trims to `maxReasoningChainsPerAgent` in one transaction, as a single append. */
  protected override async addReasoningChainBatch(
    agentId: string,
    records: readonly JsonObject[],
  ): Promise<void> {
    const keep = this.maxReasoningChainsPerAgent;
    await appendChainRecords(this.db, this.chainSql, agentId, records, keep, this.index);
  }

  protected override readSequencedChains(
    agentId: string,
    read: SequencedChainRead,
    skip?: SkipItem,
  ): Promise<SequencedChain[]> {
    const where = (what: string) => this.where('reasoning_chains', what);
    return readSequencedChainRecords(this.db, this.chainSql, agentId, read, where, skip);
  }

  protected override keepLastChains(agentId: string, keepLast: number): Promise<number> {
    return trimChainRecords(this.db, this.chainSql, agentId, keepLast, this.index);
  }

  protected async readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    const what = `load reasoning chains of ${q(agentId)}`;
    type Row = { id: string; json: string };
    const rows =
      limit === null
        ? await this.db.rows<Row>(what, this.sql.selectChains, [agentId])
        : await this.db.rows<Row>(what, this.sql.selectLastChains, [agentId, limit]);
    return rows.map((row) =>
      parseStoredJsonObject(row.json, () =>
        this.where('reasoning_chains', `id ${row.id} (agent ${q(agentId)})`),
      ),
    );
  }

  protected async removeReasoningChains(agentId: string): Promise<void> {
    await this.db.run(`delete reasoning chains of ${q(agentId)}`, this.sql.deleteChains, [agentId]);
  }

  protected listAgentIds(): Promise<string[]> {
    return this.listIds('agents', this.sql.listAgents);
  }

  // ----- chunk info ----------------------------------------------------------------------

  protected async writeChunkInfo(conversationId: string, data: JsonObject): Promise<void> {
    const what = `store chunk info of ${q(conversationId)}`;
    const columns = this.index.columns('chunk_info', data);
    await this.db.run(what, this.sql.upsertChunkInfo, [conversationId, JSON.stringify(data), ...columns]);
  }

  protected readChunkInfo(conversationId: string): Promise<JsonObject | null> {
    const what = `chunk info of ${q(conversationId)}`;
    return this.loadObject('chunk_info', what, this.sql.selectChunkInfo, conversationId);
  }

  // ----- cache ---------------------------------------------------------------------------

  protected async writeCacheRecord(cacheKey: string, record: CacheRecord): Promise<void> {
    const values = cacheRowValues(cacheKey, record);
    await this.db.run(`store cache entry ${q(cacheKey)}`, this.sql.upsertCache, values);
  }

  protected async readCacheRecord(cacheKey: string): Promise<CacheRecord | null> {
    const what = `cache entry ${q(cacheKey)}`;
    type Row = { json: string; stored_at: string; expires_at_text: string | null };
    const [row] = await this.db.rows<Row>(`load ${what}`, this.sql.selectCache, [cacheKey]);
    if (row === undefined) return null;
    const data = parseStoredJsonObject(row.json, () => this.where('cache_entries', what));
    return { data, storedAt: row.stored_at, expiresAt: row.expires_at_text };
  }

  protected override writeCacheRecordBatch(
    method: string,
    writes: readonly CacheRecordWrite[],
  ): Promise<void> {
    return batches.writeCacheRecordBatch(this.db, this.sql, method, writes);
  }

  protected override readCacheRecordBatch(keys: readonly string[]): Promise<Array<CacheRecord | null>> {
    return batches.readCacheRecordBatch(this.db, this.sql, this.config.schema, keys);
  }

  protected async removeCacheRecord(cacheKey: string): Promise<void> {
    await this.db.run(`delete cache entry ${q(cacheKey)}`, this.sql.deleteCache, [cacheKey]);
  }

  protected override removeCacheRecordBatch(keys: readonly string[]): Promise<void> {
    return batches.removeCacheRecordBatch(this.db, this.sql, keys);
  }

  protected listLiveCacheKeys(nowMs: number): Promise<string[]> {
    return this.listIds('cache keys', this.sql.listLiveCacheKeys, [instant(nowMs)]);
  }

  protected removeExpiredCache(nowMs: number): Promise<number> {
    return this.db.run('purge expired cache entries', this.sql.deleteExpiredCache, [instant(nowMs)]);
  }

  // ----- system state --------------------------------------------------------------------

  protected async writeSystemState(stateKey: string, data: JsonObject): Promise<void> {
    const what = `store system state ${q(stateKey)}`;
    await this.db.run(what, this.sql.upsertState, [stateKey, JSON.stringify(data)]);
  }

  protected readSystemState(stateKey: string): Promise<JsonObject | null> {
    const what = `system state ${q(stateKey)}`;
    return this.loadObject('system_state', what, this.sql.selectState, stateKey);
  }

  protected async removeSystemState(stateKey: string): Promise<void> {
    await this.db.run(`delete system state ${q(stateKey)}`, this.sql.deleteState, [stateKey]);
  }

  protected listStateKeys(): Promise<string[]> {
    return this.listIds('system state keys', this.sql.listStateKeys);
  }
}
