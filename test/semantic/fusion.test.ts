/** Reciprocal rank fusion, and hybrid search's fusion of hits. */
import { fuseHits } from '../../src/core/semantic/vector-search.js';
import {
  reciprocalRankFusion,
  type SearchHit,
  type SearchRecordRef,
  ValidationError,
} from '../../src/index.js';

describe('reciprocalRankFusion', () => {
  test('scores Σ 1/(k + rank) with k = 60 by default', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      [{ id: 'c' }, { id: 'a' }, { id: 'd' }],
    ]);
    expect(fused.map((r) => r.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(fused[0]?.ranks).toEqual([1, 2]);
    expect(fused[2]).toEqual({ id: 'b', score: 1 / 62, ranks: [2, null] });
    expect(fused[3]?.ranks).toEqual([null, 3]);
  });

  test('an entry found by both lists beats one ranked first by only one', () => {
    const fused = reciprocalRankFusion([
      ['text-only', 'both'],
      ['vector-only', 'both'],
    ]);
    expect(fused[0]?.id).toBe('both');
  });

  test('k changes how much top ranks dominate; limit cuts the list; ties go to the better rank, then the id', () => {
    const lists = [
      ['x', 'y', 'z'],
      ['z', 'q', 'y'],
    ];
    // With k = 0: x = 1, z = 1/3 + 1 = 1.33, y = 1/2 + 1/3 = 0.83, q = 0.5.
    expect(reciprocalRankFusion(lists, { k: 0 }).map((r) => r.id)).toEqual(['z', 'x', 'y', 'q']);
    expect(reciprocalRankFusion(lists, { limit: 2 })).toHaveLength(2);
    expect(reciprocalRankFusion([['b'], ['a']]).map((r) => r.id)).toEqual(['a', 'b']);
    expect(
      reciprocalRankFusion([
        ['a', 'b'],
        ['b', 'a'],
      ]).map((r) => r.id),
    ).toEqual(['a', 'b']);
  });

  test('a repeated id within one list counts once, at its best rank; empty input fuses to []', () => {
    const fused = reciprocalRankFusion([['a', 'a', 'b']]);
    expect(fused.map((r) => [r.id, r.ranks])).toEqual([
      ['a', [1]],
      ['b', [3]],
    ]);
    expect(reciprocalRankFusion([])).toEqual([]);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
  });

  test('bad arguments are ValidationErrors', () => {
    expect(() => reciprocalRankFusion([['a']], { k: -1 })).toThrow(ValidationError);
    expect(() => reciprocalRankFusion([['a']], { k: Number.NaN })).toThrow(ValidationError);
    expect(() => reciprocalRankFusion([['a']], { limit: 0 })).toThrow(ValidationError);
    expect(() => reciprocalRankFusion(['a'] as never)).toThrow(ValidationError);
    expect(() => reciprocalRankFusion([[{ id: 3 }]] as never)).toThrow(ValidationError);
  });
});

describe('hybrid fusion of search hits', () => {
  const chain = (sequence: number, chainIndex: number, t: string): SearchHit => ({
    kind: 'reasoning_chains',
    agentId: 'a1',
    chainIndex,
    sequence,
    record: { t },
    score: 1,
    matchedTerms: 1,
    snippet: t,
  });

  test('chains are told apart by sequence number, not by their position (a trim between the two lists shifts it)', () => {
    // The text list was read before a trim, the vector list after it: position 0 is another chain.
    const text = [chain(2, 1, 'password beta'), chain(1, 0, 'password alpha')];
    const vector = [chain(2, 0, 'password beta'), chain(3, 1, 'gamma')];
    const fused = fuseHits(text, vector, 10);
    expect(fused.map((hit) => (hit.kind === 'reasoning_chains' ? hit.sequence : -1))).toEqual([2, 1, 3]);
    expect(fused[0]!.score).toBeCloseTo(2 / 61, 12);
    expect(fused.map((hit) => hit.record)).toEqual([
      { t: 'password beta' },
      { t: 'password alpha' },
      { t: 'gamma' },
    ]);
  });
  test('tells apart records whose ids hold a `/` (a store the Python reference wrote may hold them)', () => {
    // The keys were `memories/c/x/1` for both: the memory `x/1` of `c` and the memory `1` of
    // `c/x` were fused into one hit, and the other was lost.
    const memory = (conversationId: string, memoryId: string): SearchHit => ({
      kind: 'memories',
      conversationId,
      memoryId,
      record: { memory_id: memoryId },
      score: 1,
      matchedTerms: 1,
      snippet: memoryId,
    });
    const fused = fuseHits([memory('c/x', '1')], [memory('c', 'x/1')], 10);
    const ids = fused.map((hit) => (hit.kind === 'memories' ? [hit.conversationId, hit.memoryId] : []));
    expect(ids.sort()).toEqual([
      ['c', 'x/1'],
      ['c/x', '1'],
    ]);
  });
});

describe('hybrid fusion: ties', () => {
  const hit = (ref: SearchRecordRef): SearchHit =>
    ({ ...ref, record: 'x', score: 1, matchedTerms: 1, snippet: 'x' }) as SearchHit;

  test('equal fused scores follow compareRefs (kind, owner, position or memory id), not the keys’ string order', () => {
    // Each first in one list only: the same fused score and best rank. The keys' order
    // (`memories/…` before `raw_messages/…`, `r/c/10` before `r/c/2`) is not the refs'.
    const memory = hit({ kind: 'memories', conversationId: 'c', memoryId: 'm' });
    const raw = (messageIndex: number): SearchHit =>
      hit({ kind: 'raw_messages', conversationId: 'c', messageIndex });
    const fused = fuseHits([memory, raw(10)], [raw(2), raw(11)], 10);
    const refs = fused.map((h) => (h.kind === 'raw_messages' ? h.messageIndex : h.kind));
    expect(refs).toEqual([2, 'memories', 10, 11]);
    expect(fused.map((h) => h.score)).toEqual([1 / 61, 1 / 61, 1 / 62, 1 / 62]);
    // limit cuts that order.
    expect(fuseHits([memory, raw(10)], [raw(2), raw(11)], 1)).toEqual(fused.slice(0, 1));
    expect(fuseHits([memory, raw(10)], [raw(2), raw(11)], 3)).toEqual(fused.slice(0, 3));
  });
});
