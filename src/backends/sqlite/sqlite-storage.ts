/**
 * SQLite backend: the Python reference's database schema, so one database file
 * works from both sides, with the README's divergences (typed errors, memory replace in
 * place, caller timestamps kept, sorted lists, bulk TTL purge). The writes of a conversation's
 * parts, fast path or transaction, and the conversation batch are conversation-writes.ts.
 */
import {
  type ConversationWrite,
  nowTimestamp,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
  type NormalizedSearchQuery,
  parseEach,
  type SearchCandidate,
  type SequencedChain,
  type SequencedChainRead,
  type SkipItem,
  parseStoredJson,
} from '../../core/index.js';
import type { SQLiteStorageConfig } from './config.js';
import { chainFromRow, memoriesFromRows, type ChainRow, type MemoryRow } from './rows.js';
import { SQL } from './sql.js';
import { readSqliteConversationBatch } from './batch-reads.js';
import { searchWithIndex } from './search-read.js';
import { chainSearchSync } from './search-writes.js';
import { SqliteConversationWrites } from './conversation-writes.js';
import {
  appendChainRecords,
  type ChainChangeHook,
  readSequencedChainRecords,
  trimChainRecords,
} from './chains.js';
import * as batches from './batches.js';
import { upsertMemoryRow } from './batches.js';
import { quote, SQLiteStorageBase } from './sqlite-base.js';

/** Storage in one SQLite database file (or `:memory:`), readable and writable by the Python reference. */
export class SQLiteStorage extends SQLiteStorageBase {
  /** One-line description shown by the factory. */
  static readonly description = 'SQLite database file, same schema as the Python reference (needs sqlite3)';

  /** Backend name as registered in the factory. */
  readonly storageType = 'sqlite';

  /** The conversation-part writes, each by its fast path or a transaction (conversation-writes.ts). */
  private readonly conversationWrites = new SqliteConversationWrites(() => this.db, this.fast, this.fts);

  /** Validates the configuration (unknown keys throw `ConfigError`); opens nothing until `initialize()`. */
  constructor(config: SQLiteStorageConfig = {}) {
    super(config);
  }

  // ----- conversations -------------------------------------------------------------------

  protected writeConversation(conversationId: string, data: JsonObject): Promise<void> {
    return this.conversationWrites.storeObject('conversations', conversationId, data);
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

  protected writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void> {
    return this.conversationWrites.storeRawMessageList(conversationId, messages);
  }

  protected async readRawMessages(conversationId: string, skip?: SkipItem): Promise<JsonValue[] | null> {
    const what = `raw messages of ${quote(conversationId)}`;
    const rows = await this.db.all<{ message_data: string }>(`load ${what}`, SQL.selectRawMessages, [
      conversationId,
    ]);
    return parseEach(rows, skip, (r, i) =>
      parseStoredJson(r.message_data, `raw_messages row ${i} of ${quote(conversationId)}`),
    );
  }

  // ----- memories ------------------------------------------------------------------------

  protected async upsertMemory(conversationId: string, memory: MemoryWrite): Promise<void> {
    if (await this.fast.insertMemory(conversationId, memory, nowTimestamp())) return;
    const what = `store memory ${quote(memory.memoryId)} of conversation ${quote(conversationId)}`;
    await this.db.transaction(what, async (q) => {
      await this.conversationWrites.memoriesChanged(conversationId)(q, [
        await upsertMemoryRow(q, conversationId, memory),
      ]);
    });
  }

  protected override async upsertMemoryBatch(
    conversationId: string,
    writes: readonly MemoryWrite[],
  ): Promise<void> {
    const name = batches.memoryBatchName(conversationId, writes);
    if (await this.fast.insertMemories(conversationId, writes)) return;
    const replaced = await batches.upsertMemoryBatch(
      this.db,
      conversationId,
      writes,
      this.conversationWrites.memoriesChanged(conversationId),
      name,
    );
    this.fast.noteMemoryBatch(conversationId, replaced);
  }

  protected async removeMemory(conversationId: string, memoryId: string): Promise<void> {
    const what = `delete memory ${quote(memoryId)} of conversation ${quote(conversationId)}`;
    await this.removeMemoryRows(what, SQL.deleteMemory, [conversationId, memoryId]);
  }

  protected override async removeMemoryBatch(
    conversationId: string,
    memoryIds: readonly string[],
  ): Promise<void> {
    const what = `delete ${memoryIds.length} memories of conversation ${quote(conversationId)}`;
    await this.removeMemoryRows(what, SQL.deleteMemoryBatch, [conversationId, JSON.stringify(memoryIds)]);
  }

  /**
   * Runs a delete of one conversation's memory rows (`params[0]` the conversation id) with the
   * index's prune in one transaction; with the index off the prune does nothing, so the delete
   * is one autocommit statement: one commit either way, and one trip through the driver's
   * queue instead of three (`BEGIN IMMEDIATE`, the delete, `COMMIT`).
   */
  private async removeMemoryRows(what: string, sql: string, params: [string, string]): Promise<void> {
    if (!this.fts.enabled()) {
      await this.db.run(what, sql, params);
      return;
    }
    await this.db.transaction(what, async (q) => {
      await q.run(sql, params);
      await this.fts.sync(q, 'memories', params[0], { prune: true });
    });
  }

  protected async readMemories(conversationId: string, skip?: SkipItem): Promise<JsonObject[]> {
    const what = `load memories of ${quote(conversationId)}`;
    const rows = await this.db.all<MemoryRow>(what, SQL.selectMemories, [conversationId]);
    return memoriesFromRows(rows, conversationId, skip);
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
    const fast = this.maxReasoningChainsPerAgent === null;
    if (fast && (await this.fast.appendChains(agentId, records, nowTimestamp()))) return;
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
    skip?: SkipItem,
  ): Promise<SequencedChain[]> {
    return readSequencedChainRecords(this.db, agentId, read, skip);
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

  protected writeChunkInfo(conversationId: string, data: JsonObject): Promise<void> {
    return this.conversationWrites.storeObject('chunk_info', conversationId, data);
  }

  protected readChunkInfo(conversationId: string): Promise<JsonObject | null> {
    return this.loadObject(`chunk info of ${quote(conversationId)}`, SQL.selectChunkInfo, conversationId);
  }

  // ----- whole conversations (reads: batch-reads.ts) ----------------------------------------

  /** Every part of every conversation in ONE transaction (see conversation-writes.ts). */
  protected override writeConversationBatch(writes: readonly ConversationWrite[]): Promise<void> {
    return this.conversationWrites.storeBatch(writes);
  }

  protected override readConversationBatch(ids: readonly string[]) {
    return readSqliteConversationBatch(this.db, ids);
  }

  // ----- search (see search-index.ts) ------------------------------------------------------

  protected override searchIndex(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    if (!this.config.searchIndex) return super.searchIndex(query);
    return searchWithIndex(this.db, this.fts, query, this.isReadOnly, () => super.searchIndex(query));
  }

  protected override rebuildSearchIndex(signal?: AbortSignal): Promise<number> {
    return this.config.searchIndex ? this.fts.rebuild(this.db, signal) : super.rebuildSearchIndex(signal);
  }
}
