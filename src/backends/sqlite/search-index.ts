/**
 * The SQLite native full-text index (FTS5, ranked by `bm25()`): its lifecycle. A writable open
 * creates the tables and reconciles them with the base tables when a cheap check finds them out
 * of step (rows other writers, the Python reference, added or removed); `reindex()` rebuilds
 * it; `searchIndex: false` drops it. Each write keeps it in step in its own transaction, and a
 * query catches up rows past each kind's high-water mark and skips entries whose row is gone
 * (search-entries.ts).
 */
import { SEARCH_KINDS } from '../../core/index.js';
import { throwIfAborted } from '../../core/abort.js';
import type { SqliteConnection, Transaction } from './connection.js';
import { SqliteSearchEntries } from './search-entries.js';
import { type FreshnessRow, laggingKinds } from './search-lag.js';
import {
  type BaseRow,
  CREATE_DIRTY,
  DROP_SEARCH_TABLES,
  FLUSH_PENDING,
  READ_TEXT_RULE,
  SEARCH_TABLE_NAMES,
  SEARCH_TABLES,
  SEARCH_TEMP_OBJECTS,
  selectBaseRows,
  staleEntry,
  TEXT_RULE,
  unindexedRow,
  KIND_TABLES,
  KIND_CODES,
  WRITE_TEXT_RULE,
} from './search-sql.js';
import { STEP_CHECK } from './search-marks.js';
import { GHOST_KEYS, settleGhosts } from './search-ghosts.js';

/** Which index tables exist: see {@link SqliteSearchIndex.tables}. */
export type IndexTables = 'complete' | 'without marks' | 'missing';

/** How many of the index tables exist, and whether `search_dirty` is one of them. */
const TABLES = `SELECT count(*) AS n, count(*) FILTER (WHERE name = 'search_dirty') AS marks
  FROM sqlite_master WHERE name IN (${SEARCH_TABLE_NAMES.map((n) => `'${n}'`).join(', ')})`;

/** Base rows indexed per transaction while reconciling a large store. */
const RECONCILE_BATCH = 2000;

/** The FTS5 index of one SQLite store: its lifecycle here, its upkeep per write in {@link SqliteSearchEntries}. */
export class SqliteSearchIndex extends SqliteSearchEntries {
  /**
   * Test seam (the package does not export this class): awaited after each transaction of a
   * rebuild or reconcile commits, so tests can search between them.
   */
  afterStep: ((step: 'cleared' | 'reconciled') => Promise<void>) | undefined;

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
    try {
      await connection.exclusive('prepare search index', async (q) => {
        for (const sql of SEARCH_TEMP_OBJECTS) await q.exec(sql);
      });
      if (!(await this.inStep(connection))) await this.reconcile(connection);
      await this.flush(connection);
    } catch (error) {
      // Another process's `searchIndex: false` open dropped the tables between two of these
      // transactions (two processes starting together with different settings). The open goes
      // on as if that drop had come just after it: writes skip a missing index, searches scan,
      // and the next indexed open rebuilds it. (Temp objects never check the tables they name.)
      if ((await connection.exclusive('check search index', (q) => this.tables(q))) === 'missing') return;
      throw error;
    }
  }

  /**
   * True when every row has its entry and no entry is left over, found without reading every
   * entry against its row (the full reconcile, ~2 µs per record): no kind is behind its mark
   * (see search-lag.ts), so every row has an entry, and there are as many entries as rows, so
   * none is left from a deleted row. Other writers (the Python reference) only insert rows,
   * past the marks or into the rowids of deleted newest rows (which leaves the kind behind),
   * and delete rows; this library's writes index in their own transaction, and a build cut
   * short leaves its kind behind (it indexes in rowid order) or stale entries in place.
   */
  private async inStep(connection: SqliteConnection): Promise<boolean> {
    const [row] = await connection.all<FreshnessRow>('check search index', STEP_CHECK);
    return laggingKinds(row, SEARCH_KINDS)?.length === 0 && row?.rows === row?.entries;
  }

  /**
   * Settles the ghosts (before FTS5 is written: see search-ghosts.ts), moves the waiting entries
   * into FTS5 and commits (writable stores: open, shutdown).
   */
  async flush(connection: SqliteConnection): Promise<void> {
    await connection.transaction('flush search index', async (q) => {
      await settleGhosts(q);
      for (const sql of FLUSH_PENDING) await q.run(sql);
    });
  }

  /**
   * `searchIndex: false` on a writable open: drops the index (FTS5 table and entries), so no
   * later open trusts entries this instance's writes would leave stale; an open with the index
   * on recreates it and indexes every row. The marks' table is created again, empty.
   */
  async drop(connection: SqliteConnection): Promise<void> {
    await connection.transaction('drop search index', async (q) => {
      for (const sql of DROP_SEARCH_TABLES) await q.exec(sql);
      // Empty, for this instance's writes, which mark rows they change in place whenever an
      // index exists (another process's indexed open recreates it): see search-dirty.ts.
      await q.exec(CREATE_DIRTY);
    });
  }

  /**
   * Which of the index tables the database has (a read-only open may find none): all of them,
   * all but `search_dirty` (an index built by a version from before it, which a writable open
   * completes), or too few to use.
   */
  async tables(q: Transaction): Promise<IndexTables> {
    const [row] = await q.all<{ n: number; marks: number }>(TABLES);
    if (row?.n === SEARCH_TABLE_NAMES.length) return 'complete';
    return row?.n === SEARCH_TABLE_NAMES.length - 1 && row.marks === 0 ? 'without marks' : 'missing';
  }

  /**
   * Full reconcile (open, reindex): drops every entry whose base row is gone or was replaced,
   * indexes every row without an entry, in batches of {@link RECONCILE_BATCH} rows per
   * transaction (it resumes where it stopped if interrupted), sets the marks, and last
   * reindexes the rows a `searchIndex: false` writer marked as changed in place.
   */
  async reconcile(connection: SqliteConnection, signal?: AbortSignal): Promise<void> {
    for (const kind of SEARCH_KINDS) {
      // An abort (reindex) stops between two transactions: the kinds not refilled yet are behind
      // their marks, so searches catch them up (or scan, read-only), as after a crash.
      throwIfAborted(signal, 'reindex');
      await connection.transaction('reconcile search index', async (q) => {
        const stale = await q.all<{ doc: number }>(
          `SELECT d.doc FROM search_docs d WHERE (d.doc & 7) = ${KIND_CODES[kind]} AND ${staleEntry(kind)}`,
        );
        await this.dropDocs(
          q,
          stale.map((r) => r.doc),
        );
      });
      await this.afterStep?.('reconciled');
      const { base } = KIND_TABLES[kind];
      let after = 0;
      for (;;) {
        throwIfAborted(signal, 'reindex');
        const done = await connection.transaction('reconcile search index', async (q) => {
          const rows = await q.all<BaseRow>(
            `${selectBaseRows(kind, `t.${base} > ? AND ${unindexedRow(kind)}`)} ORDER BY t.${base} LIMIT ${RECONCILE_BATCH}`,
            [after],
          );
          await this.indexRows(q, kind, rows);
          after = rows.at(-1)?.base ?? after;
          return rows.length < RECONCILE_BATCH;
        });
        await this.afterStep?.('reconciled');
        if (done) break;
      }
    }
    // Rows a `searchIndex: false` writer changed in place: their entries match their rowid and
    // scope but hold the old text, which the checks above cannot tell. Last, with every row
    // indexed, so their catch-up has nothing left to do in one long transaction; cut short
    // before this, the marks stay and searches reindex them.
    await connection.transaction('reconcile search index', (q) => this.catchUpDirty(q));
  }

  /**
   * Drops the whole index and builds it again; returns the number of entries. It commits in
   * steps (the emptying, then {@link reconcile}'s batches), and searches run between them: each
   * kind not yet refilled is behind its mark there, so they catch it up or, read-only, scan
   * (each reads one state, see `searchWithIndex`).
   */
  async rebuild(connection: SqliteConnection, signal?: AbortSignal): Promise<number> {
    await connection.transaction('clear search index', clearEntries);
    await this.afterStep?.('cleared');
    await this.reconcile(connection, signal);
    await this.flush(connection);
    return connection.exclusive('count search index', (q) => this.entries(q));
  }
}

/** Empties the index and records the current text rule (in the caller's transaction). */
async function clearEntries(q: Transaction): Promise<void> {
  await q.run("INSERT INTO search_fts (search_fts) VALUES ('delete-all')");
  await q.run('DELETE FROM search_docs');
  await q.run('DELETE FROM search_pending');
  // 'delete-all' zeroed FTS5's figures: no ghost is left in them.
  await q.run(`DELETE FROM search_meta WHERE ${GHOST_KEYS}`);
  await q.run(WRITE_TEXT_RULE);
}
