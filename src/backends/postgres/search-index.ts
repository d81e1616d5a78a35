/**
 * The PostgreSQL search index: every searchable row carries `search_tokens`, a `tsvector`
 * of the core tokenizer's tokens (one lexeme per distinct token, one position per
 * occurrence, so the term frequency is the number of positions), and `search_length`, its
 * length in tokens (BM25's document length), both built by `search-columns.ts`; a GIN index on `search_tokens` finds rows, and
 * triggers keep the corpus figures in `search_stats` (see `search-schema.ts`).
 *
 * The columns are written by the same statement as the record ({@link PostgresSearchIndex.columns}
 * is the one function every write path calls), so a delete drops the entries with the row and
 * a replace overwrites them. Rows without them (`search_length IS NULL`: written before the
 * index existed, or with `searchIndex: false`) are indexed on open and before a search
 * ({@link PostgresSearchIndex.catchUp}), so a stale entry is never trusted.
 */
import {
  CorruptDataError,
  DEFAULT_TEXT_RULE_VERSION,
  type JsonValue,
  type NormalizedSearchQuery,
  parseStoredJson,
  SEARCH_KINDS,
  type SearchCandidate,
  type SearchKind,
  type TextExtractor,
} from '../../core/index.js';
import { throwIfAborted } from '../../core/abort.js';
import type { PostgresConnection } from './connection.js';
import { isWriteRefused } from './driver-errors.js';
import { memoryFromRow, type MemoryRow } from './rows.js';
import { searchColumns, type SearchColumns } from './search-columns.js';
import { MACHINERY_KEY, wakeSearchMachinery } from './schema-v7.js';
import { searchPostgres } from './search-query.js';
import { quoteIdent } from './sql.js';

/** Rows indexed per round trip when building the index. */
const BATCH = 500;

/**
 * The default text rule the index columns were built under (core `DEFAULT_TEXT_RULE_VERSION`),
 * kept in `storage_meta` under `search_text_rule` (not a schema version: the tables are the
 * same). Without it (built before version 2, whose columns hold the timestamps of memories and
 * chains) or with another one, the index is not trusted: a writable open rebuilds it, searches
 * scan until then.
 */
export const SEARCH_TEXT_RULE = String(DEFAULT_TEXT_RULE_VERSION);

/** The searchable tables, by kind: table, record JSON column and primary key as (column, type) pairs. */
export const SEARCH_TABLES: Readonly<
  Record<SearchKind, { table: string; json: string; keys: ReadonlyArray<readonly [string, string]> }>
> = {
  raw_messages: {
    table: 'raw_messages',
    json: 'message_data',
    keys: [
      ['conversation_id', 'text'],
      ['message_index', 'int'],
    ],
  },
  memories: { table: 'memories', json: 'memory_data', keys: [['id', 'bigint']] },
  reasoning_chains: { table: 'reasoning_chains', json: 'chain_data', keys: [['id', 'bigint']] },
  conversations: { table: 'conversations', json: 'data', keys: [['conversation_id', 'text']] },
  chunk_info: { table: 'chunk_info', json: 'chunk_data', keys: [['conversation_id', 'text']] },
};

/** A row read for (re)indexing: its key (as text), record JSON and (memories) the other two columns. */
type IndexRow = { k: string[]; json: string; created_at: string | null; memory_id: string | null };

/** The record of a row as loads return it, for indexing. */
function recordOf(kind: SearchKind, row: IndexRow, where: string): JsonValue {
  if (kind !== 'memories') return parseStoredJson(row.json, where);
  const memory: MemoryRow = {
    memory_id: row.memory_id ?? '',
    created_at: row.created_at ?? 'null',
    memory_data: row.json,
  };
  return memoryFromRow(memory, () => where);
}

/** The search index of one store: the write paths' columns, catch-up, rebuild and queries. */
export class PostgresSearchIndex {
  private readonly s: string;

  /**
   * @param schema the store's schema
   * @param enabled the `searchIndex` option: `false` writes no index columns and never reads them
   * @param extractor the store's text extractor (its `searchFields`)
   */
  constructor(
    private readonly schema: string,
    readonly enabled: boolean,
    private readonly extractor: () => TextExtractor,
  ) {
    this.s = quoteIdent(schema);
  }

  /**
   * Whether this process's open found the search machinery asleep and could not wake it (a
   * server refusing writes): a search or a rebuild wakes it first, so no index is read or
   * built without it (its recount takes in whatever this process wrote meanwhile).
   */
  private asleep = false;

  /** Wakes the machinery when {@link asleep}; false when the server still refuses writes. */
  private async awake(db: PostgresConnection): Promise<boolean> {
    if (!this.asleep) return true;
    try {
      await wakeSearchMachinery(db, this.schema);
    } catch (error) {
      if (isWriteRefused(error)) return false;
      throw error;
    }
    this.asleep = false;
    return true;
  }

  /**
   * THE index step of every write path: the search columns to store with a record of `kind`
   * in the same statement. With the index off they are `null`, so the row counts as not
   * indexed and the next open with the index on indexes it.
   */
  columns(kind: SearchKind, record: JsonValue): SearchColumns {
    return this.enabled ? searchColumns(this.extractor(), kind, record) : [null, null];
  }

  /**
   * The kinds that have rows without index columns (one cheap statement on the partial
   * indexes), or `null` when the index was built under another text rule (not to be used).
   */
  async behind(db: PostgresConnection, kinds: readonly SearchKind[]): Promise<SearchKind[] | null> {
    const probes = kinds.map(
      (kind) => `EXISTS (SELECT 1 FROM ${this.s}.${SEARCH_TABLES[kind].table} WHERE search_length IS NULL)`,
    );
    const [row] = await db.rows<{ behind: boolean[]; rule: string | null }>(
      'check search index',
      `SELECT ARRAY[${probes.join(', ')}] AS behind, ${this.readRule} AS rule`,
    );
    if (row?.rule !== SEARCH_TEXT_RULE) return null;
    return kinds.filter((_, i) => row.behind[i] === true);
  }

  /**
   * A writable open: wakes the search machinery of a store created with the index off
   * (`schema-v7.ts`), then rebuilds an index built under another text rule, else indexes the
   * rows stored without index columns (older versions, index off). Returns the rows indexed.
   */
  async prepare(db: PostgresConnection): Promise<number> {
    const [row] = await db.rows<{ rule: string | null; machinery: string | null }>(
      'read search text rule',
      `SELECT ${this.readRule} AS rule,
        (SELECT value FROM ${this.s}.storage_meta WHERE key = '${MACHINERY_KEY}') AS machinery`,
    );
    if (row?.machinery === 'dormant') {
      this.asleep = true;
      await wakeSearchMachinery(db, this.schema);
      this.asleep = false;
    }
    return row?.rule === SEARCH_TEXT_RULE ? this.catchUp(db) : this.rebuild(db);
  }

  /** Indexes the rows of `kinds` without index columns; returns how many. */
  async catchUp(db: PostgresConnection, kinds: readonly SearchKind[] = SEARCH_KINDS): Promise<number> {
    let indexed = 0;
    for (const kind of kinds) indexed += await this.indexRows(db, kind, true);
    return indexed;
  }

  /**
   * Indexes every row again (after a `searchFields` change, to repair, or built under another
   * text rule), then records the text rule; returns how many.
   */
  async rebuild(db: PostgresConnection, signal?: AbortSignal): Promise<number> {
    if (this.asleep) {
      await wakeSearchMachinery(db, this.schema);
      this.asleep = false;
    }
    let indexed = 0;
    for (const kind of SEARCH_KINDS) indexed += await this.indexRows(db, kind, false, signal);
    // Recorded last: a rebuild cut short leaves the old rule (or none), so it runs again.
    await db.run(
      'record search text rule',
      `INSERT INTO ${this.s}.storage_meta (key, value) VALUES ('search_text_rule', $1)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [SEARCH_TEXT_RULE],
    );
    return indexed;
  }

  /** SQL: the text rule the index was built under (`NULL`: none recorded). */
  private get readRule(): string {
    return `(SELECT value FROM ${this.s}.storage_meta WHERE key = 'search_text_rule')`;
  }

  /**
   * The candidates of a query, from the index once it is caught up; `fallback` (the core's
   * scan) when it is behind and cannot be caught up (`readOnly`), or was built under another
   * text rule.
   */
  async search(
    db: PostgresConnection,
    query: NormalizedSearchQuery,
    readOnly: boolean,
    fallback: () => Promise<SearchCandidate[]>,
  ): Promise<SearchCandidate[]> {
    if (!(await this.awake(db))) return fallback();
    // The check and the query run side by side (two pooled connections, one round trip of
    // latency); the query's answer is used only when nothing was behind.
    const [behind, candidates] = await Promise.all([
      this.behind(db, query.kinds),
      searchPostgres(db, this.s, query),
    ]);
    if (behind === null) return fallback(); // built under another text rule: a writable open rebuilds it
    if (behind.length === 0) return candidates;
    if (readOnly) return fallback();
    try {
      await this.catchUp(db, behind);
    } catch (error) {
      // The server refuses writes (a standby): a search is a read, it scans as a readOnly store's.
      if (isWriteRefused(error)) return fallback();
      throw error;
    }
    return searchPostgres(db, this.s, query);
  }

  /**
   * Indexes the rows of one kind, all of them or (`onlyUnindexed`) those without index
   * columns, in batches walked by primary key. A row a writer changed meanwhile keeps what
   * that writer indexed (the update names the JSON it read).
   */
  private async indexRows(
    db: PostgresConnection,
    kind: SearchKind,
    onlyUnindexed: boolean,
    signal?: AbortSignal,
  ): Promise<number> {
    const { s } = this;
    const { table, json, keys } = SEARCH_TABLES[kind];
    const unindexed = onlyUnindexed ? 'AND t.search_length IS NULL' : '';
    const memory = kind === 'memories';
    const extra = memory ? 't.created_at, t.memory_id' : 'NULL AS created_at, NULL AS memory_id';
    const columns = keys.map(([column]) => `t.${column}`).join(', ');
    const after = keys.map(([, type], i) => `($1::text[])[${i + 1}]::${type}`).join(', ');
    const same = keys.map(([column, type], i) => `t.${column} = u.k${i + 1}::${type}`).join(' AND ');
    const select = `SELECT ARRAY[${keys.map(([column]) => `t.${column}::text`).join(', ')}] AS k,
        t.${json} AS json, ${extra}
      FROM ${s}.${table} AS t
      WHERE ($1::text[] IS NULL OR (${columns}) > (${after})) ${unindexed}
      ORDER BY ${columns} LIMIT ${BATCH}`;
    const update = `UPDATE ${s}.${table} AS t SET search_tokens = u.tokens::tsvector, search_length = u.len::int
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
        AS u(json, tokens, len, k1, k2, created_at)
      WHERE ${same} AND t.${json} = u.json ${memory ? 'AND t.created_at = u.created_at' : ''} ${unindexed}`;
    let indexed = 0;
    let last: string[] | null = null;
    for (;;) {
      // Between two batches (each update whole): every row keeps columns of its current JSON.
      throwIfAborted(signal, 'reindex');
      const rows: IndexRow[] = await db.rows<IndexRow>(`index ${table} for search`, select, [last]);
      if (rows.length === 0) break;
      const built = rows.map((row) => {
        try {
          const record = recordOf(kind, row, `postgres ${s}.${table} key ${row.k.join(', ')}`);
          return searchColumns(this.extractor(), kind, record);
        } catch (error) {
          // A row another writer corrupted is indexed without words: loads report it, and
          // indexing must not fail because of someone else's row.
          if (error instanceof CorruptDataError) return ['', 0] as SearchColumns;
          throw error;
        }
      });
      indexed += await db.run(`index ${table} for search`, update, [
        rows.map((r) => r.json),
        built.map(([tokens]) => tokens),
        built.map(([, length]) => String(length)),
        rows.map((r) => r.k[0] ?? ''),
        rows.map((r) => r.k[1] ?? ''),
        rows.map((r) => r.created_at ?? ''),
      ]);
      last = (rows[rows.length - 1] as IndexRow).k;
      if (rows.length < BATCH) break;
    }
    return indexed;
  }
}
