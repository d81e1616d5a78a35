/**
 * The SQLite store's writes of a conversation's parts: its object and chunk info, its raw
 * messages, and the search-index step of a memory write; each single write takes its
 * one-statement fast path (fast-writes.ts) or, when that declines, the general path in a
 * transaction. Separate from `SQLiteStorage` (sqlite-storage.ts) because the conversation batch
 * reuses exactly these general paths inside its one transaction: the fast-or-general choice and
 * the steps it falls back to are kept together, so a batch writes each part as a single write does.
 */
import { type ConversationWrite, type JsonObject, type JsonValue, nowTimestamp } from '../../core/index.js';
import * as batches from './batches.js';
import type { SqliteConnection, Transaction } from './connection.js';
import type { SqliteFastWrites } from './fast-writes.js';
import type { SqliteSearchIndex } from './search-index.js';
import { memorySearchSync } from './search-writes.js';
import { quote } from './sqlite-base.js';
import { SQL } from './sql.js';

/** The conversation-part writes of one store (see the module comment). */
export class SqliteConversationWrites {
  /**
   * @param db the store's connection (read when called: it changes across reopen)
   * @param fast the store's one-statement writes
   * @param fts the store's search index, kept in step inside each write's transaction
   */
  constructor(
    private readonly db: () => SqliteConnection,
    private readonly fast: SqliteFastWrites,
    private readonly fts: SqliteSearchIndex,
  ) {}

  /** Stores a conversation or chunk-info object (in `q`'s transaction when given). */
  storeObject(
    kind: 'conversations' | 'chunk_info',
    conversationId: string,
    data: JsonObject,
    q?: Transaction,
  ): Promise<void> {
    const now = nowTimestamp();
    const what =
      kind === 'conversations'
        ? `store conversation ${quote(conversationId)}`
        : `store chunk info of ${quote(conversationId)}`;
    return this.fastOrGeneral(
      what,
      (t) => this.fast.upsertObject(kind, conversationId, data, now, t),
      (t) => this.upsertObjectRow(t, kind, conversationId, data, now),
      q,
    );
  }

  /** Replaces a conversation's raw messages (in `q`'s transaction when given). */
  storeRawMessageList(
    conversationId: string,
    messages: readonly JsonValue[],
    q?: Transaction,
  ): Promise<void> {
    return this.fastOrGeneral(
      `store raw messages of ${quote(conversationId)}`,
      (t) => this.fast.replaceRawMessages(conversationId, messages, nowTimestamp(), t),
      async (t) => {
        await batches.replaceRawMessageRows(t, conversationId, messages);
        await this.fts.sync(t, 'raw_messages', conversationId, { prune: true });
      },
      q,
    );
  }

  /** Keeps the search index in step with a memory write, in its transaction. */
  memoriesChanged(conversationId: string): batches.MemoriesChangedHook {
    return (q, rows) =>
      this.fts.sync(
        q,
        'memories',
        conversationId,
        memorySearchSync(conversationId, rows, this.fts.enabled()),
      );
  }

  /**
   * Writes every part of every conversation in ONE transaction, each as the general single
   * write does (the same statements and search-index steps), so a batch is all or nothing and
   * costs one commit: the single writes' fast paths commit once per part, each commit a sync
   * to disk (`synchronous=FULL`).
   */
  async storeBatch(writes: readonly ConversationWrite[]): Promise<void> {
    const what = `store ${writes.length} conversation(s) from ${quote(writes[0]?.conversationId ?? '')}`;
    const name = batches.conversationBatchName(writes);
    await this.db().transaction(what, async (q) => {
      for (const write of writes) {
        const id = write.conversationId;
        if (write.conversation !== null) await this.storeObject('conversations', id, write.conversation, q);
        if (write.rawMessages !== null) await this.storeRawMessageList(id, write.rawMessages, q);
        if (write.memories.length > 0)
          await batches.upsertMemoryBatchRows(q, id, write.memories, this.memoriesChanged(id), name);
        if (write.chunkInfo !== null) await this.storeObject('chunk_info', id, write.chunkInfo, q);
      }
    });
  }

  /**
   * A write with a one-statement fast path: `fast` in `q`'s transaction when given (a batch's),
   * else alone (autocommit); when it declines, `general` in the same transaction, or its own.
   */
  private async fastOrGeneral(
    what: string,
    fast: (q?: Transaction) => Promise<boolean>,
    general: (q: Transaction) => Promise<void>,
    q?: Transaction,
  ): Promise<void> {
    if (await fast(q)) return;
    if (q === undefined) await this.db().transaction(what, general);
    else await general(q);
  }

  /** Upserts a conversation or chunk-info row and reindexes its scope, in `q`'s transaction. */
  private async upsertObjectRow(
    q: Transaction,
    kind: 'conversations' | 'chunk_info',
    conversationId: string,
    data: JsonObject,
    now: string,
  ): Promise<void> {
    const sql = kind === 'conversations' ? SQL.upsertConversation : SQL.upsertChunkInfo;
    await q.run(sql, [conversationId, JSON.stringify(data), now, now]);
    await this.fts.sync(q, kind, conversationId, { reindex: 'scope' });
  }
}
