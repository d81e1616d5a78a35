/** Native cache expiry (PX), remaining TTL for migration, and index entries whose data is gone. */
import { parseTimestamp } from '../../src/core/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { sleep, useRedisStore } from './helpers.js';
import { describeWithService } from '../services.js';

describeWithService('redis')('redis cache expiry and index sets', () => {
  const ctx = useRedisStore();

  it('lets Redis expire a cache entry itself (PX): it vanishes without a purge', async () => {
    const s = await ctx.open();
    const key = new KeyLayout(ctx.prefix()).cache('short');
    // Real server time is the point here; a TTL of 1.5 s leaves the checks before expiry
    // that much margin on a loaded machine.
    await s.storeCacheEntry('short', { v: 1 }, 1.5);
    await s.storeCacheEntry('forever', { v: 2 });
    const pttl = await ctx.raw().pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1500);
    expect(await ctx.raw().pttl(new KeyLayout(ctx.prefix()).cache('forever'))).toBe(-1);
    expect(await s.listCacheKeys()).toEqual(['forever', 'short']);
    await sleep(1600);
    expect(await ctx.raw().exists(key)).toBe(0);
    expect(await s.loadCacheEntry('short')).toBeNull();
    expect(await s.listCacheKeys()).toEqual(['forever']);
    expect((await s.getStorageStats()).cache_entry_count).toBe(1);
  });

  it('reports the expiry through loadCacheRecord, so a copy keeps the remaining TTL', async () => {
    const s = await ctx.open();
    await s.storeCacheEntry('k', { v: 1 }, 3600);
    await sleep(50);
    const record = await s.loadCacheRecord('k');
    const remaining = (parseTimestamp(record?.expiresAt ?? '') ?? 0) - Date.now();
    // Margins of seconds against an hour: only a wrong expiry fails, not a slow machine.
    expect(remaining).toBeGreaterThan(3_590_000);
    expect(remaining).toBeLessThan(3_600_000);
    const pttl = await ctx.raw().pttl(new KeyLayout(ctx.prefix()).cache('k'));
    expect(Math.abs(pttl - remaining)).toBeLessThan(5_000);
  });

  it('skips index entries whose data is gone in listing and stats; purge cleans the cache ones', async () => {
    const s = await ctx.open();
    const { index } = new KeyLayout(ctx.prefix());
    const raw = ctx.raw();
    await s.storeConversation('real', { a: 1 });
    await s.storeReasoningChain('agent', { n: 1 });
    await s.storeCacheEntry('live', { v: 1 });
    await s.storeSystemState('state', { v: 1 });
    // Entries left behind by a writer that lost a race with a delete, or by native expiry.
    await raw.sadd(index.conversations, 'ghost');
    await raw.sadd(index.conversationIds, 'ghost', 'ghost-2');
    await raw.sadd(index.agents, 'ghost-agent');
    await raw.sadd(index.cacheKeys, 'ghost-1', 'ghost-2');
    await raw.sadd(index.stateKeys, 'ghost-state');
    expect(await s.listConversations()).toEqual(['real']);
    expect(await s.listAllConversationIds()).toEqual(['real']);
    expect(await s.listAgents()).toEqual(['agent']);
    expect(await s.listCacheKeys()).toEqual(['live']);
    expect(await s.listSystemStateKeys()).toEqual(['state']);
    expect(await s.getStorageStats()).toMatchObject({
      conversation_count: 1,
      agent_count: 1,
      reasoning_chain_count: 1,
      cache_entry_count: 1,
      system_state_count: 1,
    });
    expect(await s.purgeExpiredCache()).toBe(2);
    expect(await raw.smembers(index.cacheKeys)).toEqual(['live']);
    expect(await s.purgeExpiredCache()).toBe(0);
  });

  it('does not let loads write: an expired entry stays indexed until purged', async () => {
    const s = await ctx.open();
    const { index } = new KeyLayout(ctx.prefix());
    await s.storeCacheEntry('k', { v: 1 }, 0.05);
    await sleep(120);
    expect(await s.loadCacheEntry('k')).toBeNull();
    expect(await s.listCacheKeys()).toEqual([]);
    expect(await ctx.raw().sismember(index.cacheKeys, 'k')).toBe(1);
    expect(await s.purgeExpiredCache()).toBe(1);
    expect(await ctx.raw().sismember(index.cacheKeys, 'k')).toBe(0);
  });

  it('reports stored data that is not JSON as CorruptDataError naming the key', async () => {
    const s = await ctx.open();
    const key = new KeyLayout(ctx.prefix()).conversation('c1').conversation;
    await ctx.raw().set(key, '{not json');
    const error = await s.loadConversation('c1').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CORRUPT_DATA' });
    expect((error as Error).message).toContain(key);
  });

  it('counts each stale cache index entry once when several clients purge at once', async () => {
    const clients = await Promise.all([ctx.open(), ctx.open(), ctx.open()]);
    const stale = Array.from({ length: 60 }, (_, i) => `gone-${i}`);
    await ctx.raw().sadd(new KeyLayout(ctx.prefix()).index.cacheKeys, ...stale);
    const counts = await Promise.all(clients.map((s) => s.purgeExpiredCache()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(stale.length);
  });
});
