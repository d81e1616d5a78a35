/**
 * Ranking shared by every backend: BM25 with FTS5's constants and formula (so a client-side
 * ranker scores as SQLite's `bm25()` does, sign flipped), and the final order of hits.
 */

/** BM25 term-frequency saturation (FTS5's value). */
export const BM25_K1 = 1.2;
/** BM25 length normalisation (FTS5's value). */
export const BM25_B = 0.75;

/** Corpus figures BM25 needs. */
export interface CorpusStats {
  /** Number of documents in the corpus. */
  documentCount: number;
  /** Average document length in tokens. */
  averageLength: number;
}

/** Inverse document frequency of a term found in `documentFrequency` of the corpus's documents (FTS5's, floored at 1e-6). */
export function bm25Idf(documentFrequency: number, documentCount: number): number {
  const idf = Math.log((documentCount - documentFrequency + 0.5) / (documentFrequency + 0.5));
  return idf <= 0 ? 1e-6 : idf;
}

/**
 * BM25 of one document: the sum over the query's terms of `idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len / avg))`.
 * Higher is better (SQLite's `bm25()` returns the negative of this).
 *
 * @param termFrequencies how often each query term occurs in the document (0 when absent)
 * @param idfs the {@link bm25Idf} of each query term, same order
 * @param length the document's length in tokens
 */
export function bm25Score(
  termFrequencies: readonly number[],
  idfs: readonly number[],
  length: number,
  corpus: CorpusStats,
): number {
  const norm = BM25_K1 * (1 - BM25_B + (BM25_B * length) / (corpus.averageLength || 1));
  let score = 0;
  termFrequencies.forEach((f, i) => {
    if (f > 0) score += ((idfs[i] ?? 0) * f * (BM25_K1 + 1)) / (f + norm);
  });
  return score;
}

/**
 * The score a hit reports: the number of distinct query terms it matched, plus its BM25
 * squashed into [0, 1). So a record matching more terms always ranks above one matching
 * fewer, and BM25 orders records that match as many; higher is better.
 */
export function hitScore(matchedTerms: number, bm25: number): number {
  const relevance = Math.max(0, bm25);
  return matchedTerms + relevance / (1 + relevance);
}

/** Counts how often each term occurs in `tokens`. */
export function termFrequencies(tokens: readonly string[], terms: readonly string[]): number[] {
  const index = new Map(terms.map((term, i) => [term, i]));
  const counts = new Array<number>(terms.length).fill(0);
  for (const token of tokens) {
    const i = index.get(token);
    if (i !== undefined) counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}
