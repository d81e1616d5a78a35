/**
 * Conformance: searches while `reindex()` runs. Its pass upserts over the vectors there are, so
 * a vector search meanwhile finds the records it finds before and after; what the pass cannot
 * vouch for (vectors of conversations that are gone, or written meanwhile) must be sorted out
 * without emptying the index, which left concurrent searches with a part of the records.
 */
import type { SearchQuery, StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';
import { openSemantic, type SemanticStore } from './semantic-fixtures.js';

/** A vector search over conversation c2, which nothing below changes. */
const STEADY: SearchQuery = { text: 'password notes', mode: 'vector', conversationId: 'c2', limit: 50 };

async function populate(s: StorageInterface): Promise<void> {
  for (const c of ['c1', 'c2', 'c3', 'c4']) {
    await s.storeMemories(c, [
      { memoryId: 'm1', data: { text: `${c} password notes` } },
      { memoryId: 'm2', data: { text: `${c} other notes` } },
    ]);
    await s.storeRawMessages(c, [{ text: `${c} reset my password` }]);
  }
  await s.storeReasoningChain('a1', { text: 'password chain' });
}

/** Runs `reindex()`, searching `STEADY` inside each of its embedding calls (after `meanwhile` on the `at`-th). */
async function searchesDuringReindex(
  { s, embedder }: SemanticStore,
  at: number,
  meanwhile: () => Promise<unknown>,
): Promise<string[][]> {
  const seen: string[][] = [];
  let calls = 0;
  embedder.eachDocumentCall = async () => {
    calls += 1;
    if (calls === at) await meanwhile();
    seen.push((await s.search(STEADY)).map(hitId));
  };
  try {
    await s.reindex();
  } finally {
    embedder.eachDocumentCall = undefined;
  }
  return seen;
}

/** Registers the tests of searches during `reindex()`. */
export function semanticReindexTests(ctx: SuiteContext): void {
  describe('semantic search during reindex()', () => {
    it('a write landing meanwhile does not empty the index under concurrent searches', async () => {
      const semantic = await openSemantic(ctx);
      const { s, vectors } = semantic;
      await populate(s);
      const before = (await s.search(STEADY)).map(hitId);
      expect(before).toHaveLength(3);
      // c1 was re-embedded first; the write lands in it while c3 is embedded.
      const seen = await searchesDuringReindex(semantic, 3, () =>
        s.storeMemory('c1', 'm3', { text: 'new password notes' }),
      );
      expect(seen.length).toBeGreaterThanOrEqual(5);
      for (const hits of seen) expect(hits).toEqual(before);
      expect((await s.search(STEADY)).map(hitId)).toEqual(before);
      expect(await vectors.count()).toBe(14);
    });

    it('vectors of a conversation deleted while deletes failed are removed without emptying the index', async () => {
      const semantic = await openSemantic(ctx);
      const { s, vectors } = semantic;
      await populate(s);
      await s.storeMemory('c0', 'm1', { text: 'deleted password notes' });
      vectors.failDeletes = true;
      await s.deleteConversation('c0');
      vectors.failDeletes = false;
      expect(await vectors.count()).toBe(14);
      const before = (await s.search(STEADY)).map(hitId);
      const seen = await searchesDuringReindex(semantic, 1, () => Promise.resolve());
      for (const hits of seen) expect(hits).toEqual(before);
      expect(await vectors.count()).toBe(13);
      expect(await s.search({ text: 'deleted password notes', mode: 'vector', limit: 50 })).toHaveLength(13);
    });
  });
}
