/**
 * Conformance: stored data that another program or a damaged disk left unreadable can still be
 * deleted through the API (with its vectors), and deleting it never makes a number or id be
 * used again. Runs where the harness can break the data from outside (`breakRecords`).
 */
import {
  CorruptDataError,
  type SearchMode,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import type { BrokenKind, HarnessStore } from '../harness.js';
import { expectSkippedLikeReference, hitId } from './hit-ids.js';
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

    const MODES: readonly SearchMode[] = ['text', 'vector', 'hybrid'];
    const BROKEN: ReadonlyArray<[BrokenKind, string]> = [
      ['raw_messages', 'c1'],
      ['memories', 'c1'],
      ['reasoning_chains', 'a1'],
    ];
    // Each mode through the native index, and text through the default scan (`searchIndex: false`).
    const CASES = BROKEN.flatMap(([kind, owner]) => [
      ...MODES.map((mode) => [kind, owner, mode, 'native index'] as const),
      [kind, owner, 'text', 'searchIndex: false'] as const,
    ]);
    /** The config a case opens its stores with. */
    const configOf = (index: (typeof CASES)[number][3]): Record<string, unknown> => ({
      semantic: { embedder: new SwitchableEmbedder(), vectorStore: new SwitchableVectorStore() },
      ...(index === 'searchIndex: false' && { searchIndex: false }),
    });

    /** One timestamp for every record, so two stores hold equal records. */
    const AT = '2026-01-01T00:00:00.000000+00:00';

    /**
     * Records in c1, c2, a1 and a2: most of those with both words of 'apple banana' (ranked
     * first) are c1's and a1's, so a search that leaves them out must look past them to fill its
     * limit. `without` leaves out
     * one kind of one owner, as a store that never had those records.
     */
    async function seedSearch(s: StorageInterface, without?: readonly [BrokenKind, string]): Promise<void> {
      const skip = (kind: BrokenKind, owner: string): boolean =>
        without?.[0] === kind && without[1] === owner;
      if (!skip('raw_messages', 'c1'))
        await s.storeRawMessages('c1', [{ content: 'apple banana pie' }, { content: 'apple banana tart' }]);
      await s.storeRawMessages('c2', [{ content: 'apple juice' }, { content: 'banana apple split' }]);
      if (!skip('memories', 'c1'))
        await s.storeMemory('c1', 'm1', { summary: 'apple banana crumble', created_at: AT });
      await s.storeMemory('c2', 'm2', { summary: 'apple cider', created_at: AT });
      // a2's first: a chain's sequence may be numbered store-wide (SQLite), and a2's must not
      // depend on whether a1's chains were stored.
      await s.storeReasoningChain('a2', { thought: 'apple sauce', stored_at: AT });
      if (!skip('reasoning_chains', 'a1'))
        await s.appendReasoningChains('a1', [
          { thought: 'apple banana cake', stored_at: AT },
          { thought: 'banana apple', stored_at: AT },
        ]);
    }

    breaking.each(CASES)(
      'search rejects by default when it meets %s of %s that do not parse (mode %s, %s)',
      async (kind, owner, mode, index) => {
        const store = await breakableStore();
        const s = await store.open(configOf(index));
        await seedSearch(s);
        await store.breakRecords(kind, owner);
        for (const unreadable of [undefined, 'fail'] as const) {
          const search = s.search({
            text: 'apple banana',
            mode,
            limit: 20,
            ...(unreadable && { unreadable }),
          });
          const error: unknown = await search.catch((e: unknown) => e);
          expect(error).toBeInstanceOf(CorruptDataError);
          expect((error as CorruptDataError).location).not.toBe('');
        }
      },
    );

    breaking.each(CASES)(
      "search with unreadable: 'skip' leaves out %s of %s that do not parse (mode %s, %s), and logs each",
      async (kind, owner, mode, index) => {
        const events: Array<{ message: string; details: Record<string, unknown> | undefined }> = [];
        const logger = {
          warn: (message: string, details?: Record<string, unknown>) => events.push({ message, details }),
        };
        const store = await breakableStore();
        const s = await store.open({ ...configOf(index), logger });
        await seedSearch(s);
        await store.breakRecords(kind, owner);
        const reference = await (await ctx.newStore()).open(configOf(index));
        await seedSearch(reference, [kind, owner]);

        await expectSkippedLikeReference(s, reference, mode, events, () => {
          // Each record left out is named once (kind and owner) by a warn event of this search.
          for (const { details } of events) expect(details).toMatchObject({ kind, owner });
          const shown = events.map((event) => JSON.stringify(event));
          expect(new Set(shown).size).toBe(shown.length);
        });
      },
    );
  });

  it("search refuses an unreadable option other than 'fail' or 'skip' before any I/O", async () => {
    const s = ctx.storage();
    for (const unreadable of ['ignore', 'SKIP', true, null, 1]) {
      const error: unknown = await s
        .search({ text: 'apple', unreadable } as unknown as Parameters<StorageInterface['search']>[0])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('unreadable');
    }
  });
}
