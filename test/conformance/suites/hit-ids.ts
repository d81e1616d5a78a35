/** Search-hit helpers shared by the conformance suites. */
import type { SearchHit, SearchMode, SearchQuery, StorageInterface } from '../../../src/core/index.js';

/** A hit's kind and ids as one string: `kind:owner[:position or memory id]`. */
export function hitId(hit: SearchHit): string {
  switch (hit.kind) {
    case 'raw_messages':
      return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
    case 'memories':
      return `memories:${hit.conversationId}:${hit.memoryId}`;
    case 'reasoning_chains':
      return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
    default:
      return `${hit.kind}:${hit.conversationId}`;
  }
}

/**
 * Asserts that `query` with each of `limits` returns exactly the first hits of `full` (the same
 * search with a larger limit): ties at the cut follow one order.
 */
export async function expectLimitPrefixes(
  s: StorageInterface,
  query: SearchQuery,
  full: readonly SearchHit[],
  limits: readonly number[],
): Promise<void> {
  for (const limit of limits) {
    const cut = await s.search({ ...query, limit });
    expect({ query, limit, hits: cut.map(hitId) }).toEqual({
      query,
      limit,
      hits: full.slice(0, limit).map(hitId),
    });
    expect(cut).toEqual(full.slice(0, limit));
  }
}

/** A hit without its score: a native index's BM25 still counts an unreadable record's words. */
export const unscored = (hits: readonly SearchHit[]): unknown[] =>
  hits.map(({ score: _score, ...rest }) => rest);

/**
 * Asserts that `s` searched with `unreadable: 'skip'` (limits 2, 3 and 20) returns the hits of
 * `reference` (a store without the unreadable records), scores aside; `events` (the warn events
 * of `s`'s logger) is emptied before each search and checked by `checkEvents` after it. A search
 * with limit 20 reaches every record, so it must have logged (a smaller limit may stop before).
 */
export async function expectSkippedLikeReference(
  s: StorageInterface,
  reference: StorageInterface,
  mode: SearchMode,
  events: unknown[],
  checkEvents: () => void,
): Promise<void> {
  for (const limit of [2, 3, 20]) {
    const query = { text: 'apple banana', mode, limit } as const;
    const expected = await reference.search(query);
    events.length = 0;
    const hits = await s.search({ ...query, unreadable: 'skip' });
    expect({ limit, hits: hits.map(hitId) }).toEqual({ limit, hits: expected.map(hitId) });
    expect(unscored(hits)).toEqual(unscored(expected));
    if (limit === 20) expect(events.length).toBeGreaterThan(0);
    checkEvents();
  }
}
