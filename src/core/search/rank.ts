/**
 * Turns a backend's candidates into hits, the same way for every backend: matched words
 * counted on the record's own text, score, snippet, order, limit.
 */
import { compareCodePoints } from '../order.js';
import type { TextExtractor } from './fields.js';
import type { SearchCandidate, SearchHit, SearchRecordRef } from './hits.js';
import { SEARCH_KINDS, type NormalizedSearchQuery } from './query.js';
import { hitScore } from './scoring.js';
import { buildSnippet } from './snippet.js';
import { tokenize } from './tokenizer.js';

/** Deterministic order of two refs with the same score: kind, then ids, then position. */
export function compareRefs(a: SearchRecordRef, b: SearchRecordRef): number {
  const kinds = SEARCH_KINDS.indexOf(a.kind) - SEARCH_KINDS.indexOf(b.kind);
  if (kinds !== 0) return kinds;
  const owner = (r: SearchRecordRef): string => ('agentId' in r ? r.agentId : r.conversationId);
  const owners = compareCodePoints(owner(a), owner(b));
  if (owners !== 0) return owners;
  if ('messageIndex' in a && 'messageIndex' in b) return a.messageIndex - b.messageIndex;
  if ('chainIndex' in a && 'chainIndex' in b) return a.chainIndex - b.chainIndex;
  if ('memoryId' in a && 'memoryId' in b) return compareCodePoints(a.memoryId, b.memoryId);
  return 0;
}

/**
 * Scores, snippets and orders candidates: by score (matched words first, then BM25), ties in
 * {@link compareRefs} order; records without a query word (or, for `match: 'all'`, without
 * every word) are dropped; at most `query.limit` hits.
 */
export function rankCandidates(
  candidates: readonly SearchCandidate[],
  query: NormalizedSearchQuery,
  extractor: TextExtractor,
): SearchHit[] {
  const terms = new Set(query.terms);
  const hits: SearchHit[] = [];
  for (const candidate of candidates) {
    const segments = extractor.extract(candidate.kind, candidate.record);
    const present = new Set<string>();
    for (const segment of segments)
      for (const token of tokenize(segment)) if (terms.has(token)) present.add(token);
    if (present.size === 0 || (query.match === 'all' && present.size < terms.size)) continue;
    const { bm25, ...rest } = candidate;
    hits.push({
      ...rest,
      score: hitScore(present.size, bm25),
      matchedTerms: present.size,
      snippet: buildSnippet(segments, terms),
    } as SearchHit);
  }
  hits.sort((a, b) => b.score - a.score || compareRefs(a, b));
  return hits.slice(0, query.limit);
}
