/**
 * A wrong-typed posting key (`{b:NN}:q:<token>`) of a token that no doc of its bucket holds:
 * the first search meeting it marks the bucket stale and scans, the next writable open's
 * rebuild notes the token as held by no doc (`search-unheld`), and from then on searches read
 * the bucket's index as if the token had no postings there: no stale mark, so no rebuild at
 * every open. The key itself is never removed (it may be anything a user put there).
 */
import type { RedisStorage, RedisStorageConfig } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import type { SearchQuery } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { eventText, recordingLogger, type LoggedEvent } from '../support/recording-logger.js';
import { useRedisStore } from './helpers.js';

describeWithService('redis')('redis search index: wrong-typed postings of tokens no doc holds', () => {
  const ctx = useRedisStore();

  const ids = async (s: RedisStorage, query: SearchQuery): Promise<string[]> =>
    (await s.search(query)).map((hit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind)).sort();

  /** A writable store whose log events land in `events`. */
  async function openLogged(config: RedisStorageConfig = {}) {
    const { logger, events } = recordingLogger();
    return { s: await ctx.open({ ...config, logger }), events };
  }

  const rebuilds = (events: LoggedEvent[]) => events.filter((e) => e.level === 'warn').map(eventText);

  it('is noted by the rebuild, so searches no longer mark the bucket stale and opens rebuild nothing', async () => {
    const first = await ctx.open();
    await first.storeMemory('c', 'm0', { text: 'walrus gannet' });
    const { bucket } = new KeyLayout(ctx.prefix()).conversation('c');
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().hset(bad, 'user', 'data');
    // The first search meets it: scans, marks the bucket stale.
    expect(await ids(first, { text: 'puffin walrus' })).toEqual(['m0']);
    expect(await ctx.raw().hget(bucket.counters, 'search_stale')).toBe('1');
    await first.shutdown();

    // The next writable open rebuilds the bucket and notes puffin as held by no doc.
    const { s: second, events } = await openLogged();
    expect(await ctx.raw().hget(bucket.counters, 'search_stale')).toBeNull();
    const rev = await ctx.raw().hget(bucket.counters, 'search_rev');
    for (const query of [
      { text: 'puffin walrus' },
      { text: 'puffin' },
      { text: 'puffin walrus', match: 'all' as const },
      { text: 'walrus puffin', kinds: ['memories' as const], conversationId: 'c' },
    ]) {
      expect(await ids(second, query)).toEqual(query.text === 'puffin' || query.match ? [] : ['m0']);
    }
    expect(await ctx.raw().hget(bucket.counters, 'search_stale')).toBeNull();
    expect(rebuilds(events)).toEqual([]);
    await second.shutdown();

    // Another open finds nothing stale: the bucket is not rebuilt (its rev did not move).
    const third = await ctx.open();
    expect(await ctx.raw().hget(bucket.counters, 'search_rev')).toBe(rev);
    expect(await ids(third, { text: 'puffin walrus' })).toEqual(['m0']);
    // Nothing the user put there was removed.
    expect(await ctx.raw().hgetall(bad)).toEqual({ user: 'data' });
  });

  it('a token that a doc holds again is found once its key is a posting string again', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus' });
    const { bucket } = new KeyLayout(ctx.prefix()).conversation('c');
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().sadd(bad, 'x');
    expect(await ids(s, { text: 'puffin' })).toEqual([]);
    expect(await s.reindex()).toBe(1);
    expect(await ids(s, { text: 'puffin' })).toEqual([]);
    // A write holding the token is refused while the key is of the wrong type (as before).
    await expect(s.storeMemory('c', 'm1', { text: 'puffin' })).rejects.toThrow(bad);
    await ctx.raw().del(bad);
    await s.storeMemory('c', 'm1', { text: 'puffin' });
    expect(await ids(s, { text: 'puffin' })).toEqual(['m1']);
    // The next build forgets the token (its key is a posting string now).
    await s.reindex();
    expect(await ctx.raw().exists(`${bucket.base}search-unheld`)).toBe(0);
    expect(await ids(s, { text: 'puffin walrus' })).toEqual(['m0', 'm1']);
  });
});
