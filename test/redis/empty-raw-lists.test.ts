/**
 * An empty raw-message list is no stored data (the conformance suite checks the rule on every
 * backend). Here, what is Redis-specific: a store written before the rule keeps a count of 0
 * and the id in the any-kind index for such a list, and the id must not outlive its last
 * memory because of it.
 */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

describeWithService('redis')('redis: empty raw-message lists', () => {
  const ctx = useRedisStore();

  it('an id whose raw list a store before the rule kept as a count of 0 goes with its last memory', async () => {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'x' });
    // What a write of [] left before the rule: the count 0 in the meta hash, the id listed.
    const k = new KeyLayout(ctx.prefix()).conversation('c1');
    await ctx.raw().hset(k.meta, 'raw', 0, 'raw-bytes', 0);
    expect(await s.listAllConversationIds()).toEqual(['c1']);
    await s.deleteMemory('c1', 'm1');
    expect(await s.listAllConversationIds()).toEqual([]);
    expect(await s.loadRawMessages('c1')).toEqual([]);
    // The stale count goes with the next write of the list.
    await s.storeRawMessages('c1', []);
    expect(await ctx.raw().exists(k.meta)).toBe(0);
  });
});
