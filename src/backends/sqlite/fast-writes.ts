/**
 * One-statement fast paths of the hot SQLite writes: a new memory, a single chain append, a
 * conversation or chunk-info store and a raw-message replace each run as ONE autocommit
 * statement (atomic on its own, same `synchronous=FULL` commit) instead of `BEGIN IMMEDIATE`,
 * two to six statements and `COMMIT`: each statement is a round trip through the driver's
 * thread pool. With the index on, the statement inserts into a connection-local TEMP view whose
 * `INSTEAD OF` trigger writes the base row(s) and their search entries, so row and index still
 * change together. A fast path declines (returns `false`, nothing written) and the caller runs
 * the general transaction when it cannot be sure of the result: the memory id already exists
 * (an upsert in place), the index is behind another writer's rows (the general path catches
 * them up first), or another process dropped the index tables.
 */
import {
  type BatchName,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
  nowTimestamp,
  type SearchKind,
} from '../../core/index.js';
import { EntryMemo } from '../../core/search/entry-memo.js';
import type { SqliteConnection, SqlParam, Transaction } from './connection.js';
import { fitsMemoryBatch, type NewMemoryRow, newMemoryRowsJson } from './memory-batch.js';
import { toRowParts } from './rows.js';
import type { SqliteSearchIndex } from './search-index.js';
import { KIND_CODES, KIND_TABLES } from './search-sql.js';
import { highWater } from './search-marks.js';
import { markDirty, markScopeDirty } from './search-dirty.js';
import { SQL } from './sql.js';
import { quoteName } from '../../core/shown-text.js';

const quote = quoteName;

/** The message a fast-path trigger aborts with when rows past the index's mark exist. */
const BEHIND = 'connectome: search index behind';

/** Aborts the statement when the kind's table has rows past the index's high-water mark. */
function abortWhenBehind(kind: SearchKind): string {
  const k = KIND_TABLES[kind];
  return `SELECT RAISE(ABORT, '${BEHIND}') WHERE (SELECT max(${k.base}) FROM main.${k.table}) > ${highWater(kind)};`;
}

/** An append-only kind's view: the base columns plus the entry's `body`. */
function appendView(kind: 'memories' | 'reasoning_chains', columns: readonly string[]): string[] {
  const view = `${kind}_fast_write`;
  const list = columns.join(', ');
  const scope = KIND_TABLES[kind].scope;
  return [
    `CREATE TEMP VIEW IF NOT EXISTS ${view} (${list}, body) AS SELECT ${columns.map(() => 'NULL').join(', ')}, NULL`,
    `CREATE TEMP TRIGGER IF NOT EXISTS ${view}_insert INSTEAD OF INSERT ON ${view} BEGIN
      ${abortWhenBehind(kind)}
      INSERT INTO main.${kind} (${list}) VALUES (${columns.map((c) => `new.${c}`).join(', ')});
      INSERT INTO search_entry (doc, kind, scope, stamp, body)
        VALUES (last_insert_rowid() * 8 + ${KIND_CODES[kind]}, ${KIND_CODES[kind]}, new.${scope}, NULL, new.body);
    END`,
  ];
}

/**
 * A keyed object kind's view (conversations, chunk info): upsert, then replace the scope's entry
 * and any entry left under the row's rowid (another writer's deleted row whose rowid it reused).
 */
function upsertView(kind: 'conversations' | 'chunk_info', upsert: string): string[] {
  const view = `${kind}_fast_write`;
  const code = KIND_CODES[kind];
  return [
    `CREATE TEMP VIEW IF NOT EXISTS ${view} (id, data, now, body) AS SELECT NULL, NULL, NULL, NULL`,
    `CREATE TEMP TRIGGER IF NOT EXISTS ${view}_insert INSTEAD OF INSERT ON ${view} BEGIN
      ${abortWhenBehind(kind)}
      ${upsert.replace('VALUES (?, ?, ?, ?)', 'VALUES (new.id, new.data, new.now, new.now)')};
      DELETE FROM search_entry WHERE doc IN (SELECT doc FROM search_docs WHERE scope = new.id AND kind = ${code}
        UNION SELECT rowid * 8 + ${code} FROM main.${kind} WHERE conversation_id = new.id);
      INSERT INTO search_entry (doc, kind, scope, stamp, body)
        SELECT rowid * 8 + ${code}, ${code}, new.id, updated_at, new.body FROM main.${kind} WHERE conversation_id = new.id;
    END`,
  ];
}

const RAW = KIND_CODES.raw_messages;

/** Rows of the conversation past the new list (`new.messages`: the JSON array of the texts). */
const rawRowsPast = (column: string): string => `SELECT ${column} FROM main.raw_messages r
      WHERE r.conversation_id = new.conversation_id AND r.message_index >= json_array_length(new.messages)`;

/**
 * Rows whose text differs from the new list's at their position: the list is walked once, each
 * position looked up on the `(conversation_id, message_index)` index.
 */
const rawRowsChanged = (column: string): string => `SELECT ${column} FROM json_each(new.messages) m
      CROSS JOIN main.raw_messages r
      WHERE r.conversation_id = new.conversation_id AND r.message_index = m.key AND r.message_data IS NOT m.value`;

/** Inside a raw-message replace trigger: `column` (of the row `r`) of each row that goes or changes. */
const rawRowsReplaced = (column: string): string =>
  `${rawRowsPast(column)}
      UNION ALL ${rawRowsChanged(column)}`;

/**
 * A raw-message replace that rewrites only what changed: the rows past the new list are
 * deleted, a row whose text differs is updated in place and the positions left without a row
 * are inserted, so a message whose text is already stored at its position keeps its row (and
 * its search entry). Rows keep their ids in position order (a changed message is not moved to
 * a new, higher id), as a full replace leaves them for a reader that orders by id. An agent
 * that stores its whole list after every turn writes the new messages, not the list.
 */
const REPLACE_RAW_ROWS = `DELETE FROM main.raw_messages WHERE id IN (${rawRowsPast('r.id')});
    UPDATE main.raw_messages
      SET message_data = json_extract(new.messages, '$[' || message_index || ']'), created_at = new.created_at
      WHERE id IN (${rawRowsChanged('r.id')});
    INSERT INTO main.raw_messages (conversation_id, message_data, message_index, created_at)
      SELECT new.conversation_id, m.value, m.key, new.created_at FROM json_each(new.messages) m
      WHERE NOT EXISTS (SELECT 1 FROM main.raw_messages r
        WHERE r.conversation_id = new.conversation_id AND r.message_index = m.key)
      ORDER BY m.key;`;

/** Connection-local (TEMP) views and triggers of the indexed fast paths; created after the index's own. */
export const FAST_WRITE_TEMP_OBJECTS: readonly string[] = [
  ...appendView('memories', ['conversation_id', 'memory_id', 'memory_data', 'created_at']),
  ...appendView('reasoning_chains', ['agent_id', 'chain_data', 'created_at']),
  ...upsertView('conversations', SQL.upsertConversation),
  ...upsertView('chunk_info', SQL.upsertChunkInfo),
  // Parameters: conversation id, created_at, JSON array of the messages' texts, JSON array of their bodies.
  `CREATE TEMP VIEW IF NOT EXISTS raw_messages_fast_write (conversation_id, created_at, messages, bodies)
    AS SELECT NULL, NULL, NULL, NULL`,
  `CREATE TEMP TRIGGER IF NOT EXISTS raw_messages_fast_write_insert INSTEAD OF INSERT ON raw_messages_fast_write BEGIN
    ${abortWhenBehind('raw_messages')}
    DELETE FROM search_entry WHERE doc IN (${rawRowsReplaced(`r.id * 8 + ${RAW}`)}
      UNION ALL SELECT d.doc FROM main.search_docs d WHERE d.scope = new.conversation_id AND d.kind = ${RAW}
        AND NOT EXISTS (SELECT 1 FROM main.raw_messages r WHERE r.id = d.doc >> 3));
    ${REPLACE_RAW_ROWS}
    INSERT INTO search_entry (doc, kind, scope, stamp, body)
      SELECT r.id * 8 + ${RAW}, ${RAW}, new.conversation_id, NULL, b.value
      FROM json_each(new.bodies) b CROSS JOIN main.raw_messages r
      WHERE r.conversation_id = new.conversation_id AND r.message_index = b.key
        AND NOT EXISTS (SELECT 1 FROM main.search_docs d WHERE d.doc = r.id * 8 + ${RAW});
  END`,
];

/**
 * A keyed object kind's unindexed upsert (one statement): the row, if any, is marked as changed
 * in place first (search-dirty.ts; only while another process's index exists).
 */
function plainUpsertView(kind: 'conversations' | 'chunk_info', upsert: string): string[] {
  const view = `${kind}_plain_write`;
  return [
    `CREATE TEMP VIEW IF NOT EXISTS ${view} (id, data, now) AS SELECT NULL, NULL, NULL`,
    `CREATE TEMP TRIGGER IF NOT EXISTS ${view}_insert INSTEAD OF INSERT ON ${view} BEGIN
      ${markScopeDirty(kind, 'new.id')};
      ${upsert.replace('VALUES (?, ?, ?, ?)', 'VALUES (new.id, new.data, new.now, new.now)')};
    END`,
  ];
}

/**
 * Connection-local views of the unindexed writes that change rows in place (one statement
 * each), which mark those rows for another process's indexed instance (search-dirty.ts).
 */
export const PLAIN_WRITE_TEMP_OBJECTS: readonly string[] = [
  `CREATE TEMP VIEW IF NOT EXISTS raw_messages_plain_write (conversation_id, created_at, messages)
    AS SELECT NULL, NULL, NULL`,
  `CREATE TEMP TRIGGER IF NOT EXISTS raw_messages_plain_write_insert INSTEAD OF INSERT ON raw_messages_plain_write BEGIN
    ${markDirty('raw_messages', rawRowsChanged('r.id AS base'))};
    ${REPLACE_RAW_ROWS}
  END`,
  ...plainUpsertView('conversations', SQL.upsertConversation),
  ...plainUpsertView('chunk_info', SQL.upsertChunkInfo),
];

const FAST_SQL = {
  memory: `INSERT INTO memories_fast_write (conversation_id, memory_id, memory_data, created_at, body) VALUES (?, ?, ?, ?, ?)`,
  plainMemory:
    'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
  // The rows of `newMemoryRowsJson` in array order, so AUTOINCREMENT numbers them in that order.
  plainMemories: `INSERT INTO memories (conversation_id, memory_id, memory_data, created_at)
    SELECT ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) ORDER BY key`,
  chain:
    'INSERT INTO reasoning_chains_fast_write (agent_id, chain_data, created_at, body) VALUES (?, ?, ?, ?)',
  plainChain: 'INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)',
  conversation: 'INSERT INTO conversations_fast_write (id, data, now, body) VALUES (?, ?, ?, ?)',
  chunkInfo: 'INSERT INTO chunk_info_fast_write (id, data, now, body) VALUES (?, ?, ?, ?)',
  plainConversation: 'INSERT INTO conversations_plain_write (id, data, now) VALUES (?, ?, ?)',
  plainChunkInfo: 'INSERT INTO chunk_info_plain_write (id, data, now) VALUES (?, ?, ?)',
  rawMessages:
    'INSERT INTO raw_messages_fast_write (conversation_id, created_at, messages, bodies) VALUES (?, ?, ?, ?)',
  plainRawMessages:
    'INSERT INTO raw_messages_plain_write (conversation_id, created_at, messages) VALUES (?, ?, ?)',
} as const;

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
   * Inserts a batch of memories whose ids are all new in the conversation, with the index off,
   * as ONE autocommit statement, where the general path takes four round trips (`BEGIN
   * IMMEDIATE`, the read of the existing ids, the insert, `COMMIT`). Declines, nothing written,
   * when an id repeats in the batch or is stored already (the insert's `UNIQUE` failure undoes
   * the whole statement): the general path upserts those in place. `name` names the batch in
   * the error of one too large to send, thrown before the insert.
   */
  insertMemories(
    conversationId: string,
    writes: readonly MemoryWrite[],
    name: () => BatchName,
  ): Promise<boolean> {
    const distinct = new Set(writes.map((write) => write.memoryId)).size === writes.length;
    if (this.index.enabled() || !distinct || !fitsMemoryBatch(writes)) return Promise.resolve(false);
    const now = nowTimestamp();
    const rows = writes.map((write): NewMemoryRow => {
      const row = toRowParts(write.record, ['memory_id'], 'created_at', now);
      return [write.memoryId, row.json, row.timestamp];
    });
    const params = [conversationId, newMemoryRowsJson(name, rows)];
    const what = `store ${writes.length} memories of conversation ${quote(conversationId)}`;
    return this.attempt(what, FAST_SQL.plainMemories, params);
  }

  /** Appends one chain (callers with a `maxReasoningChainsPerAgent` trim use the general path). */
  appendChain(agentId: string, record: JsonObject, now: string): Promise<boolean> {
    const row = toRowParts(record, [], 'stored_at', now);
    const params: SqlParam[] = [agentId, row.json, row.timestamp];
    const what = `store reasoning chain of ${quote(agentId)}`;
    if (!this.index.enabled()) return this.attempt(what, FAST_SQL.plainChain, params);
    // As loads return it: `stored_at` from its column unless the record keeps its own.
    const loaded = Object.hasOwn(record, 'stored_at') ? record : { ...record, stored_at: row.timestamp };
    const body = this.index.body('reasoning_chains', loaded);
    return this.attempt(what, FAST_SQL.chain, [...params, body]);
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
