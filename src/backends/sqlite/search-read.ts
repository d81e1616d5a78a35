/**
 * Searches through the SQLite FTS5 index: the query (with stale entries skipped), and the
 * store's search entry point, which catches the index up or falls back to the core's scan.
 */
import {
  hitScore,
  type NormalizedSearchQuery,
  SEARCH_KINDS,
  type SearchCandidate,
  skipUnreadable,
  type SkippedRecords,
} from '../../core/index.js';
import type { SqliteConnection, Transaction } from './connection.js';
import type { SqliteSearchIndex } from './search-index.js';
import { buildMatchQuery, type RankedDoc } from './search-query.js';
import { rowRecordId, toCandidate } from './search-rows.js';
import { orderTies, tiedDocs } from './search-ties.js';
import { rankedWithWaiting } from './search-waiting.js';
import { settleGhosts } from './search-ghosts.js';
import { readIndexLag } from './search-lag.js';
import { type BaseRow, JSON_LIST, KIND_CODES, KIND_TABLES, selectBaseRows } from './search-sql.js';

/**
 * Runs a query on the index: the best `query.limit` candidates (most distinct terms, then
 * BM25) and every further one whose hit score (`hitScore`) equals the last of them, skipping
 * entries whose base row is gone or replaced; returns them with the stale entries it met (the
 * caller may drop those). The ties matter because FTS5 orders them by doc id, which is neither
 * the core's order of ties (`compareRefs`) nor the same on another backend. One row past the
 * limit is loaded to see whether the last is tied, and the scores of twice the limit more are
 * fetched with it; when it is tied, the tied records (from those scores when the ties end
 * there, else from a query for every match at the cut) are ordered by their refs
 * (`search-ties.ts`) and only the ones within the limit are loaded. With `ranked`
 * (every matching entry, best first: a read-only store's, beside waiting entries), FTS5 is not
 * queried: the rows are taken from it.
 */
export async function queryIndex(
  q: Transaction,
  query: NormalizedSearchQuery,
  ranked?: readonly RankedDoc[],
): Promise<{ candidates: SearchCandidate[]; stale: number[] }> {
  const candidates: SearchCandidate[] = [];
  const scores: number[] = [];
  const stale: number[] = [];
  for (let fetch = query.limit + 1; ; fetch *= 2) {
    // Past the rows loaded, a window of scores only: ties at the limit usually end within it,
    // and are then ordered without matching the query again (see below).
    const window = ranked ?? (await q.all<RankedDoc>(...matchQuery(query, fetch + 2 * query.limit)));
    const docs = window.slice(0, fetch);
    const complete = docs.length < fetch;
    candidates.length = 0;
    scores.length = 0;
    stale.length = 0;
    const found = await loadCandidates(q, docs, query.skipped);
    for (const { doc, matched, score } of docs) {
      const candidate = found.get(doc);
      if (candidate === undefined) stale.push(doc);
      else if (candidate !== null) {
        candidates.push({ ...candidate, bm25: score });
        scores.push(hitScore(matched, score));
      }
    }
    const cut = scores[query.limit - 1];
    // Done when the candidates run out or one past the limit scores below the last kept (the
    // rows are in score order, so every later one does too).
    if (complete || (cut !== undefined && (scores.at(-1) as number) < cut)) {
      return { candidates: candidates.filter((_, i) => i < query.limit || scores[i] === cut), stale };
    }
    // Tied past the limit: the ties are ordered by their refs, and only those kept are loaded.
    if (cut !== undefined) {
      const above = candidates.filter((_, i) => (scores[i] as number) > cut);
      const last = window.at(-1) as RankedDoc;
      const whole = ranked !== undefined || window.length < fetch + 2 * query.limit;
      const ties = await (whole || hitScore(last.matched, last.score) < cut
        ? orderTies(q, cut, window)
        : tiedDocs(q, query, cut));
      const kept = ties.ordered.slice(0, query.limit - above.length);
      const loaded = await loadCandidates(q, kept, query.skipped);
      // A skipped tie leaves the list short: the core asks again deeper.
      const tied = kept.flatMap(({ doc, bm25 }) => {
        const candidate = loaded.get(doc);
        return candidate === undefined || candidate === null ? [] : [{ ...candidate, bm25 }];
      });
      return { candidates: [...above, ...tied], stale: [...new Set([...stale, ...ties.stale])] };
    }
    // Fewer live candidates than the limit yet (stale entries among those fetched): fetch more.
  }
}

/** {@link buildMatchQuery}'s statement and parameters, as `q.all` takes them. */
function matchQuery(query: NormalizedSearchQuery, limit: number): [string, Array<string | number>] {
  const { sql, params } = buildMatchQuery(query, limit);
  return [sql, params];
}

/**
 * Loads the records of `docs` that still match their entry, by doc id; `null` for a record that
 * does not parse when the search skips those (`skipped`; else it throws): not stale, only left out.
 */
async function loadCandidates(
  q: Transaction,
  docs: ReadonlyArray<{ doc: number }>,
  skipped: SkippedRecords | null,
): Promise<Map<number, SearchCandidate | null>> {
  const out = new Map<number, SearchCandidate | null>();
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
      let candidate: SearchCandidate | null = null;
      try {
        candidate = toCandidate(kind, row);
      } catch (error) {
        skipUnreadable(skipped, error, kind, row.scope, rowRecordId(kind, row));
      }
      out.set(entry.doc, candidate);
    }
  }
  return out;
}

/** A query's candidates and the stale entries it met. */
interface Found {
  candidates: SearchCandidate[];
  stale: number[];
}

/**
 * A search through the index: catches it up first when rows were added behind its back (a
 * read-only store, which cannot, and a database without an index or with one built under
 * another text rule use `fallback`, the core's scan), then queries it and drops the stale
 * entries it met. Entries waiting outside FTS5 (`search_pending`) are moved in for the query
 * in a transaction rolled back after it: scores are FTS5's own over every entry, and the query
 * costs no commit. A read-only store cannot: it ranks every match itself, over the corpus
 * figures FTS5's entries and the waiting ones make together (search-waiting.ts).
 *
 * The check and the query run in one transaction, so they read one state: a `reindex()`
 * emptying the index after the check made hits vanish, and a writer moving waiting entries
 * into FTS5 between the read of those entries and FTS5's match made them come twice. A
 * rebuild's later steps leave each kind not yet refilled behind its mark, so a search then
 * catches it up (or, read-only, scans).
 */
export async function searchWithIndex(
  connection: SqliteConnection,
  index: SqliteSearchIndex,
  query: NormalizedSearchQuery,
  readOnly: boolean,
  fallback: () => Promise<SearchCandidate[]>,
): Promise<SearchCandidate[]> {
  // A read transaction first: most searches need nothing else, and take no write lock.
  const pass = await connection.transaction('search', (q) => readPass(q, index, query, readOnly), true);
  let found: Found | 'scan';
  if (pass === 'catch up') {
    // Committed: the rows caught up (and the waiting entries moved) stay indexed.
    found = await connection.transaction('search', (q) => writePass(q, index, query));
  } else if (pass === 'move waiting') {
    // Rolled back: no commit (no fsync) for the waiting entries' sake.
    found = await connection.scratch('search', (q) => writePass(q, index, query));
  } else found = pass;
  if (found === 'scan') return fallback();
  const { candidates, stale } = found;
  if (stale.length > 0 && !readOnly) {
    await connection.transaction('drop stale search entries', (q) => index.dropStale(q, stale));
  }
  return candidates;
}

/** How far the index is behind for the query's kinds, `null` when it is missing or not to be used. */
async function lagOf(
  q: Transaction,
  index: SqliteSearchIndex,
  query: NormalizedSearchQuery,
  readOnly: boolean,
) {
  const tables = await index.tables(q);
  if (tables === 'complete') return readIndexLag(q, query.kinds);
  // An index built before `search_dirty` existed has no marked rows (search-marks.ts): a
  // read-only store, which cannot add the table, uses the index as it is rather than scan. A
  // writable store's open creates the table, so it misses only if dropped since.
  if (tables === 'without marks' && readOnly) return readIndexLag(q, query.kinds, false);
  // No index, or one built under another text rule (another version's entries): scan.
  return null;
}

/** The search in a read transaction, or what it needs instead. */
async function readPass(
  q: Transaction,
  index: SqliteSearchIndex,
  query: NormalizedSearchQuery,
  readOnly: boolean,
): Promise<Found | 'scan' | 'catch up' | 'move waiting'> {
  const lag = await lagOf(q, index, query, readOnly);
  if (lag === null || (readOnly && lag.kinds.length > 0)) return 'scan';
  // Ghosts are settled in a committed write pass (search-ghosts.ts), which moves the waiting
  // entries in for good too.
  if (lag.kinds.length > 0 || (lag.ghosts && !readOnly)) return 'catch up';
  if (!lag.pending && !lag.ghosts) return queryIndex(q, query);
  if (!readOnly) return 'move waiting';
  return queryIndex(q, query, await rankedWithWaiting(q, query));
}

/**
 * The search in a write transaction: settles the ghosts (first: FTS5 must not be written
 * before, see search-ghosts.ts), catches up the lagging kinds, moves the waiting entries into
 * FTS5, queries. It checks the index again: another writer may have emptied it, added
 * rows or moved the entries since the read pass (rows it then catches up in a rolled-back
 * pass are caught up for good by the next search or write).
 */
async function writePass(
  q: Transaction,
  index: SqliteSearchIndex,
  query: NormalizedSearchQuery,
): Promise<Found | 'scan'> {
  const lag = await lagOf(q, index, query, false);
  if (lag === null) return 'scan';
  await settleGhosts(q);
  await index.catchUpKinds(q, lag.kinds);
  return queryIndex(q, query);
}
