/** Search-hit helpers shared by the conformance suites. */
import type { SearchHit, SearchQuery, StorageInterface } from '../../../src/core/index.js';

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
