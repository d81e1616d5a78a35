/**
 * The SQLite native full-text index (FTS5, ranked by `bm25()`), kept in step with the base
 * tables in the same transaction as every write ({@link SqliteSearchIndex.sync}), and caught
 * up with rows other writers (the Python reference) added or removed: on open (a full
 * reconcile), before a query (rows past each kind's rowid high-water mark) and at query time
 * (an entry whose base row is gone or was replaced is skipped and dropped).
 */
import {
  CorruptDataError,
  type NormalizedSearchQuery,
  SEARCH_KINDS,
  type SearchCandidate,
  type SearchKind,
  type TextExtractor,
  tokenize,
} from '../../core/index.js';
import type { SqliteConnection, Transaction } from './connection.js';
import { buildMatchQuery } from './search-query.js';
import { toCandidate } from './search-rows.js';
import {
  type BaseRow,
  DROP_SEARCH_TABLES,
  FRESHNESS,
  highWater,
  INSERT_ENTRIES,
  JSON_LIST,
  KIND_CODES,
  KIND_TABLES,
  SEARCH_TABLES,
  SEARCH_TEMP_OBJECTS,
  selectBaseRows,
  staleEntry,
  unindexedRow,
} from './search-sql.js';

/** What a write changed, for {@link SqliteSearchIndex.sync}. */
export interface SearchSync {
  /** Rows of the scope were deleted (or replaced by new rows): drop their entries. */
  prune?: boolean;
  /** Rows changed in place: `'scope'` every row of the scope, or these base rowids. */
  reindex?: 'scope' | readonly number[];
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
    private readonly enabled: () => boolean,
  ) {}

  /** Creates the index tables if missing and reconciles them with the base tables (writable opens). */
  async open(connection: SqliteConnection): Promise<void> {
    await connection.transaction('create search index', async (q) => {
      for (const sql of SEARCH_TABLES) await q.exec(sql);
    });
    await connection.exclusive('prepare search index', async (q) => {
      for (const sql of SEARCH_TEMP_OBJECTS) await q.exec(sql);
    });
    await this.reconcile(connection);
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
      "SELECT count(*) AS n FROM sqlite_master WHERE name IN ('search_fts', 'search_docs', 'search_docs_kind')",
    );
    return rows[0]?.n === 3;
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
    if (change.prune === true) {
      const stale = await q.all<{ doc: number }>(
        `SELECT d.doc FROM search_docs d WHERE d.scope = ? AND d.kind = ${code} AND ${staleEntry(kind)}`,
        [scope],
      );
      await this.dropDocs(
        q,
        stale.map((r) => r.doc),
      );
    }
    if (change.reindex === 'scope') {
      const docs = await q.all<{ doc: number }>(
        `SELECT doc FROM search_docs WHERE scope = ? AND kind = ${code}`,
        [scope],
      );
      await this.dropDocs(
        q,
        docs.map((r) => r.doc),
      );
      const where = `t.${KIND_TABLES[kind].scope} = ?`;
      await this.indexRows(q, kind, await q.all<BaseRow>(selectBaseRows(kind, where), [scope]));
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
    await this.catchUp(q, kind);
  }

  /** Indexes the kind's rows past its high-water mark that have no entry, then moves the mark. */
  private async catchUp(q: Transaction, kind: SearchKind): Promise<void> {
    const { base } = KIND_TABLES[kind];
    const rows = await q.all<BaseRow>(
      selectBaseRows(kind, `t.${base} > ${highWater(kind)} AND ${unindexedRow(kind)}`),
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
          `SELECT d.doc FROM search_docs d WHERE d.kind = ${KIND_CODES[kind]} AND ${staleEntry(kind)}`,
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
    await connection.transaction('clear search index', async (q) => {
      await q.run("INSERT INTO search_fts (search_fts) VALUES ('delete-all')");
      await q.run('DELETE FROM search_docs');
    });
    await this.reconcile(connection);
    return connection.exclusive('count search index', (q) => this.entries(q));
  }

  /** Number of entries (one per indexed record). */
  async entries(q: Transaction): Promise<number> {
    const rows = await q.all<{ n: number }>('SELECT count(*) AS n FROM search_docs');
    return rows[0]?.n ?? 0;
  }

  /** Kinds whose base table has rows past the index's mark (not yet indexed). */
  async behind(q: Transaction, kinds: readonly SearchKind[]): Promise<SearchKind[]> {
    const [row] = await q.all<Record<string, number | null>>(FRESHNESS);
    return kinds.filter((kind) => row?.[kind] === 1);
  }

  /** Catches up the given kinds in one transaction. */
  async catchUpKinds(connection: SqliteConnection, kinds: readonly SearchKind[]): Promise<void> {
    await connection.transaction('catch up search index', async (q) => {
      for (const kind of kinds) await this.catchUp(q, kind);
    });
  }

  /**
   * Runs a query on the index: the best `query.limit` candidates (most distinct terms, then
   * BM25), skipping entries whose base row is gone or replaced; returns them with the stale
   * entries it met (the caller may drop those).
   */
  async query(
    q: Transaction,
    query: NormalizedSearchQuery,
  ): Promise<{ candidates: SearchCandidate[]; stale: number[] }> {
    const candidates: SearchCandidate[] = [];
    const stale: number[] = [];
    for (let fetch = query.limit; ; fetch *= 2) {
      const { sql, params } = buildMatchQuery(query, fetch);
      const docs = await q.all<{ doc: number; score: number }>(sql, params);
      candidates.length = 0;
      stale.length = 0;
      const found = await this.loadCandidates(q, docs);
      for (const { doc, score } of docs) {
        const candidate = found.get(doc);
        if (candidate === undefined) stale.push(doc);
        else candidates.push({ ...candidate, bm25: score });
      }
      if (candidates.length >= query.limit || docs.length < fetch)
        return { candidates: candidates.slice(0, query.limit), stale };
    }
  }

  /** Loads the records of `docs` that still match their entry, by doc id. */
  private async loadCandidates(
    q: Transaction,
    docs: ReadonlyArray<{ doc: number }>,
  ): Promise<Map<number, SearchCandidate>> {
    const out = new Map<number, SearchCandidate>();
    if (docs.length === 0) return out;
    const entries = await q.all<{ doc: number; scope: string; stamp: string | null }>(
      `SELECT doc, scope, stamp FROM search_docs WHERE doc IN ${JSON_LIST}`,
      [JSON.stringify(docs.map((d) => d.doc))],
    );
    for (const kind of SEARCH_KINDS) {
      const code = KIND_CODES[kind];
      const mine = entries.filter((e) => (e.doc & 7) === code);
      if (mine.length === 0) continue;
      const rows = await q.all<BaseRow>(
        selectBaseRows(kind, `t.${KIND_TABLES[kind].base} IN ${JSON_LIST}`, true),
        [JSON.stringify(mine.map((e) => Math.floor(e.doc / 8)))],
      );
      const byBase = new Map(rows.map((r) => [r.base, r]));
      for (const entry of mine) {
        const row = byBase.get(Math.floor(entry.doc / 8));
        if (row === undefined || row.scope !== entry.scope || row.stamp !== entry.stamp) continue;
        out.set(entry.doc, toCandidate(kind, row));
      }
    }
    return out;
  }

  /** Drops entries by doc id. */
  async dropDocs(q: Transaction, docs: readonly number[]): Promise<void> {
    if (docs.length === 0) return;
    await q.run(`DELETE FROM search_entry WHERE doc IN ${JSON_LIST}`, [JSON.stringify(docs)]);
  }

  /** Adds an entry per row (its tokens, space-separated: FTS5 reads back exactly these). */
  private async indexRows(q: Transaction, kind: SearchKind, rows: readonly BaseRow[]): Promise<void> {
    if (rows.length === 0) return;
    const extractor = this.extractor();
    const code = KIND_CODES[kind];
    const entries = rows.map((row) => {
      let body = '';
      try {
        body = extractor.extract(kind, toCandidate(kind, row).record).flatMap(tokenize).join(' ');
      } catch (error) {
        // A row another writer corrupted is indexed without words: loads report it, and
        // writes must not fail because of someone else's row.
        if (!(error instanceof CorruptDataError)) throw error;
      }
      return [row.base * 8 + code, code, row.scope, row.stamp, body];
    });
    await q.run(INSERT_ENTRIES, [JSON.stringify(entries)]);
  }
}

/** True for the driver's error on a statement naming an index table that is gone. */
function isMissingIndexError(error: unknown): boolean {
  // Read structurally: the driver's errors may come from another realm (`instanceof Error` fails).
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /no such table: (main\.)?search_(fts|docs)\b/.test(message);
}

/**
 * A search through the index: catches it up first when rows were added behind its back (a
 * read-only store, which cannot, and a database without an index use `fallback`, the core's
 * scan), then queries it and drops the stale entries it met.
 */
export async function searchWithIndex(
  connection: SqliteConnection,
  index: SqliteSearchIndex,
  query: NormalizedSearchQuery,
  readOnly: boolean,
  fallback: () => Promise<SearchCandidate[]>,
): Promise<SearchCandidate[]> {
  const behind = await connection.exclusive('search', async (q) =>
    (await index.exists(q)) ? index.behind(q, query.kinds) : null,
  );
  if (behind === null || (behind.length > 0 && readOnly)) return fallback();
  if (behind.length > 0) await index.catchUpKinds(connection, behind);
  const { candidates, stale } = await connection.exclusive('search', (q) => index.query(q, query));
  if (stale.length > 0 && !readOnly) {
    await connection.transaction('drop stale search entries', (q) => index.dropDocs(q, stale));
  }
  return candidates;
}

/** Entries in the index, or `null` when the database has none (a read-only open of an unindexed file). */
export async function searchIndexEntries(
  connection: SqliteConnection,
  index: SqliteSearchIndex,
): Promise<number | null> {
  return connection.exclusive('count search index', async (q) =>
    (await index.exists(q)) ? index.entries(q) : null,
  );
}
