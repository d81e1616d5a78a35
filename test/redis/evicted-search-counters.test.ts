/**
 * A bucket's counters hash evicted (an `allkeys-*` policy) while its search index survived:
 * `search_next` is gone, so the next doc numbers would start at 0 again, over numbers the
 * postings hold. A search that finds the bucket so marks it stale and scans it, a write's first
 * doc number there marks it stale too, and the next writable open rebuilds it. Until
 * 2026-12-06 the records stored before were found by no search until `reindex()`.
 */
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

/** The ids of the memories a search for `text` finds. */
async function found(s: RedisStorage, text: string): Promise<string[]> {
  const hits = await s.search({ text, kinds: ['memories'] });
  return hits.map((h) => (h.kind === 'memories' ? h.memoryId : h.kind)).sort();
}

/** Writes of new docs into the bucket: the fast new-memory path, a batch, raw messages. */
const WRITES: ReadonlyArray<[string, (s: RedisStorage) => Promise<unknown>]> = [
  ['a new memory', (s) => s.storeMemory('c1', 'm3', { text: 'zebra' })],
  ['a memory batch', (s) => s.storeMemories('c1', [{ memoryId: 'm3', data: { text: 'zebra' } }])],
  ['raw messages', (s) => s.storeRawMessages('c1', [{ text: 'zebra raw' }])],
];

describeWithService('redis')('redis search after its counters hash was evicted', () => {
  const ctx = useRedisStore();

  /** A store with two memories in c1, then c1's bucket's counters hash deleted. */
  async function evicted(): Promise<{ s: RedisStorage; counters: string }> {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'apple banana' });
    await s.storeMemory('c1', 'm2', { text: 'cherry durian' });
    const { counters } = new KeyLayout(ctx.prefix()).conversation('c1').bucket;
    await ctx.raw().del(counters);
    return { s, counters };
  }

  it('a search finds what was stored, and marks the bucket stale', async () => {
    const { s, counters } = await evicted();
    expect(await found(s, 'apple')).toEqual(['m1']);
    expect(await ctx.raw().hget(counters, 'search_stale')).toBe('1');
  });

  it.each(WRITES)(
    'after %s, searches find old and new docs; a writable open rebuilds',
    async (_name, write) => {
      const { s, counters } = await evicted();
      await write(s);
      await s.storeMemory('c1', 'm4', { text: 'yak' });
      expect(await ctx.raw().hget(counters, 'search_stale')).toBe('1');
      expect(await found(s, 'apple')).toEqual(['m1']);
      expect(await found(s, 'cherry')).toEqual(['m2']);
      expect(await found(s, 'yak')).toEqual(['m4']);
      await s.shutdown();

      const reopened = await ctx.open();
      expect(await ctx.raw().hget(counters, 'search_stale')).toBeNull();
      expect(await found(reopened, 'apple')).toEqual(['m1']);
      expect(await found(reopened, 'cherry')).toEqual(['m2']);
      expect(await found(reopened, 'yak')).toEqual(['m4']);
    },
  );
});
