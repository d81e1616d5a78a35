/**
 * Conformance: stored data that another program or a damaged disk left unreadable can still be
 * deleted through the API (with its vectors), and deleting it never makes a number or id be
 * used again. Runs where the harness can break the data from outside (`breakRecords`).
 */
import { CorruptDataError, type StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import type { HarnessStore } from '../harness.js';
import { hitId } from './hit-ids.js';
import { SwitchableEmbedder, SwitchableVectorStore } from './semantic-fixtures.js';

/** Registers the tests of unreadable stored data. */
export function corruptDataTests(ctx: SuiteContext): void {
  describe('data that does not parse', () => {
    // Skipped (and shown so) where nothing outside an instance reaches its data.
    const breaking = ctx.harness.breaksRecords ? it : it.skip;

    /** A fresh store and the harness's way to break its records. */
    async function breakableStore(): Promise<HarnessStore & Required<Pick<HarnessStore, 'breakRecords'>>> {
      const store = await ctx.newStore();
      const { breakRecords } = store;
      if (breakRecords === undefined)
        throw new Error(`${ctx.harness.name}: breaksRecords without breakRecords`);
      return { ...store, breakRecords };
    }

    /** Appends 3 chains to `a1` and 1 to `a2`; returns the highest sequence of `a1`'s. */
    async function seed(s: StorageInterface): Promise<number> {
      await s.appendReasoningChains('a1', [{ thought: 'apple pie' }, { thought: 'apple tart' }]);
      await s.storeReasoningChain('a1', { thought: 'apple crumble' });
      await s.storeReasoningChain('a2', { thought: 'apple juice' });
      const sequences = (await s.loadSequencedReasoningChains('a1')).map((item) => item.sequence);
      expect(sequences).toHaveLength(3);
      return Math.max(...sequences);
    }

    breaking(
      'deleteReasoningChains deletes chains that do not parse; later chains are numbered above theirs',
      async () => {
        const store = await breakableStore();
        const s = await store.open();
        const last = await seed(s);
        await store.breakRecords('reasoning_chains', 'a1');
        await expect(s.loadReasoningChains('a1')).rejects.toBeInstanceOf(CorruptDataError);

        await expect(s.deleteReasoningChains('a1')).resolves.toBe(true);
        expect(await s.loadReasoningChains('a1')).toEqual([]);
        expect(await s.listAgents()).toEqual(['a2']);
        const stats = await s.getStorageStats();
        expect([stats.reasoning_chain_count, stats.agent_count]).toEqual([1, 1]);
        expect((await s.search({ text: 'apple' })).map(hitId)).toEqual(['reasoning_chains:a2:0']);

        await s.storeReasoningChain('a1', { thought: 'after the delete' });
        const [next] = await s.loadSequencedReasoningChains('a1');
        expect(next?.sequence).toBeGreaterThan(last);
        expect(next?.chain).toMatchObject({ thought: 'after the delete' });
      },
    );

    breaking('with semantic search, deleting chains that do not parse removes their vectors', async () => {
      const store = await breakableStore();
      const vectors = new SwitchableVectorStore();
      const s = await store.open({ semantic: { embedder: new SwitchableEmbedder(), vectorStore: vectors } });
      await seed(s);
      expect(await vectors.count()).toBe(4);
      await store.breakRecords('reasoning_chains', 'a1');

      await expect(s.deleteReasoningChains('a1')).resolves.toBe(true);
      expect(await vectors.count()).toBe(1);
      const hits = await s.search({ text: 'apple', mode: 'vector', limit: 10 });
      expect(hits.map(hitId)).toEqual(['reasoning_chains:a2:0']);
    });

    breaking.each(['raw_messages', 'memories'] as const)(
      'deleteConversation deletes %s that do not parse, with their vectors',
      async (kind) => {
        const store = await breakableStore();
        const vectors = new SwitchableVectorStore();
        const s = await store.open({
          semantic: { embedder: new SwitchableEmbedder(), vectorStore: vectors },
        });
        await s.storeRawMessages('c1', [{ content: 'apple pie' }, { content: 'apple tart' }]);
        await s.storeMemory('c1', 'm1', { summary: 'apple crumble' });
        await s.storeMemory('c2', 'm1', { summary: 'apple juice' });
        expect(await vectors.count()).toBe(4);
        await store.breakRecords(kind, 'c1');
        const load = kind === 'raw_messages' ? s.loadRawMessages('c1') : s.loadMemories('c1');
        await expect(load).rejects.toBeInstanceOf(CorruptDataError);

        await expect(s.deleteConversation('c1')).resolves.toBe(true);
        expect(await s.listAllConversationIds()).toEqual(['c2']);
        expect([(await s.loadRawMessages('c1')) ?? [], await s.loadMemories('c1')]).toEqual([[], []]);
        expect(await vectors.count()).toBe(1);
        const hits = await s.search({ text: 'apple', mode: 'vector', limit: 10 });
        expect(hits.map(hitId)).toEqual(['memories:c2:m1']);
      },
    );
  });
}
