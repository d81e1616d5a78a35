/**
 * A read-only store's search beside waiting entries (`search_pending`). It cannot move them into
 * FTS5 for the query as a writable store does, and FTS5's `bm25()` ranks over FTS5's entries
 * alone (its document count, average length and per-term document counts leave the waiting ones
 * out), so the scores differed from the writer's. Here every matching entry is ranked with the
 * core's BM25 over the corpus both make: FTS5's figures (its averages record; per term, the rows
 * a one-term query returns, which is how `bm25()` counts them) plus the waiting entries' (matched
 * with the core's tokenizer, the one FTS5's is tested against). An FTS5 entry's term frequency is
 * read back from its one-term `bm25()` score (the contentless table keeps no text) and its
 * length from FTS5's `docsize` table. The same ranking serves beside ghosts (deleted entries
 * FTS5's figures still count, search-ghosts.ts), which it takes out of the figures. It costs every
 * match of every term (writable stores and read-only ones with nothing waiting keep FTS5's ranking).
 */
import {
  BM25_B,
  BM25_K1,
  bm25Idf,
  bm25Score,
  type NormalizedSearchQuery,
  termFrequencies,
  tokenize,
} from '../../core/index.js';
import type { Transaction } from './connection.js';
import { byRank, kindAndScope, type RankedDoc } from './search-query.js';
import { JSON_LIST } from './search-sql.js';
import { AVERAGES, decodeAverages, ghostFigures, readVarint } from './search-ghosts.js';

/** A document's term frequencies (query order) and length. */
interface Counts {
  frequencies: number[];
  length: number;
}

/**
 * The term frequency behind a one-term `bm25()` contribution `score` (positive), from FTS5's
 * formula `idf * f * (k1 + 1) / (f + k1 * (1 - b + b * length / average))`, solved for `f`.
 */
function frequencyOf(score: number, idf: number, length: number, average: number): number {
  const norm = BM25_K1 * (1 - BM25_B + (BM25_B * length) / (average || 1));
  const ratio = score / idf;
  return Math.max(1, Math.round((ratio * norm) / (BM25_K1 + 1 - ratio)));
}

/** Every entry matching the query, FTS5's and the waiting ones, scored over the corpus both make, best first. */
export async function rankedWithWaiting(q: Transaction, query: NormalizedSearchQuery): Promise<RankedDoc[]> {
  // FTS5's figures as its `bm25()` used them (to read term frequencies back), and the corpus
  // without the deleted entries they still count (to rank).
  const [averages] = await q.all<{ block: Uint8Array | null }>(AVERAGES);
  const fts = decodeAverages(averages?.block);
  const gone = await ghostFigures(q);
  const counts = new Map<number, Counts>();
  // FTS5's entries: per term, every row holding it (its `bm25()` counts them the same way).
  const inDocs = query.terms.map(() => 0);
  const contributions = new Map<number, number[]>();
  for (const [i, term] of query.terms.entries()) {
    const rows = await q.all<{ doc: number; s: number }>(
      'SELECT rowid AS doc, -bm25(search_fts) AS s FROM search_fts WHERE search_fts MATCH ?',
      [`"${term}"`],
    );
    inDocs[i] = rows.length;
    for (const row of rows) {
      const mine = contributions.get(row.doc) ?? query.terms.map(() => 0);
      mine[i] = row.s;
      contributions.set(row.doc, mine);
    }
  }
  const sizes = await q.all<{ id: number; sz: Uint8Array }>(
    `SELECT id, sz FROM search_fts_docsize WHERE id IN ${JSON_LIST}`,
    [JSON.stringify([...contributions.keys()])],
  );
  const average = fts.documents > 0 ? fts.tokens / fts.documents : 0;
  for (const { id, sz } of sizes) {
    const length = readVarint(sz, 0)[0];
    const scores = contributions.get(id) as number[];
    const frequencies = scores.map((score, i) =>
      score === 0 ? 0 : frequencyOf(score, bm25Idf(inDocs[i] as number, fts.documents), length, average),
    );
    counts.set(id, { frequencies, length });
  }
  // The waiting entries: all of them count in the figures, as they will once moved.
  const waiting = await q.all<{ doc: number; body: string }>('SELECT doc, body FROM search_pending');
  let tokens = fts.tokens - gone.tokens;
  for (const row of waiting) {
    const words = tokenize(row.body);
    const frequencies = termFrequencies(words, query.terms);
    tokens += words.length;
    frequencies.forEach((f, i) => {
      if (f > 0) inDocs[i] = (inDocs[i] as number) + 1;
    });
    counts.set(row.doc, { frequencies, length: words.length });
  }
  const documents = fts.documents - gone.documents + waiting.length;
  const idfs = inDocs.map((n) => bm25Idf(n, documents));
  const corpus = { documentCount: documents, averageLength: documents > 0 ? tokens / documents : 0 };
  // The query's kinds and scopes.
  const filter = kindAndScope(query, 'j.value');
  const join = filter.joined ? ' JOIN search_docs d ON d.doc = j.value' : '';
  const candidates = [...counts].filter(([, c]) => c.frequencies.some((f) => f > 0)).map(([doc]) => doc);
  const kept = await q.all<{ doc: number }>(
    `SELECT j.value AS doc FROM json_each(?) j${join} WHERE ${filter.sql}`,
    [JSON.stringify(candidates), ...filter.params],
  );
  const ranked: RankedDoc[] = [];
  for (const { doc } of kept) {
    const { frequencies, length } = counts.get(doc) as Counts;
    const matched = frequencies.filter((f) => f > 0).length;
    if (query.match === 'all' && matched < query.terms.length) continue;
    ranked.push({ doc, matched, score: bm25Score(frequencies, idfs, length, corpus) });
  }
  return ranked.sort(byRank);
}
