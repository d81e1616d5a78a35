/**
 * Conformance: reasoning-chain sequence numbers, `trimReasoningChains` and the
 * `maxReasoningChainsPerAgent` option (issue 12, retention).
 */
import {
  ConfigError,
  InvalidIdError,
  type SequencedChain,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

async function appendN(s: StorageInterface, agentId: string, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n += 1) await s.storeReasoningChain(agentId, { n });
}

const ns = (items: SequencedChain[]): unknown[] => items.map((item) => item.chain.n);
const seqs = (items: SequencedChain[]): number[] => items.map((item) => item.sequence);

function expectIncreasing(values: number[]): void {
  for (let i = 1; i < values.length; i += 1) expect(values[i]).toBeGreaterThan(values[i - 1] as number);
  for (const value of values) expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
}

async function chainCounts(s: StorageInterface): Promise<{ chains: number; agents: number }> {
  const stats = await s.getStorageStats();
  return { chains: stats.reasoning_chain_count, agents: stats.agent_count };
}

export function retentionTests(ctx: SuiteContext): void {
  describe('reasoning-chain sequence numbers', () => {
    it('number chains increasingly in append order, beside the records loadReasoningChains returns', async () => {
      const s = ctx.storage();
      await appendN(s, 'a1', 0, 5);
      await appendN(s, 'a2', 0, 2);
      const all = await s.loadSequencedReasoningChains('a1');
      expect(all.map((item) => item.chain)).toEqual(await s.loadReasoningChains('a1'));
      expect(ns(all)).toEqual([0, 1, 2, 3, 4]);
      expectIncreasing(seqs(all));
      for (const item of all) expect(Object.keys(item).sort()).toEqual(['chain', 'sequence']);
      expect(await s.loadSequencedReasoningChains('nobody')).toEqual([]);
    });

    it('limit reads the most recent; afterSequence pages forward', async () => {
      const s = ctx.storage();
      await appendN(s, 'a1', 0, 7);
      const all = await s.loadSequencedReasoningChains('a1');
      expect(await s.loadSequencedReasoningChains('a1', { limit: 3 })).toEqual(all.slice(-3));
      expect(await s.loadSequencedReasoningChains('a1', { afterSequence: -1 })).toEqual(all);
      const pages: SequencedChain[][] = [];
      let after = -1;
      for (;;) {
        const page = await s.loadSequencedReasoningChains('a1', { afterSequence: after, limit: 3 });
        if (page.length === 0) break;
        pages.push(page);
        after = page.at(-1)!.sequence;
      }
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
      expect(pages.flat()).toEqual(all);
      expect(await s.loadSequencedReasoningChains('a1', { afterSequence: all[4]!.sequence })).toEqual(
        all.slice(5),
      );
      expect(await s.loadSequencedReasoningChains('a1', { afterSequence: all.at(-1)!.sequence })).toEqual([]);
    });

    it('are never reused or renumbered by trims, deletes of other agents, a delete, or a reopen', async () => {
      const s = ctx.storage();
      await appendN(s, 'a1', 0, 6);
      await appendN(s, 'other', 0, 3);
      const before = await s.loadSequencedReasoningChains('a1');
      await s.deleteReasoningChains('other');
      expect(await s.trimReasoningChains('a1', 4)).toBe(2);
      expect(await s.loadSequencedReasoningChains('a1')).toEqual(before.slice(2));
      await appendN(s, 'a1', 6, 8);
      const after = await s.loadSequencedReasoningChains('a1');
      expect(after.slice(0, 4)).toEqual(before.slice(2));
      expectIncreasing(seqs(after));
      if (ctx.harness.sharedStore) {
        const again = await ctx.openAnother();
        expect(await again.loadSequencedReasoningChains('a1')).toEqual(after);
      }
      // All gone; the next chain still gets a number after every earlier one.
      await s.deleteReasoningChains('a1');
      await appendN(s, 'a1', 8, 9);
      const fresh = await s.loadSequencedReasoningChains('a1');
      expect(ns(fresh)).toEqual([8]);
      expect(fresh[0]!.sequence).toBeGreaterThan(after.at(-1)!.sequence);
    });
  });

  describe('trimReasoningChains', () => {
    it('keeps the most recent keepLast and returns how many it removed', async () => {
      const s = ctx.storage();
      await appendN(s, 'a1', 0, 5);
      await appendN(s, 'a2', 0, 2);
      const a2 = await s.loadSequencedReasoningChains('a2');
      const before = await chainCounts(s);
      expect(await s.trimReasoningChains('a1', 2)).toBe(3);
      expect((await s.loadReasoningChains('a1')).map((c) => c.n)).toEqual([3, 4]);
      expect(await chainCounts(s)).toEqual({ chains: before.chains - 3, agents: 2 });
      expect(await s.trimReasoningChains('a1', 2)).toBe(0);
      expect(await s.trimReasoningChains('a1', 10)).toBe(0);
      // Any safe integer is a valid keepLast, also past 32 bits.
      expect(await s.trimReasoningChains('a1', 2 ** 40)).toBe(0);
      expect(await s.trimReasoningChains('a1', Number.MAX_SAFE_INTEGER)).toBe(0);
      expect(await s.trimReasoningChains('nobody', 1)).toBe(0);
      expect(await s.loadSequencedReasoningChains('a2')).toEqual(a2);
      expect(await s.listAgents()).toEqual(['a1', 'a2']);
    });

    it('keepLast = 0 removes every chain like deleteReasoningChains: the agent is no longer listed', async () => {
      const s = ctx.storage();
      await appendN(s, 'a1', 0, 3);
      await appendN(s, 'a2', 0, 1);
      const last = (await s.loadSequencedReasoningChains('a1')).at(-1)!.sequence;
      expect(await s.trimReasoningChains('a1', 0)).toBe(3);
      expect(await s.loadReasoningChains('a1')).toEqual([]);
      expect(await s.listAgents()).toEqual(['a2']);
      expect(await chainCounts(s)).toEqual({ chains: 1, agents: 1 });
      await appendN(s, 'a1', 3, 4);
      const [fresh] = await s.loadSequencedReasoningChains('a1');
      expect(fresh!.sequence).toBeGreaterThan(last);
      expect(await s.listAgents()).toEqual(['a1', 'a2']);
    });

    it('refuses a bad keepLast or agent id before any I/O', async () => {
      const s = ctx.storage();
      await appendN(s, 'a1', 0, 3);
      for (const bad of [-1, 1.5, NaN, Infinity, '2', null, undefined, 2n, {}]) {
        await expect(s.trimReasoningChains('a1', bad as number)).rejects.toMatchObject({
          constructor: ValidationError,
          code: 'VALIDATION_ERROR',
          field: 'keepLast',
          message: expect.stringContaining('reasoning chains of "a1": '),
        });
      }
      await expect(s.trimReasoningChains('../x', 1)).rejects.toBeInstanceOf(InvalidIdError);
      await expect(s.loadReasoningChains('a1', 0)).rejects.toMatchObject({
        constructor: ValidationError,
        field: 'limit',
        message: expect.stringContaining('reasoning chains of "a1": '),
      });
      // Misspelt names too (until 2026-12-06 ignored: the whole list came back).
      const misspelt = [{ afterSeqence: 1 }, { limt: 1 }, { signal: AbortSignal.abort() }];
      for (const bad of [
        { limit: 0 },
        { limit: -2 },
        { afterSequence: 1.5 },
        { afterSequence: '3' },
        'x',
        ...misspelt,
      ]) {
        // Naming the agent (until 2026-12-06 a bad limit, window or keepLast named no record).
        await expect(s.loadSequencedReasoningChains('a1', bad as { limit: number })).rejects.toMatchObject({
          constructor: ValidationError,
          message: expect.stringContaining('reasoning chains of "a1": '),
        });
      }
      expect(await s.loadReasoningChains('a1')).toHaveLength(3);
    });
  });

  describe('maxReasoningChainsPerAgent', () => {
    it('each append keeps only the most recent chains of that agent', async () => {
      const store = await ctx.newStore();
      const s = await store.open({ maxReasoningChainsPerAgent: 3 });
      expect(s.maxReasoningChainsPerAgent).toBe(3);
      expect(ctx.storage().maxReasoningChainsPerAgent).toBeNull();
      await appendN(s, 'a1', 0, 5);
      await appendN(s, 'a2', 0, 2);
      const kept = await s.loadSequencedReasoningChains('a1');
      expect(ns(kept)).toEqual([2, 3, 4]);
      expectIncreasing(seqs(kept));
      await appendN(s, 'a1', 5, 6);
      const next = await s.loadSequencedReasoningChains('a1');
      expect(next.slice(0, 2)).toEqual(kept.slice(1));
      expect(ns(next)).toEqual([3, 4, 5]);
      expect((await s.loadReasoningChains('a2')).map((c) => c.n)).toEqual([0, 1]);
      expect(await chainCounts(s)).toEqual({ chains: 5, agents: 2 });
    });

    it('holds under concurrent appends (from several instances where the store is shared)', async () => {
      const store = await ctx.newStore();
      const first = await store.open({ maxReasoningChainsPerAgent: 4 });
      const instances = ctx.harness.sharedStore
        ? [first, await store.open({ maxReasoningChainsPerAgent: 4 })]
        : [first];
      await Promise.all(
        Array.from({ length: 16 }, (_, n) =>
          instances[n % instances.length]!.storeReasoningChain('a1', { n }),
        ),
      );
      const kept = await first.loadSequencedReasoningChains('a1');
      expect(kept).toHaveLength(4);
      expectIncreasing(seqs(kept));
      expect(await chainCounts(first)).toEqual({ chains: 4, agents: 1 });
      // The kept chains are the last four appended: one more append drops the oldest of them.
      await first.storeReasoningChain('a1', { n: 'last' });
      const after = await first.loadSequencedReasoningChains('a1');
      expect(after.slice(0, 3)).toEqual(kept.slice(1));
    });

    it('is refused unless a positive integer', async () => {
      for (const bad of [0, -1, 2.5, '3']) {
        const store = await ctx.newStore();
        await expect(store.open({ maxReasoningChainsPerAgent: bad })).rejects.toBeInstanceOf(ConfigError);
      }
      const store = await ctx.newStore();
      expect((await store.open({ maxReasoningChainsPerAgent: null })).maxReasoningChainsPerAgent).toBeNull();
    });
  });
}
