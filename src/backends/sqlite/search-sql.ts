/**
 * SQL of the SQLite full-text index. One FTS5 table holds one document per record of the five
 * searchable kinds; its rowid is `base rowid * 8 + kind code`, so a record's entry is found
 * (and deleted) by rowid without any lookup. The FTS5 table is contentless (the text lives in
 * the base tables); `search_docs` keeps, per entry, its kind, scope (conversation or agent id)
 * and, for conversations and chunk info, `updated_at`, which tells a row replaced by another
 * writer from the one that was indexed. A kind's rowid high-water mark is its largest indexed
 * base rowid (`max(doc) >> 3`): rows past it are new. An entry's body waits in `search_pending`
 * before it moves into FTS5 with others (see PENDING_LIMIT). These tables sit beside the
 * reference's and are invisible to it. The marks' SQL is in `search-marks.ts`.
 */
import { DEFAULT_TEXT_RULE_VERSION, type SearchKind } from '../../core/index.js';
import { RECORD_GHOST } from './search-ghosts.js';

/**
 * Rows changed in place by a `searchIndex: false` writer, `(kind code, base rowid)`
 * (search-dirty.ts). Dropped with the index, but such a writer's open then creates it (empty)
 * again, for its own writes: their statements name it.
 */
export const CREATE_DIRTY = `CREATE TABLE IF NOT EXISTS search_dirty (
    kind INTEGER NOT NULL, base INTEGER NOT NULL, PRIMARY KEY (kind, base)) WITHOUT ROWID`;

/** Statements creating the index (idempotent). */
export const SEARCH_TABLES: readonly string[] = [
  `CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(body,
    tokenize = 'unicode61 remove_diacritics 2', content = '', contentless_delete = 1)`,
  `CREATE TABLE IF NOT EXISTS search_docs (
    doc INTEGER PRIMARY KEY, kind INTEGER NOT NULL, scope TEXT NOT NULL, stamp TEXT)`,
  'CREATE INDEX IF NOT EXISTS search_docs_scope ON search_docs (scope, kind)',
  // Versions before this one kept a (kind, doc) index for the high-water marks: one more page
  // written per indexed commit. The marks now walk the primary key down from the kind's largest
  // base rowid instead (see highWater in `search-marks.ts`); an older version recreates the
  // index on its next open.
  'DROP INDEX IF EXISTS search_docs_kind',
  // What the entries were built under (see TEXT_RULE); no PRAGMA user_version, which is the schema's.
  'CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID',
  // Entries written but not yet in search_fts (see PENDING_LIMIT).
  'CREATE TABLE IF NOT EXISTS search_pending (doc INTEGER PRIMARY KEY, body TEXT NOT NULL)',
  // Rows a `searchIndex: false` writer changed in place (search-dirty.ts).
  CREATE_DIRTY,
];

/**
 * Entries a write adds wait in `search_pending` (one small table, about one page per commit)
 * and move into FTS5 in bulk once this many are waiting, in the transaction that adds the last
 * one. FTS5 writes a new segment, its index row and the corpus figures on every commit that
 * touches it (four pages), so single-record writes paid that on each commit; now one commit in
 * this many does. A query sees the waiting entries: a writable store moves them in for the
 * query's own transaction and rolls it back, a read-only one ranks them apart (search-waiting.ts).
 */
export const PENDING_LIMIT = 16;

/** Moves every waiting entry into FTS5 (in the caller's transaction). */
export const FLUSH_PENDING: readonly string[] = [
  'INSERT INTO main.search_fts (rowid, body) SELECT doc, body FROM main.search_pending',
  'DELETE FROM main.search_pending',
];

/**
 * The default text rule the entries were built under and the index's layout, kept in
 * `search_meta` under `text_rule` (core `DEFAULT_TEXT_RULE_VERSION`, then `+pending`). An index
 * without it (built before version 2, whose entries hold the timestamps of memories and chains)
 * or with another one is never trusted: a writable open rebuilds it, a read-only open scans.
 * The layout is in the same value because earlier versions of this library compare only it:
 * they must not trust an index whose waiting entries (`search_pending`) they would not see.
 */
export const TEXT_RULE = `${DEFAULT_TEXT_RULE_VERSION}+pending`;

/** Records {@link TEXT_RULE} as the rule of the entries. */
export const WRITE_TEXT_RULE = `INSERT INTO search_meta (key, value) VALUES ('text_rule', '${TEXT_RULE}')
  ON CONFLICT (key) DO UPDATE SET value = excluded.value`;

/** The rule the entries were built under (`null` when none was recorded). */
export const READ_TEXT_RULE = "(SELECT value FROM search_meta WHERE key = 'text_rule')";

/** The names of the index's tables, which must all exist for it to be used. */
export const SEARCH_TABLE_NAMES: readonly string[] = [
  'search_fts',
  'search_docs',
  'search_meta',
  'search_pending',
  'search_dirty',
];

/** Statements dropping the index (its indexes and FTS5 shadow tables go with the tables). */
export const DROP_SEARCH_TABLES: readonly string[] = [
  'DROP TABLE IF EXISTS search_fts',
  'DROP TABLE IF EXISTS search_docs',
  'DROP TABLE IF EXISTS search_meta',
  'DROP TABLE IF EXISTS search_pending',
  'DROP TABLE IF EXISTS search_dirty',
];

/**
 * Connection-local (TEMP, invisible to other connections and to the reference): a view over
 * an entry whose triggers write or delete both tables, so adding or dropping any number of
 * entries is one statement (each statement is a round trip through the driver's thread pool).
 */
export const SEARCH_TEMP_OBJECTS: readonly string[] = [
  'CREATE TEMP VIEW IF NOT EXISTS search_entry (doc, kind, scope, stamp, body) AS SELECT doc, kind, scope, stamp, NULL FROM main.search_docs',
  // The count is taken once per statement (an uncorrelated subquery), before its rows move.
  `CREATE TEMP TRIGGER IF NOT EXISTS search_entry_insert INSTEAD OF INSERT ON search_entry BEGIN
    INSERT INTO main.search_pending (doc, body) VALUES (new.doc, new.body);
    INSERT INTO main.search_docs (doc, kind, scope, stamp) VALUES (new.doc, new.kind, new.scope, new.stamp);
    ${FLUSH_PENDING.map((sql) => `${sql} WHERE (SELECT count(*) FROM main.search_pending) >= ${PENDING_LIMIT};`).join('\n    ')}
  END`,
  // Statements adding many entries at once (batches, catch-up, reconcile) skip the wait: FTS5
  // writes one segment for them all, and moving them through search_pending would only add work.
  'CREATE TEMP VIEW IF NOT EXISTS search_entry_direct (doc, kind, scope, stamp, body) AS SELECT doc, kind, scope, stamp, NULL FROM main.search_docs',
  `CREATE TEMP TRIGGER IF NOT EXISTS search_entry_direct_insert INSTEAD OF INSERT ON search_entry_direct BEGIN
    INSERT INTO main.search_fts (rowid, body) VALUES (new.doc, new.body);
    INSERT INTO main.search_docs (doc, kind, scope, stamp) VALUES (new.doc, new.kind, new.scope, new.stamp);
  END`,
  // A waiting entry is not in FTS5 yet: only the waiting row goes. One in FTS5 is recorded as a
  // ghost first, for FTS5's corpus figures keep it (search-ghosts.ts).
  `CREATE TEMP TRIGGER IF NOT EXISTS search_entry_delete INSTEAD OF DELETE ON search_entry BEGIN
    ${RECORD_GHOST}
    DELETE FROM main.search_fts WHERE rowid = old.doc
      AND NOT EXISTS (SELECT 1 FROM main.search_pending WHERE doc = old.doc);
    DELETE FROM main.search_pending WHERE doc = old.doc;
    DELETE FROM main.search_docs WHERE doc = old.doc;
  END`,
];

/**
 * Adds the entries of a JSON array of `[doc, kind, scope, stamp, body]`: waiting in
 * `search_pending`, or with `direct` (at least {@link PENDING_LIMIT} of them) into FTS5 at once.
 */
export function insertEntries(direct: boolean): string {
  return `INSERT INTO ${direct ? 'search_entry_direct' : 'search_entry'} (doc, kind, scope, stamp, body)
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)`;
}

/**
 * Adds the entries of rows a write just inserted (`?1`, as {@link insertEntries}) and returns
 * per entry `caught_up`: 1 when the kind's row just below the first new rowid (`?2`) has an
 * entry or there is none, so every older row is indexed (the entries of new rows never count).
 */
export function insertAddedEntries(kind: SearchKind, direct: boolean): string {
  const k = KIND_TABLES[kind];
  const below = `(SELECT max(p.${k.base}) FROM ${k.table} p WHERE p.${k.base} < ?2)`;
  return `${insertEntries(direct).replace('json_each(?)', 'json_each(?1)')}
    RETURNING ${below} IS NULL OR EXISTS (SELECT 1 FROM search_docs d WHERE d.doc = ${below} * 8 + ${KIND_CODES[kind]}) AS caught_up`;
}

/** Numeric code of each kind in entry rowids (`doc & 7`). */
export const KIND_CODES: Readonly<Record<SearchKind, number>> = {
  raw_messages: 1,
  memories: 2,
  reasoning_chains: 3,
  conversations: 4,
  chunk_info: 5,
};

/** How each kind's base table is read: its rowid, scope and stamp columns and its data columns. */
interface KindTable {
  table: string;
  base: string;
  scope: string;
  /** Column that changes when another writer replaces the row in place of a reused rowid, or `NULL`. */
  stamp: string;
  /**
   * True for a plain rowid table (conversations, chunk info): a row inserted after the newest
   * was deleted takes its rowid, so an entry under the rowid may be another row's. `AUTOINCREMENT`
   * tables (raw messages, memories, chains) never hand out a rowid twice.
   */
  reusesRowids: boolean;
  columns: string;
  /** The record's position in its loaded list, for hits. */
  position: string;
}

/** Base tables per kind (`t` is the table alias). */
export const KIND_TABLES: Readonly<Record<SearchKind, KindTable>> = {
  raw_messages: {
    table: 'raw_messages',
    base: 'id',
    scope: 'conversation_id',
    stamp: 'NULL',
    reusesRowids: false,
    columns: 't.message_data AS data',
    // Loads order by (message_index, id).
    position: `(SELECT count(*) FROM raw_messages p WHERE p.conversation_id = t.conversation_id
      AND (p.message_index < t.message_index OR (p.message_index = t.message_index AND p.id < t.id)))`,
  },
  memories: {
    table: 'memories',
    base: 'id',
    scope: 'conversation_id',
    stamp: 'NULL',
    reusesRowids: false,
    columns: 't.memory_id, t.memory_data, t.created_at',
    position: '0',
  },
  reasoning_chains: {
    table: 'reasoning_chains',
    base: 'id',
    scope: 'agent_id',
    stamp: 'NULL',
    reusesRowids: false,
    columns: 't.id, t.chain_data, t.created_at',
    position: '(SELECT count(*) FROM reasoning_chains p WHERE p.agent_id = t.agent_id AND p.id < t.id)',
  },
  conversations: {
    table: 'conversations',
    base: 'rowid',
    scope: 'conversation_id',
    stamp: 'updated_at',
    reusesRowids: true,
    columns: 't.data AS data',
    position: '0',
  },
  chunk_info: {
    table: 'chunk_info',
    base: 'rowid',
    scope: 'conversation_id',
    stamp: 'updated_at',
    reusesRowids: true,
    columns: 't.chunk_data AS data',
    position: '0',
  },
};

/** A base row as the index reads it. */
export interface BaseRow {
  base: number;
  scope: string;
  stamp: string | null;
  position: number;
  /** JSON text of raw messages, conversations and chunk info. */
  data?: string;
  memory_id?: string;
  memory_data?: string;
  chain_data?: string;
  created_at?: string;
  id?: number;
}

/** `SELECT` of a kind's base rows matching `where` (over alias `t`), with or without positions. */
export function selectBaseRows(kind: SearchKind, where: string, withPosition = false): string {
  const k = KIND_TABLES[kind];
  return `SELECT t.${k.base} AS base, t.${k.scope} AS scope, ${k.stamp === 'NULL' ? 'NULL' : `t.${k.stamp}`} AS stamp,
    ${withPosition ? k.position : '0'} AS position, ${k.columns}
    FROM ${k.table} t WHERE ${where}`;
}

/** Condition: the entry (`entry` names its `search_docs` row) matches a base row: same rowid, scope and stamp. */
export function liveEntry(kind: SearchKind, entry: string): string {
  const k = KIND_TABLES[kind];
  const stamp = k.stamp === 'NULL' ? '' : ` AND t.${k.stamp} IS ${entry}.stamp`;
  return `EXISTS (SELECT 1 FROM ${k.table} t WHERE t.${k.base} = (${entry}.doc >> 3) AND t.${k.scope} = ${entry}.scope${stamp})`;
}

/** Condition: the entry `d` no longer matches a base row (gone, other scope, or replaced). */
export function staleEntry(kind: SearchKind): string {
  return `NOT ${liveEntry(kind, 'd')}`;
}

/** Condition over base alias `t`: the row has no entry. */
export function unindexedRow(kind: SearchKind): string {
  return `NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.doc = t.${KIND_TABLES[kind].base} * 8 + ${KIND_CODES[kind]})`;
}

/**
 * Condition over base alias `t`: no entry matches the row. For a kind that reuses rowids, an
 * entry under its rowid may be a deleted row's (other scope or stamp): that one does not count.
 */
export function unmatchedRow(kind: SearchKind): string {
  const k = KIND_TABLES[kind];
  if (!k.reusesRowids) return unindexedRow(kind);
  return `NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.doc = t.${k.base} * 8 + ${KIND_CODES[kind]}
    AND d.scope = t.${k.scope} AND d.stamp IS t.${k.stamp})`;
}

/** A JSON array parameter as a row source: `IN (SELECT value FROM json_each(?))`. */
export const JSON_LIST = '(SELECT value FROM json_each(?))';
