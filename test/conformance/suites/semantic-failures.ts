/**
 * Conformance: what semantic search leaves behind when the embedder or the vector store fails
 * part-way (the undo of a record write, leftovers of failed removals).
 */
import type { SuiteContext } from '../context.js';
import { openSemantic, vectorIds } from './semantic-fixtures.js';

/** Registers the semantic failure tests. */
export function semanticFailureTests(ctx: SuiteContext): void {
  describe('semantic search failures', () => {
    it('a failed upsert keeps the vectors of records that were to lose their text', async () => {
      const { s, vectors } = await openSemantic(ctx);
      await s.storeRawMessages('c1', ['alpha apples', 'beta bananas']);
      await s.storeMemories('c1', [
        { memoryId: 'm1', data: { text: 'gamma grapes' } },
        { memoryId: 'm2', data: { text: 'delta dates' } },
      ]);
      vectors.failUpserts = true;
      await expect(s.storeRawMessages('c1', ['epsilon elder', ''])).rejects.toThrow(/vector store down/);
      await expect(
        s.storeMemories('c1', [
          { memoryId: 'm1', data: { n: 1 } },
          { memoryId: 'm2', data: { text: 'zeta zucchini' } },
        ]),
      ).rejects.toThrow(/vector store down/);
      vectors.failUpserts = false;
      // The records are back, and so is every vector they had.
      expect(await s.loadRawMessages('c1')).toEqual(['alpha apples', 'beta bananas']);
      expect(await vectors.count()).toBe(4);
      expect(await vectorIds(s, 'beta bananas', { limit: 1 })).toEqual(['raw_messages:c1:1']);
      expect(await vectorIds(s, 'gamma grapes', { limit: 1 })).toEqual(['memories:c1:m1']);
    });

    it('search ignores the leftover vector of a record that lost its text', async () => {
      const { s, vectors } = await openSemantic(ctx);
      await s.storeRawMessages('c1', ['alpha apples', 'beta bananas']);
      vectors.failDeletes = true;
      await s.storeRawMessages('c1', [7, 'beta bananas']);
      vectors.failDeletes = false;
      expect(await vectors.count()).toBe(2); // 'alpha apples' is left over at position 0
      expect(await vectorIds(s, 'alpha apples')).toEqual(['raw_messages:c1:1']);
      await s.reindex();
      expect(await vectors.count()).toBe(1);
    });
  });
}
