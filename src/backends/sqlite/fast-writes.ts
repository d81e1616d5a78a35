/**
 * One-statement fast paths of the hot SQLite writes: a new memory or a batch of new ones, a
 * chain append or a batch of them, a conversation or chunk-info store and a raw-message replace
 * each run as ONE autocommit statement (atomic on its own, same `synchronous=FULL` commit)
 * instead of `BEGIN IMMEDIATE`, two to six statements and `COMMIT`: each statement is a round
 * trip through the driver's thread pool. With the index on, the statement inserts into a connection-local TEMP view whose
 * `INSTEAD OF` trigger writes the base row(s) and their search entries, so row and index still
 * change together. A fast path declines (returns `false`, nothing written) and the caller runs
 * the general transaction when it cannot be sure of the result: the memory id already exists
 * (an upsert in place), the index is behind another writer's rows (the general path catches
 * them up first), or another process dropped the index tables. The views and triggers are in
 * fast-write-views.ts.
 */
import { type JsonObject, type JsonValue, type MemoryWrite, nowTimestamp } from '../../core/index.js';
import { EntryMemo } from '../../core/search/entry-memo.js';
import type { SqliteConnection, SqlParam, Transaction } from './connection.js';
import type { NewMemoryRow } from './memory-batch.js';
import { chainAppendText } from '../../core/record-names.js';
import { toRowParts } from './rows.js';
import type { SqliteSearchIndex } from './search-index.js';
import { PENDING_LIMIT } from './search-sql.js';
import { BEHIND } from './fast-write-views.js';
import { quoteName } from '../../core/shown-text.js';

const quote = quoteName;

/** How many conversations the fast writes remember as replacing their memories. */
const REPLACING_LIMIT = 256;

/**
 * The view a batch of `rows` new rows of `kind` goes through: from `PENDING_LIMIT` rows their
 * entries go straight into FTS5, as the general path's batches put them (search-entries.ts).
 */
function appendViewFor(kind: 'memories' | 'reasoning_chains', rows: number): string {
  return `${kind}_fast_${rows >= PENDING_LIMIT ? 'batch' : 'write'}`;
}

const FAST_SQL = {
  memory: `INSERT INTO memories_fast_write (conversation_id, memory_id, memory_data, created_at, body) VALUES (?, ?, ?, ?, ?)`,
  plainMemory:
    'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
  // A JSON array of `NewMemoryRow`s in array order, so AUTOINCREMENT numbers them in that order.
  memories: (view: string) => `INSERT INTO ${view} (conversation_id, memory_id, memory_data, created_at, body)
    SELECT ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) ORDER BY key`,
  plainMemories: `INSERT INTO memories (conversation_id, memory_id, memory_data, created_at)
    SELECT ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) ORDER BY key`,
  chain:
    'INSERT INTO reasoning_chains_fast_write (agent_id, chain_data, created_at, body) VALUES (?, ?, ?, ?)',
  plainChain: 'INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)',
  // A JSON array of `[chain_data, created_at, body]` in order, so AUTOINCREMENT numbers them so.
  chains: (view: string) => `INSERT INTO ${view} (agent_id, chain_data, created_at, body)
    SELECT ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) ORDER BY key`,
  plainChains: `INSERT INTO reasoning_chains (agent_id, chain_data, created_at)
    SELECT ?, value ->> 0, value ->> 1 FROM json_each(?) ORDER BY key`,
  conversation: 'INSERT INTO conversations_fast_write (id, data, now, body) VALUES (?, ?, ?, ?)',
  chunkInfo: 'INSERT INTO chunk_info_fast_write (id, data, now, body) VALUES (?, ?, ?, ?)',
  plainConversation: 'INSERT INTO conversations_plain_write (id, data, now) VALUES (?, ?, ?)',
  plainChunkInfo: 'INSERT INTO chunk_info_plain_write (id, data, now) VALUES (?, ?, ?)',
  rawMessages:
    'INSERT INTO raw_messages_fast_write (conversation_id, created_at, messages, bodies) VALUES (?, ?, ?, ?)',
  plainRawMessages:
    'INSERT INTO raw_messages_plain_write (conversation_id, created_at, messages) VALUES (?, ?, ?)',
} as const;

/**
 * `build()`'s text, or `undefined` when it is longer than a string can hold. The fast batches'
 * texts carry each row's entry body beside its JSON (index on), and all of a memory batch's
 * rows: the general path's texts (no bodies; new and replaced rows apart) may still fit, so
 * the fast path declines and the general path sends them or refuses the batch by name. Until
 * 2026-12-06 the fast path refused such a batch itself, at about half the size the general
 * path takes. @internal
 */
export function fastText(build: () => string): string | undefined {
  try {
    return build();
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** True for a failure that means "take the general path" (nothing was written). */
function declines(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return false;
  return (
    message.includes(BEHIND) ||
    message.includes('UNIQUE constraint failed: memories.') ||
    /no such table: (main\.)?search_(fts|docs|pending)\b/.test(message)
  );
}

/** The one-statement writes of one store; each returns `false` when the caller must take the general path. */
export class SqliteFastWrites {
  /** Raw-message entry bodies by JSON text: a list stored again is not extracted again. */
  private readonly rawBodies = new EntryMemo<string>((body) => body.length);
  /**
   * Conversations whose last memory batch on the general path replaced a stored id (an agent
   * updating its memories): their next batch skips the fast insert, whose declined attempt was
   * ~15% of such a batch (0.38 of 2.26 ms for 100 memories with the index off, 0.70 of 5.25 on).
   * A general batch that replaced nothing gives the fast path back; the oldest of more than
   * {@link REPLACING_LIMIT} is forgotten (its next batch pays one declined attempt).
   */
  private readonly replacing = new Set<string>();

  /**
   * @param db the store's connection (read when called: it changes across reopen)
   * @param index the store's search index (its `searchIndex` setting and what it indexes)
   */
  constructor(
    private readonly db: () => SqliteConnection,
    private readonly index: SqliteSearchIndex,
  ) {}

  /** Inserts a memory whose id is new in the conversation (an existing id declines: upsert in place). */
  insertMemory(conversationId: string, memory: MemoryWrite, now: string): Promise<boolean> {
    const row = toRowParts(memory.record, ['memory_id'], 'created_at', now);
    const params: SqlParam[] = [conversationId, memory.memoryId, row.json, row.timestamp];
    const what = `store memory ${quote(memory.memoryId)} of conversation ${quote(conversationId)}`;
    if (!this.index.enabled()) return this.attempt(what, FAST_SQL.plainMemory, params);
    // `memory.record` is the record as loads will return it (see rows.ts).
    const body = this.index.body('memories', memory.record);
    return this.attempt(what, FAST_SQL.memory, [...params, body]);
  }

  /**
   * Inserts a batch of memories whose ids are all new in the conversation as ONE autocommit
   * statement (with the index on through the view, 16 rows and more straight into FTS5), where
   * the general path takes four or more round trips (`BEGIN IMMEDIATE`, the read of the
   * existing ids, the insert, the index's step, `COMMIT`). Declines, nothing written, when an id
   * repeats in the batch or is stored already (the insert's `UNIQUE` failure undoes the whole
   * statement: the general path upserts in place), the index is behind, or the rows' text is
   * longer than a string holds (see {@link fastText}).
   */
  insertMemories(conversationId: string, writes: readonly MemoryWrite[]): Promise<boolean> {
    if (this.replacing.has(conversationId)) return Promise.resolve(false);
    const distinct = new Set(writes.map((write) => write.memoryId)).size === writes.length;
    if (!distinct) return Promise.resolve(false);
    const now = nowTimestamp();
    const indexed = this.index.enabled();
    const rows = writes.map((write): NewMemoryRow => {
      const row = toRowParts(write.record, ['memory_id'], 'created_at', now);
      // `write.record` is the record as loads will return it (see rows.ts).
      if (indexed)
        return [write.memoryId, row.json, row.timestamp, this.index.body('memories', write.record)];
      return [write.memoryId, row.json, row.timestamp];
    });
    const json = fastText(() => JSON.stringify(rows));
    if (json === undefined) return Promise.resolve(false);
    const params = [conversationId, json];
    // The general path's words, which a failure's message names it by.
    const what = `store ${writes.length} memories of ${quote(conversationId)}`;
    if (!indexed) return this.attempt(what, FAST_SQL.plainMemories, params);
    return this.attempt(what, FAST_SQL.memories(appendViewFor('memories', writes.length)), params);
  }

  /** Records whether a memory batch of `conversationId` on the general path replaced a stored id. */
  noteMemoryBatch(conversationId: string, replaced: boolean): void {
    this.replacing.delete(conversationId);
    if (!replaced) return;
    this.replacing.add(conversationId); // last in the Set's order: the newest
    if (this.replacing.size > REPLACING_LIMIT) this.replacing.delete(this.replacing.values().next().value!);
  }

  /** Appends one chain (callers with a `maxReasoningChainsPerAgent` trim use the general path). */
  appendChain(agentId: string, record: JsonObject, now: string): Promise<boolean> {
    const row = toRowParts(record, [], 'stored_at', now);
    const params: SqlParam[] = [agentId, row.json, row.timestamp];
    const what = chainAppendText(agentId, 1);
    if (!this.index.enabled()) return this.attempt(what, FAST_SQL.plainChain, params);
    // As loads return it: `stored_at` from its column unless the record keeps its own.
    const loaded = Object.hasOwn(record, 'stored_at') ? record : { ...record, stored_at: row.timestamp };
    const body = this.index.body('reasoning_chains', loaded);
    return this.attempt(what, FAST_SQL.chain, [...params, body]);
  }

  /**
   * Appends several chains as ONE statement (callers with a `maxReasoningChainsPerAgent` trim
   * use the general path), where the general path takes `BEGIN IMMEDIATE`, the insert, the
   * index's step and `COMMIT`; a single chain as {@link appendChain}. `false`, nothing
   * written, for an index behind or a text longer than a string holds (see {@link fastText}).
   */
  appendChains(agentId: string, records: readonly JsonObject[], now: string): Promise<boolean> {
    if (records.length === 1) return this.appendChain(agentId, records[0]!, now);
    if (records.length === 0) return Promise.resolve(false);
    const indexed = this.index.enabled();
    const rows = records.map((record) => toRowParts(record, [], 'stored_at', now));
    const values = rows.map((row, i) => {
      if (!indexed) return [row.json, row.timestamp];
      const record = records[i]!;
      // As loads return it: `stored_at` from its column unless the record keeps its own.
      const loaded = Object.hasOwn(record, 'stored_at') ? record : { ...record, stored_at: row.timestamp };
      return [row.json, row.timestamp, this.index.body('reasoning_chains', loaded)];
    });
    const json = fastText(() => JSON.stringify(values));
    if (json === undefined) return Promise.resolve(false);
    const what = chainAppendText(agentId, records.length);
    if (!indexed) return this.attempt(what, FAST_SQL.plainChains, [agentId, json]);
    return this.attempt(what, FAST_SQL.chains(appendViewFor('reasoning_chains', rows.length)), [
      agentId,
      json,
    ]);
  }

  /**
   * Stores a conversation (`kind: 'conversations'`) or chunk info object, with its entry; in
   * `q`'s transaction when given (a batch's), else alone.
   */
  upsertObject(
    kind: 'conversations' | 'chunk_info',
    id: string,
    data: JsonObject,
    now: string,
    q?: Transaction,
  ): Promise<boolean> {
    const json = JSON.stringify(data);
    const what =
      kind === 'conversations' ? `store conversation ${quote(id)}` : `store chunk info of ${quote(id)}`;
    if (!this.index.enabled()) {
      const sql = kind === 'conversations' ? FAST_SQL.plainConversation : FAST_SQL.plainChunkInfo;
      return this.attempt(what, sql, [id, json, now], q);
    }
    const body = this.index.body(kind, data);
    const sql = kind === 'conversations' ? FAST_SQL.conversation : FAST_SQL.chunkInfo;
    return this.attempt(what, sql, [id, json, now, body], q);
  }

  /**
   * Replaces a conversation's raw messages with `messages` (JSON values), with their entries;
   * in `q`'s transaction when given.
   */
  replaceRawMessages(
    conversationId: string,
    messages: readonly JsonValue[],
    now: string,
    q?: Transaction,
  ): Promise<boolean> {
    const texts = messages.map((message) => JSON.stringify(message));
    const params: SqlParam[] = [conversationId, now, JSON.stringify(texts)];
    const what = `store raw messages of ${quote(conversationId)}`;
    if (!this.index.enabled()) return this.attempt(what, FAST_SQL.plainRawMessages, params, q);
    const bodies = messages.map((message, i) =>
      this.rawBodies.get(texts[i] as string, () => this.index.body('raw_messages', message)),
    );
    return this.attempt(what, FAST_SQL.rawMessages, [...params, JSON.stringify(bodies)], q);
  }

  /**
   * Runs `sql` as one statement, in `inside`'s transaction or alone on the connection
   * (autocommit); `false` when it declined. A declined statement leaves the transaction open
   * with none of its changes (SQLite's `ABORT` undoes only the statement).
   */
  private attempt(
    what: string,
    sql: string,
    params: readonly SqlParam[],
    inside?: Transaction,
  ): Promise<boolean> {
    const run = async (q: Transaction): Promise<boolean> => {
      try {
        await q.run(sql, params);
        return true;
      } catch (error) {
        if (declines(error)) return false;
        throw error;
      }
    };
    return inside === undefined ? this.db().exclusive(what, run) : run(inside);
  }
}
