/**
 * A failed Redis call names the call and its record (`store cache entry "k"`). The hot single
 * calls build that name only when the call fails (2026-12-05: quoting ids was a measurable part
 * of their client CPU); these failures, a value key of another type, check it is still built.
 */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

describeWithService('redis')('redis call names in failures', () => {
  const ctx = useRedisStore();

  it('names the call and the record of a single cache, conversation or memory call that fails', async () => {
    const s = await ctx.open({ searchIndex: false });
    const layout = new KeyLayout(ctx.prefix());
    const cacheKey = layout.cache('k "1"').key;
    const conversation = layout.conversation('c1');
    for (const key of [cacheKey, conversation.conversation, conversation.memoryData]) {
      await ctx.raw().rpush(key, 'not what the store wrote');
    }
    const failures: Array<[() => Promise<unknown>, string]> = [
      [() => s.storeCacheEntry('k "1"', { v: 1 }, 60), 'store cache entry "k \\"1\\""'],
      [() => s.loadCacheEntry('k "1"'), 'load cache entry "k \\"1\\""'],
      [() => s.storeConversation('c1', { v: 1 }), 'store conversation "c1"'],
      [() => s.loadConversation('c1'), 'load conversation "c1"'],
      [() => s.storeMemory('c1', 'm1', { v: 1 }), 'store memory "m1" of "c1"'],
    ];
    for (const [call, name] of failures) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain(`${name}: WRONGTYPE`);
    }
  });

  it('names a failed chain append as the call made: one chain stored, or a batch appended', async () => {
    const s = await ctx.open({ searchIndex: false });
    await ctx.raw().set(new KeyLayout(ctx.prefix()).agent('a1').chains, 'not a list');
    const single = await s.storeReasoningChain('a1', { t: 1 }).catch((e: unknown) => e);
    expect((single as Error).message).toContain('store reasoning chain of "a1": ');
    const batch = await s.appendReasoningChains('a1', [{ t: 1 }, { t: 2 }]).catch((e: unknown) => e);
    expect(batch).toBeInstanceOf(CorruptDataError);
    // It said "store reasoning chain of" until 2026-12-05.
    expect((batch as Error).message).toContain('append 2 reasoning chains of "a1": ');
  });
});
