/**
 * The connection-local (TEMP) views and triggers of the SQLite fast paths (fast-writes.ts): an
 * insert into a view runs its `INSTEAD OF` trigger, which writes the base row(s) and, with the
 * index on, their search entries in the same statement; without the index, the writes that
 * change rows in place mark them for another process's indexed instance (search-dirty.ts).
 */
import type { SearchKind } from '../../core/index.js';
import { KIND_CODES, KIND_TABLES } from './search-sql.js';
import { highWater } from './search-marks.js';
import { markDirty, markScopeDirty } from './search-dirty.js';
import { SQL } from './sql.js';

/** The message a fast-path trigger aborts with when rows past the index's mark exist. */
export const BEHIND = 'connectome: search index behind';

/** Aborts the statement when the kind's table has rows past the index's high-water mark. */
function abortWhenBehind(kind: SearchKind): string {
  const k = KIND_TABLES[kind];
  return `SELECT RAISE(ABORT, '${BEHIND}') WHERE (SELECT max(${k.base}) FROM main.${k.table}) > ${highWater(kind)};`;
}

/**
 * An append-only kind's view: the base columns plus the entry's `body`. With `direct` (the
 * `_fast_batch` view, for at least `PENDING_LIMIT` rows at once) the entries go into FTS5
 * without waiting, as the general path's batches put them (search-sql.ts).
 */
function appendView(
  kind: 'memories' | 'reasoning_chains',
  columns: readonly string[],
  direct = false,
): string[] {
  const view = `${kind}_fast_${direct ? 'batch' : 'write'}`;
  const list = columns.join(', ');
  const scope = KIND_TABLES[kind].scope;
  return [
    `CREATE TEMP VIEW IF NOT EXISTS ${view} (${list}, body) AS SELECT ${columns.map(() => 'NULL').join(', ')}, NULL`,
    `CREATE TEMP TRIGGER IF NOT EXISTS ${view}_insert INSTEAD OF INSERT ON ${view} BEGIN
      ${abortWhenBehind(kind)}
      INSERT INTO main.${kind} (${list}) VALUES (${columns.map((c) => `new.${c}`).join(', ')});
      INSERT INTO search_entry${direct ? '_direct' : ''} (doc, kind, scope, stamp, body)
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
  ...appendView('memories', ['conversation_id', 'memory_id', 'memory_data', 'created_at'], true),
  ...appendView('reasoning_chains', ['agent_id', 'chain_data', 'created_at']),
  ...appendView('reasoning_chains', ['agent_id', 'chain_data', 'created_at'], true),
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
