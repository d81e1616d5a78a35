/**
 * The append tokens of a Redis chain append: a resent append lands once for at least an hour,
 * on the server's clock whatever the writers' clocks say, older tokens are pruned at least
 * every 64 chains (not on every append), and a refused append leaves the tokens it found as
 * they were.
 */
import { jest } from '@jest/globals';
import { APPEND_CHAINS } from '../../src/backends/redis/chains.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { runScript } from '../../src/backends/redis/scripts.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';

const HOUR = 60 * 60 * 1000;

describeWithService('redis')('redis chain append tokens', () => {
  const ctx = useRedisStore();

  /** Appends one chain under `token`; the first sequence, or -1 for a resend. */
  async function append(token: string, n = 0): Promise<number> {
    const k = new KeyLayout(ctx.prefix()).agent('a');
    const keys = [k.chains, k.chainAppends, k.agent, k.bucket.agents, k.bucket.counters];
    // ARGV: token, token TTL, agent id, chains to keep (-1: none), search flag ('0': index
    // off) and owner part, record count, records.
    const args = [token, HOUR, 'a', -1, '0', '1:a', 1, JSON.stringify({ n })];
    return Number(await runScript(ctx.raw(), APPEND_CHAINS, keys, args));
  }

  /** The server's clock (ms), which the tokens' scores follow. */
  async function serverNow(): Promise<number> {
    const [seconds, micros] = await ctx.raw().time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  it('keeps a token an hour through the pruning and drops older ones within 64 appends', async () => {
    const s = await ctx.open();
    const tokens = new KeyLayout(ctx.prefix()).agent('a').chainAppends;
    expect(await append('first', 0)).toBe(0);
    const now = await serverNow();
    // Tokens as earlier appends left them: ten over two hours old, one within its hour.
    for (let i = 0; i < 10; i += 1) await ctx.raw().zadd(tokens, now - 2 * HOUR, `old${i}`);
    await ctx.raw().zadd(tokens, now - HOUR + 60_000, 'recent');
    // Sequence numbers 1..70: the append of 63 crosses 64 and prunes what is older than an hour.
    for (let i = 1; i <= 70; i += 1) expect(await append(`t${i}`, i)).toBe(i);
    expect(await ctx.raw().zscore(tokens, 'old0')).toBeNull();
    expect(await ctx.raw().zcard(tokens)).toBe(72);
    // A resend within its hour, after the pruning, still lands once.
    expect(await append('recent', 99)).toBe(-1);
    expect(await append('t12', 99)).toBe(-1);
    expect(await s.loadReasoningChains('a')).toHaveLength(71);
    expect(await s.getStorageStats()).toMatchObject({ reasoning_chain_count: 71, agent_count: 1 });
    const ttl = await ctx.raw().pttl(tokens);
    expect(ttl).toBeGreaterThan(HOUR - 60_000);
  });

  it('bounds the tokens to the last hour plus 64 appends', async () => {
    await ctx.open();
    const tokens = new KeyLayout(ctx.prefix()).agent('a').chainAppends;
    expect(await append('first', 0)).toBe(0);
    const now = await serverNow();
    // Ten hours of earlier appends, one every 5 minutes: all but the last hour's are pruned.
    for (let i = 0; i < 120; i += 1) await ctx.raw().zadd(tokens, now - (120 - i) * 5 * 60_000, `e${i}`);
    let most = 0;
    for (let i = 1; i <= 64; i += 1) {
      expect(await append(`t${i}`, i)).toBe(i);
      most = Math.max(most, await ctx.raw().zcard(tokens));
    }
    expect(most).toBeLessThanOrEqual(121 + 64);
    expect(await ctx.raw().zcard(tokens)).toBeLessThanOrEqual(12 + 65);
  });

  it("keeps a slow-clocked writer's token its hour though another writer's clock is hours ahead", async () => {
    const tokens = new KeyLayout(ctx.prefix()).agent('a').chainAppends;
    const behind = await ctx.open();
    const ahead = await ctx.open();
    const realNow = Date.now.bind(Date);
    // The writer whose clock is two hours behind appends one chain...
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 2 * HOUR);
    try {
      await behind.storeReasoningChain('a', { n: 0 });
    } finally {
      clock.mockRestore();
    }
    const [token] = await ctx.raw().zrange(tokens, '0', '-1');
    // ...then the other writer appends past a multiple of 64, which prunes the tokens.
    for (let i = 1; i <= 64; i += 1) await ahead.storeReasoningChain('a', { n: i });
    // The first writer's resend a moment later still lands once.
    expect(await append(token ?? 'missing', 99)).toBe(-1);
    expect(await ahead.loadReasoningChains('a')).toHaveLength(65);
  });

  // The index on takes the guard's counters path, off the HINCRBYs first (bumpFirst).
  describe.each([true, false])('searchIndex %s', (searchIndex) => {
    it.each([
      ['chains', 'not a list', (key: string) => ctx.raw().set(key, 'not a list')],
      ['agent', 'a hash whose next is not an integer', (key: string) => ctx.raw().hset(key, 'next', 'x')],
    ] as const)('leaves the tokens as they were when the %s key is %s', async (name, _what, corrupt) => {
      const s = await ctx.open({ searchIndex });
      await s.storeReasoningChain('a', { n: 1 });
      const k = new KeyLayout(ctx.prefix()).agent('a');
      if (name === 'chains') await ctx.raw().del(k.chains);
      await corrupt(k[name]);
      const tokens = await ctx.raw().zrange(k.chainAppends, '0', '-1', 'WITHSCORES');
      const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
      const counters = await ctx.raw().hgetall(k.bucket.counters);
      const agents = await ctx.raw().zrange(k.bucket.agents, '0', '-1');
      await expect(s.storeReasoningChain('a', { n: 2 })).rejects.toBeInstanceOf(CorruptDataError);
      expect(await ctx.raw().zrange(k.chainAppends, '0', '-1', 'WITHSCORES')).toEqual(tokens);
      expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
      expect(await ctx.raw().hgetall(k.bucket.counters)).toEqual(counters);
      expect(await ctx.raw().zrange(k.bucket.agents, '0', '-1')).toEqual(agents);
    });

    it.each([
      ['a first append', false, (key: string) => ctx.raw().hset(key, 'bytes', 'x')],
      ['an append to listed chains', true, (key: string) => ctx.raw().hset(key, 'bytes', 'x')],
      ['an append to listed chains', true, (key: string) => ctx.raw().hset(key, 'search_rev', '1.5')],
    ] as const)('refuses %s whose counters are corrupt, writing nothing', async (_what, listed, corrupt) => {
      const s = await ctx.open({ searchIndex });
      const k = new KeyLayout(ctx.prefix()).agent('a');
      if (listed) await s.storeReasoningChain('a', { n: 1 });
      await corrupt(k.bucket.counters);
      const counters = await ctx.raw().hgetall(k.bucket.counters);
      const tokens = await ctx.raw().zrange(k.chainAppends, '0', '-1', 'WITHSCORES');
      const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
      const next = await ctx.raw().hget(k.agent, 'next');
      const error = await s.storeReasoningChain('a', { n: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain(`${k.bucket.counters} field`);
      expect(await ctx.raw().hgetall(k.bucket.counters)).toEqual(counters);
      expect(await ctx.raw().zrange(k.chainAppends, '0', '-1', 'WITHSCORES')).toEqual(tokens);
      expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
      expect(await ctx.raw().hget(k.agent, 'next')).toBe(next);
      expect(await ctx.raw().llen(k.chains)).toBe(listed ? 1 : 0);
    });

    it('refuses an append whose counters are not a hash, writing nothing', async () => {
      const s = await ctx.open({ searchIndex });
      const k = new KeyLayout(ctx.prefix()).agent('a');
      await ctx.raw().set(k.bucket.counters, 'not a hash');
      const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
      const error = await s.storeReasoningChain('a', { n: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain(`${k.bucket.counters} is a string, expected a hash`);
      expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
      expect(await ctx.raw().zrange(k.bucket.agents, '0', '-1')).toEqual([]);
    });
  });
});
