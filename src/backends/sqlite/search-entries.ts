/**
 * Keeping the SQLite full-text index in step, write by write: the maintenance every write path
 * runs inside its transaction (`sync`), the catch-up of rows other writers added past a kind's
 * high-water mark, and the entries made from base rows. `SqliteSearchIndex` (search-index.ts)
 * adds the index's lifecycle: creating, checking and reconciling it on open, rebuilding, dropping;
 * how far the index is behind, as a query reads it, is search-lag.ts.
 */
import {
  CorruptDataError,
  type JsonValue,
  SEARCH_KINDS,
  type SearchKind,
  type TextExtractor,
} from '../../core/index.js';
import type { Transaction } from './connection.js';
import { toCandidate } from './search-rows.js';
import {
  type BaseRow,
  FLUSH_PENDING,
  insertAddedEntries,
  insertEntries,
  JSON_LIST,
  KIND_CODES,
  KIND_TABLES,
  PENDING_LIMIT,
  selectBaseRows,
  staleEntry,
  unindexedRow,
  unmatchedRow,
} from './search-sql.js';
import { highWater, highWaterBelow, liveMark } from './search-marks.js';
import { markChanged, TAKE_DIRTY } from './search-dirty.js';
/** What a write changed, for {@link SqliteSearchEntries.sync}. */
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

/** The write-side maintenance of one SQLite store's FTS5 index (see the module comment). */
export class SqliteSearchEntries {
  /**
   * @param extractor the store's text extractor (its `searchFields`)
   * @param enabled the store's `searchIndex` option: when false, {@link sync} does nothing
   */
  constructor(
    private readonly extractor: () => TextExtractor,
    readonly enabled: () => boolean,
  ) {}

  /**
   * THE maintenance step of every write path: call it inside the write's transaction, after
   * changing rows of `kind` in `scope` (a conversation or agent id). It drops entries of rows
   * that are gone (`prune`), reindexes rows changed in place (`reindex`), and indexes rows past
   * the kind's high-water mark (new rows, this write's and any other writer's). With the index
   * off, it marks the rows changed in place for another process's indexed instance (search-dirty.ts).
   */
  async sync(q: Transaction, kind: SearchKind, scope: string, change: SearchSync = {}): Promise<void> {
    if (!this.enabled()) return markChanged(q, kind, scope, change.reindex);
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
    // Before any reindex, every row below the write's new ones (or, with none, every row) is
    // indexed: a row indexed before them would move the mark past rows another writer added,
    // and those would never be caught up. A reindexed row (one another writer added and this
    // write replaced, or a new row this batch wrote twice) did so until 2026-12-06: the new
    // rows' check of the row below them then passed.
    if (added.length === 0) await this.catchUp(q, kind);
    else await this.addEntries(q, kind, added);
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
  }

  /**
   * Indexes a write's own new rows from the values it wrote (no read back); the same statement
   * tells whether the row below them is indexed. If not, another writer added rows since the
   * last indexed one: those are caught up too.
   */
  private async addEntries(q: Transaction, kind: SearchKind, added: readonly BaseRow[]): Promise<void> {
    const first = added[0]!.base;
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

  /** Number of entries (one per indexed record). */
  async entries(q: Transaction): Promise<number> {
    const rows = await q.all<{ n: number }>('SELECT count(*) AS n FROM search_docs');
    return rows[0]?.n ?? 0;
  }

  /**
   * Catches up the given kinds and moves every waiting entry into FTS5 (in the caller's write
   * transaction). Rows marked as changed in place are reindexed first, whatever their kind.
   */
  async catchUpKinds(q: Transaction, kinds: readonly SearchKind[]): Promise<void> {
    await this.catchUpDirty(q);
    for (const kind of kinds) await this.catchUp(q, kind);
    for (const sql of FLUSH_PENDING) await q.run(sql);
  }

  /**
   * Reindexes the rows a `searchIndex: false` writer changed in place (search-dirty.ts) and
   * clears their marks: one statement when there are none. Each kind with marks is caught up
   * first: a marked row is often that writer's newest, above its other unindexed rows, and
   * indexing it first would move the mark past them for good (until 2026-12-06).
   */
  async catchUpDirty(q: Transaction): Promise<void> {
    const marked = await q.all<{ kind: number; base: number }>(TAKE_DIRTY);
    for (const kind of SEARCH_KINDS) {
      const bases = marked.filter((row) => row.kind === KIND_CODES[kind]).map((row) => row.base);
      if (bases.length === 0) continue;
      await this.catchUp(q, kind);
      await this.dropDocs(
        q,
        bases.map((base) => base * 8 + KIND_CODES[kind]),
      );
      const where = `t.${KIND_TABLES[kind].base} IN ${JSON_LIST}`;
      await this.indexRows(
        q,
        kind,
        await q.all<BaseRow>(selectBaseRows(kind, where), [JSON.stringify(bases)]),
      );
    }
  }

  /** Drops entries by doc id. */
  async dropDocs(q: Transaction, docs: readonly number[]): Promise<void> {
    if (docs.length === 0) return;
    await q.run(`DELETE FROM search_entry WHERE doc IN ${JSON_LIST}`, [JSON.stringify(docs)]);
  }

  /**
   * Drops those of `docs` (entries a query found stale) that are still stale: the query may
   * have read an earlier state, and since then a write may have indexed the row again under
   * the same doc (a conversation's new stamp, a rebuild), which must stay.
   */
  async dropStale(q: Transaction, docs: readonly number[]): Promise<void> {
    if (docs.length === 0) return;
    for (const kind of SEARCH_KINDS) {
      const code = KIND_CODES[kind];
      const mine = docs.filter((doc) => (doc & 7) === code);
      if (mine.length === 0) continue;
      await q.run(
        `DELETE FROM search_entry WHERE doc IN (SELECT d.doc FROM search_docs d
          WHERE d.doc IN ${JSON_LIST} AND ${staleEntry(kind)})`,
        [JSON.stringify(mine)],
      );
    }
  }

  /** Adds an entry per row. */
  protected async indexRows(q: Transaction, kind: SearchKind, rows: readonly BaseRow[]): Promise<void> {
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

/** True for the driver's error when the index tables are gone (dropped by a `searchIndex: false` open). */
export function isMissingIndexError(error: unknown): boolean {
  // Read structurally: the driver's errors may come from another realm (`instanceof Error` fails).
  const message = (error as { message?: unknown } | null)?.message;
  return (
    typeof message === 'string' &&
    /no such table: (main\.)?search_(fts|docs|meta|pending|dirty)\b/.test(message)
  );
}
