/**
 * Conformance: a reasoning-chain hit carries the chain's sequence number (as
 * `loadSequencedReasoningChains` reports it), which a trim does not change, beside its
 * position in the oldest-first list (`chainIndex`), which a trim shifts.
 */
import type { SearchHit } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

type ChainHit = Extract<SearchHit, { kind: 'reasoning_chains' }>;

/** Registers the chain-hit sequence tests. */
export function searchChainSequenceTests(ctx: SuiteContext): void {
  describe('search: chain hits carry sequence numbers', () => {
    it('matches loadSequencedReasoningChains, before and after a trim', async () => {
      const s = ctx.storage();
      await s.storeReasoningChain('a1', { text: 'walrus one' });
      await s.storeReasoningChain('a2', { text: 'other agent' });
      await s.storeReasoningChain('a1', { text: 'walrus two' });
      await s.storeReasoningChain('a1', { text: 'walrus three' });
      const search = async (): Promise<ChainHit[]> =>
        (await s.search({ text: 'walrus', kinds: ['reasoning_chains'], limit: 10 }))
          .filter((hit): hit is ChainHit => hit.kind === 'reasoning_chains')
          .sort((a, b) => a.chainIndex - b.chainIndex);
      const numbered = await s.loadSequencedReasoningChains('a1');
      const before = await search();
      expect(before.map((hit) => [hit.chainIndex, hit.sequence, hit.record])).toEqual(
        numbered.map((item, index) => [index, item.sequence, item.chain]),
      );
      expect(await s.trimReasoningChains('a1', 2)).toBe(1);
      const after = await search();
      expect(after.map((hit) => [hit.chainIndex, hit.sequence])).toEqual([
        [0, numbered[1]!.sequence],
        [1, numbered[2]!.sequence],
      ]);
      await s.storeReasoningChain('a1', { text: 'walrus four' });
      const [newest] = await s.loadSequencedReasoningChains('a1', { limit: 1 });
      const [hit] = await s.search({ text: 'four', kinds: ['reasoning_chains'] });
      expect(hit).toMatchObject({
        kind: 'reasoning_chains',
        agentId: 'a1',
        chainIndex: 2,
        sequence: newest!.sequence,
      });
    });
  });
}
