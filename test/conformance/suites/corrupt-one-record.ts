/**
 * Conformance: a search with `unreadable: 'skip'` leaves out one record that does not parse
 * alone, not the rest of its owner's list, in every mode and on every search path (native
 * index, default scan, vector list), where the backend stores records apart. A file store keeps
 * an owner's list of a kind in one file: a record that does not parse there is its whole list.
 */
import type { JsonValue, SearchMode, StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import type { BrokenKind, HarnessStore } from '../harness.js';
import { expectSkippedLikeReference } from './hit-ids.js';
import { SwitchableEmbedder, SwitchableVectorStore } from './semantic-fixtures.js';

/** One timestamp for every record, so two stores hold equal records. */
const AT = '2026-01-01T00:00:00.000000+00:00';

/** The record broken in each case: a raw message's or chain's position, a memory's id. */
const BROKEN: ReadonlyArray<[BrokenKind, string, number | string]> = [
  ['raw_messages', 'c1', 2],
  ['memories', 'c1', 'm1'],
  ['reasoning_chains', 'a1', 2],
];
type Broken = (typeof BROKEN)[number];

/** Each mode through the native index, and text and hybrid through the default scan. */
const PATHS: ReadonlyArray<[SearchMode, 'native index' | 'searchIndex: false']> = [
  ['text', 'native index'],
  ['vector', 'native index'],
  ['hybrid', 'native index'],
  ['text', 'searchIndex: false'],
  ['hybrid', 'searchIndex: false'],
];
const CASES = BROKEN.flatMap((broken) => PATHS.map(([mode, index]) => [...broken, mode, index] as const));

/** The config a case opens its stores with. */
const configOf = (index: (typeof PATHS)[number][1]): Record<string, unknown> => ({
  semantic: { embedder: new SwitchableEmbedder(), vectorStore: new SwitchableVectorStore() },
  ...(index === 'searchIndex: false' && { searchIndex: false }),
});

/**
 * Records in c1, c2, a1 and a2, each of c1's and a1's lists several long: most of those with
 * both words of 'apple banana' (ranked first) are c1's and a1's. `without` leaves out one
 * record (the one the case breaks: a last raw message or chain, so the others keep their
 * positions and sequences), or with `whole` the owner's whole list of that kind.
 */
async function seed(s: StorageInterface, without?: { broken: Broken; whole: boolean }): Promise<void> {
  const keep = (kind: BrokenKind, owner: string, record: number | string): boolean =>
    without === undefined ||
    without.broken[0] !== kind ||
    without.broken[1] !== owner ||
    (!without.whole && without.broken[2] !== record);
  const raw = ['apple banana pie', 'apple banana tart', 'apple banana split'];
  await s.storeRawMessages(
    'c1',
    raw.filter((_, i) => keep('raw_messages', 'c1', i)).map((content) => ({ content })),
  );
  await s.storeRawMessages('c2', [{ content: 'apple juice' }, { content: 'banana apple smoothie' }]);
  const memories = { m1: 'apple banana crumble', m3: 'apple banana muffin', m4: 'apple pear' };
  for (const [id, summary] of Object.entries(memories))
    if (keep('memories', 'c1', id)) await s.storeMemory('c1', id, { summary, created_at: AT });
  await s.storeMemory('c2', 'm2', { summary: 'apple cider', created_at: AT });
  // a2's first: a chain's sequence may be numbered store-wide (SQLite, PostgreSQL).
  await s.storeReasoningChain('a2', { thought: 'apple sauce', stored_at: AT });
  const chains = ['apple banana cake', 'banana apple', 'apple banana bread'];
  const kept = chains.filter((_, i) => keep('reasoning_chains', 'a1', i));
  if (kept.length > 0)
    await s.appendReasoningChains(
      'a1',
      kept.map((thought) => ({ thought, stored_at: AT })),
    );
}

/** What the warn event of a record left out names as `record`: a chain by its sequence. */
async function loggedRecord(s: StorageInterface, [kind, owner, record]: Broken): Promise<number | string> {
  if (kind !== 'reasoning_chains') return record;
  const chains = await s.loadSequencedReasoningChains(owner);
  return chains[record as number]!.sequence;
}

/** Registers the tests of one unreadable record among readable ones of its owner. */
export function corruptOneRecordTests(ctx: SuiteContext): void {
  // Skipped (and shown so) where nothing outside an instance reaches its data.
  const breaking = ctx.harness.breaksRecords ? it.each(CASES) : it.skip.each(CASES);
  // A file store's list of a kind is one document: breaking one record breaks it whole.
  const one = ctx.harness.breaksOneRecord === true;

  breaking(
    "search with unreadable: 'skip' leaves out %s of %s (record %s) alone (mode %s, %s), and names it",
    async (kind, owner, record, mode, index) => {
      const broken: Broken = [kind, owner, record];
      const events: Array<Record<string, unknown> | undefined> = [];
      const logger = { warn: (_message: string, details?: Record<string, unknown>) => events.push(details) };
      const store: HarnessStore = await ctx.newStore();
      const s = await store.open({ ...configOf(index), logger });
      await seed(s);
      const named = await loggedRecord(s, broken);
      await store.breakRecords!(kind, owner, record);
      const reference = await (await ctx.newStore()).open(configOf(index));
      await seed(reference, { broken, whole: !one });

      await expectSkippedLikeReference(s, reference, mode, events, () => {
        for (const details of events) {
          expect(details).toMatchObject({ kind, owner });
          expect(details?.record).toEqual(one ? named : undefined);
        }
      });
    },
  );

  const firsts = (['raw_messages', 'reasoning_chains'] as const).flatMap((kind) =>
    PATHS.map(([mode, index]) => [kind, mode, index] as const),
  );
  (ctx.harness.breaksRecords ? it.each(firsts) : it.skip.each(firsts))(
    "search with unreadable: 'skip' keeps the positions of %s after one left out (mode %s, %s)",
    async (kind, mode, index) => {
      const store: HarnessStore = await ctx.newStore();
      const s = await store.open(configOf(index));
      await seed(s);
      const owner = kind === 'raw_messages' ? 'c1' : 'a1';
      const stored =
        kind === 'raw_messages'
          ? (await s.loadRawMessages(owner)).map((record, i) => ({ i, record, sequence: undefined }))
          : (await s.loadSequencedReasoningChains(owner)).map(({ chain, sequence }, i) => ({
              i,
              record: chain,
              sequence,
            }));
      await store.breakRecords!(kind, owner, 0);

      const hits = await s.search({ text: 'apple banana', mode, limit: 20, unreadable: 'skip' });
      type Placed = { i: number; record: JsonValue; sequence: number | undefined };
      const found = hits.flatMap((hit): Placed[] => {
        if (hit.kind === 'raw_messages' && hit.conversationId === owner)
          return [{ i: hit.messageIndex, record: hit.record, sequence: undefined }];
        if (hit.kind === 'reasoning_chains' && hit.agentId === owner)
          return [{ i: hit.chainIndex, record: hit.record, sequence: hit.sequence }];
        return [];
      });
      found.sort((a, b) => a.i - b.i);
      // The first left out, the later ones where they are stored (a file store: none, see above).
      expect(found).toEqual(one ? stored.slice(1) : []);
    },
  );
}
