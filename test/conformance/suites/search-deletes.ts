/**
 * Conformance: a store whose records were deleted, upserted or replaced ranks exactly as a store
 * that only ever held the survivors: the same hits, matched terms and scores, in the same order.
 * BM25's corpus figures (documents, average length, documents per term) must follow every
 * delete. Until 2026-12-05 SQLite's FTS5 table kept deleted entries in its document count and
 * total length, so scores, and the order of hits with other term frequencies or lengths, drifted
 * from a fresh store's until `reindex()`. Checked through the writer, a reopened instance and a
 * read-only one, where instances share a store.
 */
import type { SearchQuery, StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';

const WORDS = ['otter', 'heron', 'ibis', 'crane', 'stork', 'egret', 'fox', 'owl'];

/** A text of 1 to 12 words, some repeated, and every fifth padded long: lengths and term frequencies differ. */
function text(i: number): string {
  const words = Array.from({ length: 1 + ((i * 7) % 12) }, (_, j) => WORDS[(i * 3 + j * j) % WORDS.length]);
  return [...words, ...(i % 5 === 0 ? Array<string>(25).fill('filler') : [])].join(' ');
}

const MEMORIES = 40;
const gone = (i: number): boolean => i % 3 === 0;
const upserted = (i: number): boolean => i % 7 === 1;

/** The survivors' final state, written once (the fresh store), or after `history` (the store with deletes). */
async function write(s: StorageInterface, history: boolean): Promise<void> {
  for (let i = 0; i < MEMORIES; i += 1) {
    if (!history && gone(i)) continue;
    // More than 16 records before the deletes: SQLite's FTS5 holds them, not its waiting list.
    await s.storeMemory('c1', `m${i}`, { text: history && upserted(i) ? 'zebra yak old words' : text(i) });
  }
  await s.storeRawMessages('c2', [text(41), text(42), text(43), text(44)]);
  await s.storeReasoningChain('a1', { text: text(45) });
  if (history) {
    await s.storeRawMessages('c2', [text(41), 'gnu zebra', 'yak']);
    await s.storeConversation('c3', { title: text(46) });
    await s.storeMemory('c3', 'x', { text: text(47) });
    await s.deleteConversation('c3');
    await s.storeReasoningChain('a2', { text: text(48) });
    await s.deleteReasoningChains('a2');
    for (let i = 0; i < MEMORIES; i += 1) {
      if (gone(i)) await s.deleteMemory('c1', `m${i}`);
      else if (upserted(i)) await s.storeMemory('c1', `m${i}`, { text: text(i) });
    }
  }
  await s.storeRawMessages('c2', [text(41), text(42), text(43), text(44)]);
}

const QUERIES: SearchQuery[] = [
  { text: 'fox' },
  { text: 'otter owl', match: 'any' },
  { text: 'heron ibis', match: 'all' },
  { text: 'filler crane' },
  { text: 'stork egret fox', kinds: ['memories'] },
  { text: 'egret', conversationId: 'c1' },
  { text: 'zebra yak gnu' },
];

interface Ranked {
  query: string;
  limit: number;
  hits: Array<[string, number]>;
  scores: number[];
}

/** Every hit of each query (and its first 3): ids with matched terms, and scores. */
async function ranking(s: StorageInterface): Promise<Ranked[]> {
  const out: Ranked[] = [];
  for (const query of QUERIES) {
    for (const limit of [1000, 3]) {
      const hits = await s.search({ ...query, limit });
      const ids = hits.map((h): [string, number] => [hitId(h), h.matchedTerms]);
      out.push({ query: query.text, limit, hits: ids, scores: hits.map((h) => h.score) });
    }
  }
  return out;
}

/**
 * The same hits in the same order with the same matched terms, and the same scores but for the
 * last bits (a ranking of its own, as SQLite's read-only one, adds the same terms in another order).
 */
async function expectRanking(s: StorageInterface, expected: readonly Ranked[]): Promise<void> {
  const actual = await ranking(s);
  expect(actual.map(({ scores: _, ...rest }) => rest)).toEqual(
    expected.map(({ scores: _, ...rest }) => rest),
  );
  actual.forEach(({ scores }, i) =>
    scores.forEach((score, j) => expect(score).toBeCloseTo(expected[i]?.scores[j] ?? NaN, 12)),
  );
}

/** Registers the test. */
export function searchDeleteTests(ctx: SuiteContext): void {
  describe('search: ranking after deletes', () => {
    it('a store with records deleted, upserted and replaced ranks exactly as one holding only the survivors', async () => {
      const fresh = await (await ctx.newStore()).open();
      try {
        await write(fresh, false);
        const expected = await ranking(fresh);
        const s = ctx.storage();
        await write(s, true);
        if (ctx.harness.sharedStore) {
          // First a reader beside the writer's latest state, which it cannot change.
          const reader = await ctx.openAnother({ readOnly: true });
          await expectRanking(reader, expected);
        }
        await expectRanking(s, expected);
        if (ctx.harness.sharedStore) await expectRanking(await ctx.openAnother(), expected);
      } finally {
        await fresh.shutdown();
      }
    });
  });
}
