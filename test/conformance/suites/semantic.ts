/**
 * Conformance: semantic and hybrid search wired into the store (issue 14), with the hashing
 * embedder and the in-memory vector store. Writes embed, deletes, replaces and trims remove
 * vectors, vector queries honour scopes, modes are validated, and a failing embedder or
 * vector store leaves the store as it was.
 */
import { type JsonObject, ValidationError } from '../../../src/core/index.js';
import { createEmbedder, EmbedderError } from '../../../src/semantic/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';
import { openSemantic, vectorIds } from './semantic-fixtures.js';

/** Registers the semantic search tests. */
export function semanticTests(ctx: SuiteContext): void {
  describe('semantic search', () => {
    it('every write embeds: memories, chains and raw messages, single and batched', async () => {
      const { s, vectors } = await openSemantic(ctx);
      await s.storeMemory('c1', 'm1', { summary: 'Steps to recover a forgotten password' });
      await s.storeMemories('c1', [
        { memoryId: 'm2', data: { summary: 'Quarterly revenue grew by four percent' } },
        { memoryId: 'm3', data: { summary: 'The cat sleeps on the sofa' } },
      ]);
      await s.storeReasoningChain('a1', { thought: 'password reset flow' });
      await s.appendReasoningChains('a1', [{ thought: 'revenue report' }, { thought: 'weather' }]);
      await s.storeRawMessages('c2', [{ content: 'how do I reset my password' }, { content: 'thanks' }, 42]);
      // 3 memories + 3 chains + 2 raw messages with text (42 has none, so no vector).
      expect(await vectors.count()).toBe(8);
      const hits = await s.search({ text: 'How do I reset my password?', mode: 'vector', limit: 3 });
      expect(hits.map(hitId)).toEqual(
        expect.arrayContaining(['memories:c1:m1', 'raw_messages:c2:0', 'reasoning_chains:a1:0']),
      );
      const top = hits[0]!;
      expect(top.score).toBeGreaterThan(0);
      expect(top.score).toBeLessThanOrEqual(1);
      expect(top.snippet).toContain('«');
      expect(hits.map((hit) => hit.score)).toEqual([...hits.map((hit) => hit.score)].sort((a, b) => b - a));
    });

    it("a vector hit without a query word shows its record's wordiest string, not its role or id", async () => {
      // Until 2026-12-04 the first non-blank string: "assistant", or a memory's id.
      const { s } = await openSemantic(ctx);
      await s.storeRawMessages('c1', [{ role: 'assistant', content: 'The launch moved to Friday' }]);
      await s.storeMemory('c1', 'mem_1', { summary: 'Ada prefers tea in the morning' });
      const hits = await s.search({ text: 'unrelated', mode: 'vector', limit: 5 });
      expect(hits.map((hit) => [hitId(hit), hit.snippet]).sort()).toEqual([
        ['memories:c1:mem_1', 'Ada prefers tea in the morning'],
        ['raw_messages:c1:0', 'The launch moved to Friday'],
      ]);
    });

    it('a vector hit whose text is one word, or CJK without spaces, shows it, not its role or id', async () => {
      // One word each: the role or id came first among equals and was shown until 2026-12-04.
      const { s } = await openSemantic(ctx);
      await s.storeRawMessages('c1', [
        { role: 'user', content: 'Thanks' },
        { role: 'assistant', content: '了解しました' },
      ]);
      await s.storeMemory('c1', 'mem_1', { summary: 'password' });
      await s.storeMemory('c1', 'mem_2', { summary: '東京の天気' });
      const hits = await s.search({ text: 'unrelated', mode: 'vector', limit: 5 });
      expect(hits.map((hit) => [hitId(hit), hit.snippet]).sort()).toEqual([
        ['memories:c1:mem_1', 'password'],
        ['memories:c1:mem_2', '東京の天気'],
        ['raw_messages:c1:0', 'Thanks'],
        ['raw_messages:c1:1', '了解しました'],
      ]);
    });

    it('a raw-message replace embeds only the messages that changed', async () => {
      const { s, embedder, vectors } = await openSemantic(ctx);
      await s.storeRawMessages('c1', ['alpha bravo', 'charlie delta', 'echo foxtrot']);
      expect(embedder.documents).toEqual(['alpha bravo', 'charlie delta', 'echo foxtrot']);
      embedder.documents.length = 0;
      await s.storeRawMessages('c1', ['alpha bravo', 'charlie delta', 'echo foxtrot', 'golf hotel']);
      expect(embedder.documents).toEqual(['golf hotel']);
      embedder.documents.length = 0;
      await s.storeRawMessages('c1', ['alpha bravo', 'india juliet', 'echo foxtrot']);
      expect(embedder.documents).toEqual(['india juliet']);
      expect(await vectors.count()).toBe(3);
      expect(await vectorIds(s, 'india juliet', { kinds: ['raw_messages'], limit: 1 })).toEqual([
        'raw_messages:c1:1',
      ]);
      expect(
        (await s.search({ text: 'charlie delta', mode: 'vector', limit: 3 })).map((hit) => hit.record),
      ).not.toContainEqual('charlie delta');
    });

    it('a raw-message replace embeds what another writer changed while it embedded', async () => {
      if (!ctx.harness.sharedStore) return;
      const { s, embedder, vectors, openAnother } = await openSemantic(ctx);
      const other = await openAnother({
        semantic: { embedder: createEmbedder('hashing'), vectorStore: vectors },
      });
      await s.storeRawMessages('c1', ['alpha bravo', 'charlie delta']);
      embedder.meanwhile = async () => {
        await other.storeRawMessages('c1', ['alpha bravo', 'kilo lima']);
      };
      await s.storeRawMessages('c1', ['alpha bravo', 'charlie delta', 'echo foxtrot']);
      expect(await s.loadRawMessages('c1')).toEqual(['alpha bravo', 'charlie delta', 'echo foxtrot']);
      // Position 1 holds 'charlie delta' again, and so does its vector (not the other writer's).
      expect(await vectorIds(s, 'charlie delta', { kinds: ['raw_messages'], limit: 1 })).toEqual([
        'raw_messages:c1:1',
      ]);
      // The new message, then the one the other writer had changed meanwhile.
      expect(embedder.documents.slice(2)).toEqual(['echo foxtrot', 'charlie delta']);
    });

    it('replaces, deletes and conversation deletes remove the old vectors', async () => {
      const { s, vectors } = await openSemantic(ctx);
      await s.storeRawMessages('c1', ['alpha bravo', 'charlie delta', 'echo foxtrot']);
      await s.storeMemory('c1', 'm1', { text: 'golf hotel' });
      await s.storeMemory('c2', 'm1', { text: 'golf india' });
      expect(await vectors.count()).toBe(5);
      await s.storeRawMessages('c1', ['juliet kilo']);
      expect(await vectors.count()).toBe(3);
      expect(await vectorIds(s, 'charlie delta', { kinds: ['raw_messages'] })).toEqual(['raw_messages:c1:0']);
      await s.storeMemory('c1', 'm1', { text: 'lima mike' }); // replace in place: same vector id
      expect(await vectors.count()).toBe(3);
      expect((await s.search({ text: 'lima mike', mode: 'vector', limit: 1 }))[0]?.record).toMatchObject({
        text: 'lima mike',
      });
      await s.deleteMemory('c2', 'm1');
      expect(await vectors.count()).toBe(2);
      await s.deleteConversation('c1');
      expect(await vectors.count()).toBe(0);
      expect(await vectorIds(s, 'lima mike juliet')).toEqual([]);
    });

    it('deleteMemories removes the vectors of the memories it deletes, and only those', async () => {
      const { s, vectors } = await openSemantic(ctx);
      await s.storeMemories('c1', [
        { memoryId: 'm1', data: { text: 'golf hotel' } },
        { memoryId: 'm2', data: { text: 'india juliet' } },
        { memoryId: 'm3', data: { text: 'kilo lima' } },
      ]);
      await s.storeMemory('c2', 'm1', { text: 'golf mike' });
      expect(await vectors.count()).toBe(4);
      await expect(s.deleteMemories('c1', ['m1', 'absent', 'm3', 'm1'])).resolves.toBe(4);
      expect(await vectors.count()).toBe(2);
      expect(await vectorIds(s, 'golf hotel kilo lima india juliet')).toEqual(
        expect.arrayContaining(['memories:c1:m2', 'memories:c2:m1']),
      );
      expect(await vectorIds(s, 'golf hotel kilo lima india juliet')).toHaveLength(2);
    });

    it('chain vectors follow sequence numbers through deletes, trims and retention', async () => {
      const { s, vectors } = await openSemantic(ctx, { maxReasoningChainsPerAgent: 3 });
      await s.appendReasoningChains('a1', [{ t: 'one apple' }, { t: 'two banana' }]);
      await s.appendReasoningChains('a1', [{ t: 'three cherry' }, { t: 'four damson' }, { t: 'five elder' }]);
      expect(await vectors.count()).toBe(3); // retention kept the last 3; the trimmed lost their vectors
      expect(await s.trimReasoningChains('a1', 2)).toBe(1);
      expect(await vectors.count()).toBe(2);
      // Positions moved, vector ids did not: "five elder" is now at position 1.
      const [hit] = await s.search({ text: 'five elder', mode: 'vector', limit: 1 });
      expect(hit).toMatchObject({ kind: 'reasoning_chains', agentId: 'a1', chainIndex: 1 });
      expect(hit?.record).toMatchObject({ t: 'five elder' });
      await s.storeReasoningChain('a2', { t: 'other agent' });
      await s.deleteReasoningChains('a1');
      expect(await vectors.count()).toBe(1);
    });

    it('vector queries honour conversation, agent and kind scopes', async () => {
      const { s } = await openSemantic(ctx);
      await s.storeMemory('c1', 'm1', { text: 'shared words about invoices' });
      await s.storeMemory('c2', 'm1', { text: 'shared words about invoices' });
      await s.storeRawMessages('c1', ['shared words about invoices']);
      await s.storeReasoningChain('a1', { text: 'shared words about invoices' });
      await s.storeReasoningChain('a2', { text: 'shared words about invoices' });
      const text = 'invoices';
      expect((await vectorIds(s, text)).sort()).toEqual([
        'memories:c1:m1',
        'memories:c2:m1',
        'raw_messages:c1:0',
        'reasoning_chains:a1:0',
        'reasoning_chains:a2:0',
      ]);
      expect((await vectorIds(s, text, { conversationId: 'c1' })).sort()).toEqual([
        'memories:c1:m1',
        'raw_messages:c1:0',
      ]);
      expect(await vectorIds(s, text, { agentId: 'a2' })).toEqual(['reasoning_chains:a2:0']);
      expect((await vectorIds(s, text, { conversationId: 'c2', agentId: 'a1' })).sort()).toEqual([
        'memories:c2:m1',
        'reasoning_chains:a1:0',
      ]);
      expect(await vectorIds(s, text, { kinds: ['memories'], conversationId: 'c2' })).toEqual([
        'memories:c2:m1',
      ]);
      expect(await s.search({ text, mode: 'vector', limit: 2 })).toHaveLength(2);
      expect(await vectorIds(s, text, { kinds: ['conversations'] })).toEqual([]);
    });

    it('hybrid fuses the full-text and vector lists by reciprocal rank', async () => {
      const { s } = await openSemantic(ctx);
      await s.storeMemory('c1', 'exact', { text: 'password reset' });
      await s.storeMemory('c1', 'near', { text: 'passwords resetting' }); // no whole query word
      await s.storeMemory('c1', 'far', { text: 'quarterly revenue' });
      const hits = await s.search({ text: 'password reset', mode: 'hybrid', limit: 2 });
      expect(hits.map(hitId)).toEqual(['memories:c1:exact', 'memories:c1:near']);
      // In both lists at rank 1: 2 / (60 + 1).
      expect(hits[0]!.score).toBeCloseTo(2 / 61, 10);
      expect(hits[0]!.snippet).toBe('«password» «reset»');
      expect(hits[1]).toMatchObject({ matchedTerms: 0 });
      const text = await s.search({ text: 'password reset' });
      expect(text.map(hitId)).toEqual(['memories:c1:exact']);
    });

    it('modes are validated before any I/O', async () => {
      const plain = ctx.storage();
      await expect(plain.search({ text: 'x', mode: 'vector' })).rejects.toThrow(ValidationError);
      await expect(plain.search({ text: 'x', mode: 'hybrid' })).rejects.toThrow(/semantic/);
      expect(await plain.search({ text: 'x', mode: 'text' })).toEqual([]);
      const { s } = await openSemantic(ctx);
      await expect(s.search({ text: 'x', mode: 'fuzzy' as never })).rejects.toThrow(ValidationError);
    });

    it('an embedder failure writes nothing', async () => {
      const { s, embedder, vectors } = await openSemantic(ctx);
      await s.storeMemory('c1', 'm1', { text: 'kept as it was' });
      embedder.failing = true;
      await expect(s.storeMemory('c1', 'm1', { text: 'new text' })).rejects.toThrow(EmbedderError);
      await expect(s.storeMemories('c1', [{ memoryId: 'm2', data: { text: 'x' } }])).rejects.toThrow(
        EmbedderError,
      );
      await expect(s.storeRawMessages('c1', ['hello'])).rejects.toThrow(EmbedderError);
      await expect(s.appendReasoningChains('a1', [{ t: 'x' }])).rejects.toThrow(EmbedderError);
      await expect(s.storeReasoningChain('a1', { t: 'x' })).rejects.toThrow(EmbedderError);
      expect((await s.loadMemories('c1')).map((m: JsonObject) => m.text)).toEqual(['kept as it was']);
      expect(await s.loadRawMessages('c1')).toEqual([]);
      expect(await s.loadReasoningChains('a1')).toEqual([]);
      expect(await vectors.count()).toBe(1);
    });

    it('a vector-store failure undoes the record write', async () => {
      const { s, vectors } = await openSemantic(ctx);
      await s.storeMemory('c1', 'm1', { text: 'original memory' });
      await s.storeMemory('c1', 'm2', { text: 'second memory' });
      await s.storeRawMessages('c1', ['original message']);
      const memoriesBefore = await s.loadMemories('c1');
      vectors.failUpserts = true;
      await expect(s.storeMemory('c1', 'm1', { text: 'replacement' })).rejects.toThrow(/vector store down/);
      await expect(
        s.storeMemories('c1', [
          { memoryId: 'm2', data: { text: 'batch replacement' } },
          { memoryId: 'm3', data: { text: 'batch new' } },
        ]),
      ).rejects.toThrow(/vector store down/);
      await expect(s.storeMemory('c9', 'm1', { text: 'brand new' })).rejects.toThrow(/vector store down/);
      await expect(s.storeRawMessages('c1', ['replaced', 'list'])).rejects.toThrow(/vector store down/);
      await expect(s.storeRawMessages('c8', ['new list'])).rejects.toThrow(/vector store down/);
      expect(await s.loadMemories('c1')).toEqual(memoriesBefore);
      expect(await s.loadMemories('c9')).toEqual([]);
      expect(await s.loadRawMessages('c1')).toEqual(['original message']);
      expect(await s.loadRawMessages('c8')).toEqual([]);
      vectors.failUpserts = false;
      expect(await vectors.count()).toBe(3);
      expect((await s.search({ text: 'original memory', mode: 'vector', limit: 1 }))[0]).toMatchObject({
        memoryId: 'm1',
      });
    });

    it('reindex() re-embeds every record into an emptied vector store', async () => {
      const { s, embedder, vectors } = await openSemantic(ctx);
      await s.storeMemory('c1', 'm1', { text: 'tango uniform' });
      await s.storeRawMessages('c1', ['victor whiskey', 'xray']);
      await s.appendReasoningChains('a1', [{ t: 'yankee' }, { t: 'zulu' }]);
      await vectors.reset({ embedderId: embedder.id, dimensions: embedder.dimensions, metric: 'cosine' });
      expect(await vectorIds(s, 'zulu')).toEqual([]);
      await s.reindex();
      expect(await vectors.count()).toBe(5);
      expect((await vectorIds(s, 'zulu'))[0]).toBe('reasoning_chains:a1:1');
    });

    it('a record or query holding a lone surrogate is embedded as full-text search reads it (U+FFFD)', async () => {
      // Such records are stored without semantic search; turning it on must not refuse them.
      const { s, embedder, vectors } = await openSemantic(ctx);
      await s.storeMemory('c1', 'm1', { summary: 'password \uD800reset' });
      await s.storeRawMessages('c1', ['lone \uDC00 surrogate']);
      await s.storeReasoningChain('a1', { thought: 'plan \uD83D' });
      expect(await vectors.count()).toBe(3);
      expect(embedder.documents).toEqual([
        'm1\npassword \uFFFDreset',
        'lone \uFFFD surrogate',
        'plan \uFFFD',
      ]);
      expect(await vectorIds(s, 'password \uDBFFreset', { kinds: ['memories'], limit: 1 })).toEqual([
        'memories:c1:m1',
      ]);
    });
  });
}
