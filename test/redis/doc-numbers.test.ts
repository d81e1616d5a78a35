/**
 * Search doc numbers on Redis: a new memory or a chain append with the index on numbers its
 * docs from the counters it reads itself (no guard), the guarded writes (replaces, trims,
 * batches of memories) from the guard's. Both must continue one sequence in a bucket, or two
 * docs share a number and a posting names the wrong record.
 */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

describeWithService('redis')('redis search doc numbers', () => {
  const ctx = useRedisStore();

  it('numbers chain docs after trimming appends and counts them as a rebuild does', async () => {
    // No limit: appends read their doc counters; a limit of 10: the guard path (a trim may drop docs).
    const s = await ctx.open();
    const limited = await ctx.open({ maxReasoningChainsPerAgent: 10 });
    const { bucket } = new KeyLayout(ctx.prefix()).agent('a');
    await s.storeReasoningChain('a', { text: 'alpha' });
    await s.appendReasoningChains('a', [{ text: 'beta' }, { text: 'gamma' }]);
    await limited.storeReasoningChain('a', { text: 'delta' });
    await s.storeReasoningChain('a', { text: 'epsilon alpha' });
    await limited.appendReasoningChains('a', [{ text: 'zeta' }]);
    await s.appendReasoningChains('a', [{ text: 'eta beta' }, { text: 'theta' }]);
    const sequences = async (text: string): Promise<number[]> =>
      (await s.search({ text })).map((hit) => (hit.kind === 'reasoning_chains' ? hit.sequence : -1)).sort();
    expect(await sequences('alpha')).toEqual([0, 4]);
    expect(await sequences('beta')).toEqual([1, 6]);
    expect(await sequences('gamma delta')).toEqual([2, 3]);
    expect(await sequences('zeta theta')).toEqual([5, 7]);
    const counters = (): Promise<Array<string | null>> =>
      ctx.raw().hmget(bucket.counters, 'search_docs', 'search_tokens', 'search_next');
    const written = await counters();
    expect(written[2]).toBe('8');
    await s.reindex();
    expect((await counters()).slice(0, 2)).toEqual(written.slice(0, 2));
  });
});
