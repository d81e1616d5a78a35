/**
 * The SQLite native full-text index (FTS5, ranked by `bm25()`), kept in step with the base
 * tables in the same transaction as every write ({@link SqliteSearchIndex.sync}), and caught
 * up with rows other writers (the Python reference) added or removed: on open (a full
 * reconcile when a cheap check finds the index out of step), before a query (rows past each kind's rowid high-water mark, and rows stored in
 * the rowids of deleted newest rows) and at query time (an entry whose base row is gone or
 * was replaced is skipped and dropped).
 */
import {
  CorruptDataError,
  SEARCH_KINDS,
  type JsonValue,
  type SearchKind,
  type TextExtractor,
} from '../../core/index.js';
import type { SqliteConnection, Transaction } from './connection.js';
import { toCandidate } from './search-rows.js';
import {
  type BaseRow,
  DROP_SEARCH_TABLES,
  FLUSH_PENDING,
  FRESHNESS,
  highWater,
  highWaterBelow,
  insertAddedEntries,
  insertEntries,
  JSON_LIST,
  KIND_CODES,
  KIND_TABLES,
  liveMark,
  PENDING_LIMIT,
  READ_TEXT_RULE,
  SEARCH_TABLE_NAMES,
  SEARCH_TABLES,
  SEARCH_TEMP_OBJECTS,
  STEP_CHECK,
  selectBaseRows,
  staleEntry,
  TEXT_RULE,
  unindexedRow,
  unmatchedRow,
  WRITE_TEXT_RULE,
} from './search-sql.js';

/** What a write changed, for {@link SqliteSearchIndex.sync}. */
export interface SearchSync {
  /** Rows of the scope were deleted (or replaced by new rows): drop their entries. */
  prune?: boolean;
  /** Rows changed in place: `'scope'` every row of the scope, or these base rowids. */
  reindex?: 'scope' | readonly number[];
  /**
   * New rows this write inserted (ascending rowids, none removed since; kinds whose table is
   * `AUTOINCREMENT` only), as written: indexed from these values instead of read back.
   */
  added?: readonly BaseRow[];
}

/** How far the index is from the base tables (see {@link SqliteSearchIndex.behind}). */
export interface IndexLag {
  /** Kinds with rows no entry covers yet. */
  kinds: SearchKind[];
  /** Entries wait in `search_pending`: a query moves them into FTS5 for itself, or ranks them apart (read-only). */
  pending: boolean;
}

/** Base rows indexed per transaction while reconciling a large store. */
const RECONCILE_BATCH = 2000;

/** The FTS5 index of one SQLite store. */
export class SqliteSearchIndex {
  /**
   * @param extractor the store's text extractor (its `searchFields`)
   * @param enabled the store's `searchIndex` option: when false, {@link sync} does nothing
   */
  constructor(
    private readonly extractor: () => TextExtractor,
    readonly enabled: () => boolean,
  ) {}

  /**
   * Creates the index tables if missing and reconciles them with the base tables when they are
   * not in step (writable opens). An index built under another text rule is emptied first, so it
   * is rebuilt.
   */
  async open(connection: SqliteConnection): Promise<void> {
    await connection.transaction('create search index', async (q) => {
      for (const sql of SEARCH_TABLES) await q.exec(sql);
      const [row] = await q.all<{ rule: string | null }>(`SELECT ${READ_TEXT_RULE} AS rule`);
      // Emptied and marked in one transaction: every entry from here on is the current rule's,
      // and a reconcile cut short is resumed by the next open like any catch-up.
      if (row?.rule !== TEXT_RULE) await clearEntries(q);
    });
    await connection.exclusive('prepare search index', async (q) => {
      for (const sql of SEARCH_TEMP_OBJECTS) await q.exec(sql);
    });
    if (!(await this.inStep(connection))) await this.reconcile(connection);
    await this.flush(connection);
  }

  /**
   * True when every row has its entry and no entry is left over, found without reading every
   * entry against its row (the full reconcile, ~2 µs per record): no kind is behind its mark
   * (see {@link behind}), so every row has an entry, and there are as many entries as rows, so
   * none is left from a deleted row. Other writers (the Python reference) only insert rows,
   * past the marks or into the rowids of deleted newest rows (which leaves the kind behind),
   * and delete rows; this library's writes index in their own transaction, and a build cut
   * short leaves its kind behind (it indexes in rowid order) or stale entries in place.
   */
  private async inStep(connection: SqliteConnection): Promise<boolean> {
    const [row] = await connection.all<Record<string, number | string | null>>(
      'check search index',
      STEP_CHECK,
    );
    if (row?.text_rule !== TEXT_RULE || SEARCH_KINDS.some((kind) => row[kind] === 1)) return false;
    return row.rows === row.entries;
  }

  /** Moves the waiting entries into FTS5 and commits (writable stores: open, shutdown). */
  async flush(connection: SqliteConnection): Promise<void> {
    await connection.transaction('flush search index', async (q) => {
      for (const sql of FLUSH_PENDING) await q.run(sql);
    });
  }

  /**
   * `searchIndex: false` on a writable open: drops the index (FTS5 table and entries), so no
   * later open trusts entries this instance's writes would leave stale; an open with the index
   * on recreates it and indexes every row.
   */
  async drop(connection: SqliteConnection): Promise<void> {
    await connection.transaction('drop search index', async (q) => {
      for (const sql of DROP_SEARCH_TABLES) await q.exec(sql);
    });
  }

  /** True when the database has the index tables (a read-only open may find none). */
  async exists(q: Transaction): Promise<boolean> {
    const rows = await q.all<{ n: number }>(
      `SELECT count(*) AS n FROM sqlite_master WHERE name IN (${SEARCH_TABLE_NAMES.map((n) => `'${n}'`).join(', ')})`,
    );
    return rows[0]?.n === SEARCH_TABLE_NAMES.length;
  }

  /**
   * THE maintenance step of every write path: call it inside the write's transaction, after
   * changing rows of `kind` in `scope` (a conversation or agent id). It drops entries of rows
   * that are gone (`prune`), reindexes rows changed in place (`reindex`), and indexes rows past
   * the kind's high-water mark (new rows, this write's and any other writer's).
   */
  async sync(q: Transaction, kind: SearchKind, scope: string, change: SearchSync = {}): Promise<void> {
    if (!this.enabled()) return;
    try {
      await this.syncTables(q, kind, scope, change);
    } catch (error) {
      // Another process opened the file with `searchIndex: false` and dropped the index: there
      // is nothing to maintain (searches scan) until an indexed open recreates it from every row.
      if (!isMissingIndexError(error)) throw error;
    }
  }

  private async syncTables(
    q: Transaction,
    kind: SearchKind,
    scope: string,
    change: SearchSync,
  ): Promise<void> {
    const code = KIND_CODES[kind];
    const added = change.added ?? [];
    // Each drop is one statement: the subquery picks the entries, the view's trigger drops them.
    if (change.prune === true) {
      await q.run(
        `DELETE FROM search_entry WHERE doc IN (SELECT d.doc FROM search_docs d
          WHERE d.scope = ? AND d.kind = ${code} AND ${staleEntry(kind)})`,
        [scope],
      );
    }
    // Before any reindex: a new row of this write indexed first would move the mark past rows
    // another writer added before it, and those would never be caught up.
    if (added.length === 0) await this.catchUp(q, kind);
    if (change.reindex === 'scope') {
      await q.run(
        `DELETE FROM search_entry WHERE doc IN (SELECT doc FROM search_docs WHERE scope = ? AND kind = ${code})`,
        [scope],
      );
      const where = `t.${KIND_TABLES[kind].scope} = ?`;
      const rows = await q.all<BaseRow>(selectBaseRows(kind, where), [scope]);
      // An entry may sit under the row's rowid for another scope: another writer deleted the
      // newest row, and this one reused its rowid.
      await this.dropDocs(
        q,
        rows.map((row) => row.base * 8 + code),
      );
      await this.indexRows(q, kind, rows);
    } else if (change.reindex !== undefined && change.reindex.length > 0) {
      await this.dropDocs(
        q,
        change.reindex.map((base) => base * 8 + code),
      );
      const where = `t.${KIND_TABLES[kind].base} IN ${JSON_LIST}`;
      await this.indexRows(
        q,
        kind,
        await q.all<BaseRow>(selectBaseRows(kind, where), [JSON.stringify(change.reindex)]),
      );
    }
    const first = added[0]?.base;
    if (first === undefined) return;
    // The write's own rows are indexed from the values it wrote (no read back); the same
    // statement tells whether the row below them is indexed. If not, another writer added
    // rows since the last indexed one: those are caught up too.
    const direct = added.length >= PENDING_LIMIT;
    const [inserted] = await q.all<{ caught_up: number }>(insertAddedEntries(kind, direct), [
      JSON.stringify(this.toEntries(kind, added)),
      first,
    ]);
    if (inserted?.caught_up !== 1) await this.catchUp(q, kind, first);
  }

  /**
   * Indexes the kind's unindexed rows past its high-water mark (the largest indexed rowid,
   * or with `before`, the largest below `before`, and then only rows below `before`). For a
   * kind that reuses rowids, the mark is the largest rowid whose entry still matches its row,
   * and the rows above it with another row's entry under their rowid get theirs instead.
   */
  private async catchUp(q: Transaction, kind: SearchKind, before?: number): Promise<void> {
    const { base, reusesRowids } = KIND_TABLES[kind];
    let where = `t.${base} > ${highWater(kind)} AND ${unindexedRow(kind)}`;
    if (before !== undefined) {
      where = `t.${base} > ${highWaterBelow(kind, '?1')} AND t.${base} < ?1 AND ${unindexedRow(kind)}`;
    } else if (reusesRowids) where = `t.${base} > ${liveMark(kind)} AND ${unmatchedRow(kind)}`;
    const rows = await q.all<BaseRow>(selectBaseRows(kind, where), before === undefined ? [] : [before]);
    // A deleted row's entry may sit under a reused rowid: it goes first.
    if (reusesRowids)
      await this.dropDocs(
        q,
        rows.map((row) => row.base * 8 + KIND_CODES[kind]),
      );
    await this.indexRows(q, kind, rows);
  }

  /**
   * Full reconcile (open, reindex): drops every entry whose base row is gone or was replaced,
   * indexes every row without an entry, in batches of {@link RECONCILE_BATCH} rows per
   * transaction (it resumes where it stopped if interrupted), and sets the marks.
   */
  async reconcile(connection: SqliteConnection): Promise<void> {
    for (const kind of SEARCH_KINDS) {
      await connection.transaction('reconcile search index', async (q) => {
        const stale = await q.all<{ doc: number }>(
          `SELECT d.doc FROM search_docs d WHERE (d.doc & 7) = ${KIND_CODES[kind]} AND ${staleEntry(kind)}`,
        );
        await this.dropDocs(
          q,
          stale.map((r) => r.doc),
        );
      });
      const { base } = KIND_TABLES[kind];
      let after = 0;
      for (;;) {
        const done = await connection.transaction('reconcile search index', async (q) => {
          const rows = await q.all<BaseRow>(
            `${selectBaseRows(kind, `t.${base} > ? AND ${unindexedRow(kind)}`)} ORDER BY t.${base} LIMIT ${RECONCILE_BATCH}`,
            [after],
          );
          await this.indexRows(q, kind, rows);
          after = rows.at(-1)?.base ?? after;
          return rows.length < RECONCILE_BATCH;
        });
        if (done) break;
      }
    }
  }

  /** Drops the whole index and builds it again; returns the number of entries. */
  async rebuild(connection: SqliteConnection): Promise<number> {
    await connection.transaction('clear search index', clearEntries);
    await this.reconcile(connection);
    await this.flush(connection);
    return connection.exclusive('count search index', (q) => this.entries(q));
  }

  /** Number of entries (one per indexed record). */
  async entries(q: Transaction): Promise<number> {
    const rows = await q.all<{ n: number }>('SELECT count(*) AS n FROM search_docs');
    return rows[0]?.n ?? 0;
  }

  /**
   * Kinds whose base table has rows past the index's mark (not yet indexed) and whether
   * entries wait outside FTS5, or `null` when the entries were built under another text rule
   * or layout (not to be used).
   */
  async behind(q: Transaction, kinds: readonly SearchKind[]): Promise<IndexLag | null> {
    const [row] = await q.all<Record<string, number | string | null>>(
      `${FRESHNESS}, ${READ_TEXT_RULE} AS text_rule, EXISTS (SELECT 1 FROM search_pending) AS pending`,
    );

    if (row?.text_rule !== TEXT_RULE) return null;
    return { kinds: kinds.filter((kind) => row[kind] === 1), pending: row.pending === 1 };
  }

  /** Catches up the given kinds and moves every waiting entry into FTS5, in one transaction. */
  async catchUpKinds(connection: SqliteConnection, kinds: readonly SearchKind[]): Promise<void> {
    await connection.transaction('catch up search index', async (q) => {
      for (const kind of kinds) await this.catchUp(q, kind);
      for (const sql of FLUSH_PENDING) await q.run(sql);
    });
  }

  /** Drops entries by doc id. */
  async dropDocs(q: Transaction, docs: readonly number[]): Promise<void> {
    if (docs.length === 0) return;
    await q.run(`DELETE FROM search_entry WHERE doc IN ${JSON_LIST}`, [JSON.stringify(docs)]);
  }

  /** Adds an entry per row. */
  private async indexRows(q: Transaction, kind: SearchKind, rows: readonly BaseRow[]): Promise<void> {
    if (rows.length === 0) return;
    await q.run(insertEntries(rows.length >= PENDING_LIMIT), [JSON.stringify(this.toEntries(kind, rows))]);
  }

  /**
   * The entry body of a record as loads return it: its indexed strings (per `searchFields`),
   * space-separated. FTS5 tokenizes it with the rules the core tokenizer reproduces exactly
   * (`test/search/tokenizer.test.ts`), so queries tokenized in JavaScript match it, and the
   * text is tokenized once, by FTS5.
   */
  body(kind: SearchKind, record: JsonValue): string {
    return this.extractor().extract(kind, record).join(' ');
  }

  /** The `[doc, kind, scope, stamp, body]` entries of base rows (see {@link body}). */
  private toEntries(kind: SearchKind, rows: readonly BaseRow[]): unknown[][] {
    const code = KIND_CODES[kind];
    return rows.map((row) => {
      let body = '';
      try {
        body = this.body(kind, toCandidate(kind, row).record);
      } catch (error) {
        // A row another writer corrupted is indexed without words: loads report it, and
        // writes must not fail because of someone else's row.
        if (!(error instanceof CorruptDataError)) throw error;
      }
      return [row.base * 8 + code, code, row.scope, row.stamp, body];
    });
  }
}

/** Empties the index and records the current text rule (in the caller's transaction). */
async function clearEntries(q: Transaction): Promise<void> {
  await q.run("INSERT INTO search_fts (search_fts) VALUES ('delete-all')");
  await q.run('DELETE FROM search_docs');
  await q.run('DELETE FROM search_pending');
  await q.run(WRITE_TEXT_RULE);
}

/** True for the driver's error when the index tables are gone (dropped by a `searchIndex: false` open). */
export function isMissingIndexError(error: unknown): boolean {
  // Read structurally: the driver's errors may come from another realm (`instanceof Error` fails).
  const message = (error as { message?: unknown } | null)?.message;
  return (
    typeof message === 'string' && /no such table: (main\.)?search_(fts|docs|meta|pending)\b/.test(message)
  );
}
