/**
 * The FTS5 statement of a search. Every term is quoted, so FTS5 syntax in user text is inert
 * (terms come from the tokenizer and never hold `"`). `match: 'all'` is one AND query ordered
 * by `rank`; `'any'` runs one query per term and adds them up per entry, which gives both the
 * number of distinct terms an entry matched and its BM25 (FTS5's `bm25()` is a sum over the
 * query's terms, so the sum of per-term scores equals the OR query's score).
 */
import type { NormalizedSearchQuery, SearchKind } from '../../core/index.js';
import { KIND_CODES } from './search-sql.js';

const CHAINS = KIND_CODES.reasoning_chains;

/** An entry a query ranks: how many distinct query terms it holds, then its BM25 (higher is better). */
export interface RankedDoc {
  doc: number;
  matched: number;
  score: number;
}

/** Orders ranked entries best first: most terms, then BM25, then doc id. */
export function byRank(a: RankedDoc, b: RankedDoc): number {
  return b.matched - a.matched || b.score - a.score || a.doc - b.doc;
}

/**
 * The query's kind and scope condition over the doc id `doc` and its `search_docs` row `d`
 * (`joined`: whether `d` is needed), and its parameters.
 */
export function kindAndScope(
  query: NormalizedSearchQuery,
  doc: string,
): { sql: string; params: string[]; joined: boolean } {
  const codes = query.kinds.map((kind: SearchKind) => KIND_CODES[kind]).join(', ');
  const params: string[] = [];
  const joined = query.conversationId !== null || query.agentId !== null;
  // Conversation kinds are scoped by conversationId, chains by agentId (kinds are already narrowed).
  const conversationScope = query.conversationId === null ? '' : ' AND d.scope = ?';
  const agentScope = query.agentId === null ? '' : ' AND d.scope = ?';
  const scope = joined
    ? ` AND (((${doc} & 7) != ${CHAINS}${conversationScope}) OR ((${doc} & 7) = ${CHAINS}${agentScope}))`
    : '';
  if (query.conversationId !== null) params.push(query.conversationId);
  if (query.agentId !== null) params.push(query.agentId);
  return { sql: `(${doc} & 7) IN (${codes})${scope}`, params, joined };
}

/** The FTS5 rows of a query as `u` (doc, matched, score), with its kind and scope condition. */
function matchSource(query: NormalizedSearchQuery): {
  from: string;
  where: string;
  params: Array<string | number>;
} {
  const params: Array<string | number> = [];
  const filter = kindAndScope(query, 'u.doc');
  const join = filter.joined ? ' JOIN search_docs d ON d.doc = u.doc' : '';
  const quoted = query.terms.map((term) => `"${term}"`);
  let inner: string;
  if (query.match === 'all') {
    inner = `SELECT rowid AS doc, ${query.terms.length} AS matched, -rank AS score FROM search_fts WHERE search_fts MATCH ?`;
    params.push(quoted.join(' '));
  } else {
    inner = quoted
      .map(() => 'SELECT rowid AS doc, -rank AS s FROM search_fts WHERE search_fts MATCH ?')
      .join(' UNION ALL ');
    params.push(...quoted);
    inner = `SELECT doc, count(*) AS matched, sum(s) AS score FROM (${inner}) GROUP BY doc`;
  }
  params.push(...filter.params);
  return { from: `(${inner}) u${join}`, where: filter.sql, params };
}

/** The SQL and parameters returning {@link RankedDoc} rows, best first, at most `limit`. */
export function buildMatchQuery(
  query: NormalizedSearchQuery,
  limit: number,
): { sql: string; params: Array<string | number> } {
  const { from, where, params } = matchSource(query);
  const sql = `SELECT u.doc AS doc, u.matched AS matched, u.score AS score FROM ${from}
    WHERE ${where} ORDER BY u.matched DESC, u.score DESC, u.doc LIMIT ?`;
  return { sql, params: [...params, limit] };
}

/**
 * The SQL and parameters returning every {@link RankedDoc} row whose hit score (`hitScore`:
 * matched terms plus BM25 squashed into [0, 1), the same double arithmetic) is at least
 * `minScore`, in no order: the records tied at a limit, found without ranking the rest.
 */
export function buildScoreFloorQuery(
  query: NormalizedSearchQuery,
  minScore: number,
): { sql: string; params: Array<string | number> } {
  const { from, where, params } = matchSource(query);
  const sql = `SELECT u.doc AS doc, u.matched AS matched, u.score AS score FROM ${from}
    WHERE ${where} AND u.matched + max(u.score, 0) / (1 + max(u.score, 0)) >= ?`;
  return { sql, params: [...params, minScore] };
}
