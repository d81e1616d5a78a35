/**
 * Conformance: what semantic search leaves behind when the embedder or the vector store fails
 * part-way (the undo of a record write, leftovers of failed removals).
 */
import { ConfigError, StorageError } from '../../../src/core/index.js';
import { createEmbedder, EmbedderError, type Embedder } from '../../../src/semantic/index.js';
import type { SuiteContext } from '../context.js';
import { openSemantic, SwitchableVectorStore, vectorIds } from './semantic-fixtures.js';

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

    it("a vector store's plain Error reaches the caller as a StorageError naming the call", async () => {
      const { s, vectors } = await openSemantic(ctx);
      await s.storeMemory('c1', 'm1', { text: 'gamma grapes' });
      vectors.plainErrors = true;
      vectors.failUpserts = true;
      const write = await s.storeMemory('c1', 'm2', { text: 'delta dates' }).catch((e: unknown) => e);
      expect(write).toBeInstanceOf(StorageError);
      expect((write as Error).message).toMatch(/vector store upsert failed: vector store down \(plain\)/);
      expect((write as Error).cause).toBeInstanceOf(Error);
      expect((write as Error).cause).not.toBeInstanceOf(StorageError);
      // The write was undone, as for any failed upsert.
      expect((await s.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['m1']);
      vectors.failUpserts = false;
      vectors.failQueries = true;
      const search = await s.search({ text: 'gamma', mode: 'vector' }).catch((e: unknown) => e);
      expect(search).toBeInstanceOf(StorageError);
      expect((search as Error).message).toMatch(/vector store query failed: vector store down \(plain\)/);
      vectors.failQueries = false;
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
    it('an embedder given as an instance is checked: a wrong count or a plain Error is an EmbedderError', async () => {
      const hashing = createEmbedder('hashing');
      let mode: 'short' | 'throw' | 'ok' = 'short';
      const embedder: Embedder = {
        id: 'my-model',
        dimensions: hashing.dimensions,
        embed: async (texts, options) => {
          if (mode === 'throw') throw new Error('model crashed');
          const vectors = await hashing.embed(texts, options);
          return mode === 'short' ? vectors.slice(0, -1) : vectors;
        },
      };
      const vectors = new SwitchableVectorStore();
      const store = await ctx.newStore();
      const s = await store.open({ semantic: { embedder, vectorStore: vectors } });
      const batch = [
        { memoryId: 'm1', data: { text: 'apples are red' } },
        { memoryId: 'm2', data: { text: 'bananas are yellow' } },
      ];
      await expect(s.storeMemories('c1', batch)).rejects.toThrow(/returned 1 vectors for 2 texts/);
      mode = 'throw';
      const failure = s.storeMemories('c1', batch);
      await expect(failure).rejects.toThrow(EmbedderError);
      await expect(failure).rejects.toThrow(/model crashed/);
      expect(await s.loadMemories('c1')).toEqual([]);
      expect(await vectors.count()).toBe(0);
      mode = 'ok';
      expect(await s.storeMemories('c1', batch)).toBe(2);
      expect(await vectors.count()).toBe(2);
      const bad = { ...embedder, dimensions: 0 };
      await expect(store.open({ semantic: { embedder: bad, vectorStore: vectors } })).rejects.toThrow(
        ConfigError,
      );
    });
    it('an embedder failure names the record whose text it was embedding, and writes nothing', async () => {
      const hashing = createEmbedder('hashing');
      let down = false;
      // A model that answers a NaN for any text about bananas, or fails the whole call when down.
      const embedder: Embedder = {
        id: 'my-model',
        dimensions: hashing.dimensions,
        embed: async (texts, options) => {
          if (down) throw new Error('model crashed');
          const vectors = await hashing.embed(texts, options);
          return vectors.map((v, i) => (texts[i]!.includes('bananas') ? v.map(() => NaN) : v));
        },
      };
      const vectors = new SwitchableVectorStore();
      const store = await ctx.newStore();
      const s = await store.open({ semantic: { embedder, vectorStore: vectors } });
      const named = async (write: Promise<unknown>, what: RegExp): Promise<void> => {
        const error = await write.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(EmbedderError);
        expect((error as Error).message).toMatch(what);
      };
      // 7 has no text, so 'bananas' is the second text sent, and still raw message 2.
      await named(
        s.storeRawMessages('c1', [7, 'apples are red', 'bananas are yellow']),
        /raw message 2 of conversation "c1": vector 1 holds NaN/,
      );
      await named(
        s.storeMemories('c1', [
          { memoryId: 'm1', data: { text: 'apples are red' } },
          { memoryId: 'm2', data: { text: 'bananas are yellow' } },
        ]),
        /memory "m2" of conversation "c1"/,
      );
      await named(
        s.appendReasoningChains('a1', [{ step: 'apples' }, { step: 'bananas' }]),
        /reasoning chain 2 of 2 for agent "a1"/,
      );
      await named(s.search({ text: 'bananas', mode: 'vector' }), /the search text/);
      down = true;
      await named(
        s.storeMemories('c1', [
          { memoryId: 'm1', data: { text: 'apples are red' } },
          { memoryId: 'm3', data: { text: 'cherries' } },
        ]),
        /2 texts, the first memory "m1" of conversation "c1": failed: model crashed/,
      );
      expect(await s.loadRawMessages('c1')).toEqual([]);
      expect(await s.loadMemories('c1')).toEqual([]);
      expect(await s.loadReasoningChains('a1')).toEqual([]);
      expect(await vectors.count()).toBe(0);
    });
    it('a failed initialize() leaves the vector store as it was, to be given again', async () => {
      const vectors = new SwitchableVectorStore();
      await vectors.reset({ embedderId: 'another-model', dimensions: 8, metric: 'cosine' });
      const store = await ctx.newStore();
      const refusal = store.open({ semantic: { vectorStore: vectors } });
      await expect(refusal).rejects.toThrow(ConfigError);
      await expect(refusal).rejects.toThrow(/this instance may be given again/);
      // Not closed: the storage closes only what its initialize() opened.
      expect(await vectors.count()).toBe(0);
      const hashing = createEmbedder('hashing');
      await vectors.reset({ embedderId: hashing.id, dimensions: hashing.dimensions, metric: 'cosine' });
      const s = await store.open({ semantic: { vectorStore: vectors } });
      await s.storeMemory('c1', 'm1', { text: 'apples are red' });
      expect(await vectors.count()).toBe(1);
    });
    (ctx.harness.sharedStore ? it : it.skip)(
      'a read-only open of an index of another embedder says what works without reset() or reindex()',
      async () => {
        const vectors = new SwitchableVectorStore();
        await vectors.reset({ embedderId: 'another-model', dimensions: 8, metric: 'cosine' });
        const error = await ctx.openAnother({ readOnly: true, semantic: { vectorStore: vectors } }).then(
          () => new Error('the read-only open resolved'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ConfigError);
        const { message } = error as ConfigError;
        // Until 2026-12-04 it said to call reset() and reindex(), which a read-only store refuses.
        expect(message).not.toMatch(/To switch models, call reset|this instance may be given again/);
        expect(message).toContain(
          'A read-only open cannot reset() it: read it with another-model (8 dimensions, cosine), ' +
            'or switch models from a writable open',
        );
        expect(message).toContain(
          'With a store open read-only, which can neither reset its vector store nor reindex(): give ' +
            'it the embedder the index was built with, or switch embedders from a writable open',
        );
      },
    );
    it('a failed reindex() leaves the index working', async () => {
      const { s, embedder, vectors } = await openSemantic(ctx);
      for (const c of ['c1', 'c2', 'c3', 'c4'])
        await s.storeMemory(c, 'm1', { text: `notes about ${c} password` });
      embedder.failDocumentCall = 2;
      await expect(s.reindex()).rejects.toThrow(EmbedderError);
      expect(await vectors.count()).toBe(4);
      expect(await s.search({ text: 'password', mode: 'vector' })).toHaveLength(4);
    });

    it('reindex() removes the vectors of conversations that are gone, without emptying the index', async () => {
      // Emptying it is left for a kind holding 4,096 vectors or more: test/semantic/reindex.test.ts.
      const errors: string[] = [];
      const logger = { error: (message: string) => errors.push(message) };
      const { s, vectors } = await openSemantic(ctx, { logger });
      await s.storeMemory('c1', 'm1', { text: 'kept memory' });
      const leaveBehind = async (conversationId: string): Promise<void> => {
        await s.storeMemory(conversationId, 'm1', { text: 'deleted memory' });
        vectors.failDeletes = true;
        await s.deleteConversation(conversationId);
        vectors.failDeletes = false;
      };
      await leaveBehind('c2');
      await leaveBehind('c3');
      expect(await vectors.count()).toBe(3);
      await s.reindex();
      expect(await vectors.count()).toBe(1);
      expect(errors).toEqual([]);
      expect(await vectorIds(s, 'memory')).toEqual(['memories:c1:m1']);
    });
  });
}
