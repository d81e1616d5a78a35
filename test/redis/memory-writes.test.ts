/**
 * The single Redis memory upsert: a new memory with the index off takes the fast path (no TYPE,
 * counters bumped first, failures taken back), replaces and the index on the guard path. Both
 * must keep the counters exact and write nothing when a key has the wrong type or a counter
 * the write bumps is corrupt.
 */
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout, type ConversationKeys } from '../../src/backends/redis/keys.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';

/**
 * What the conversation holds before the write of memory m1: nothing; another memory (the
 * conversation is listed already: the fast path's `ZADD NX` adds nothing); a created_at left
 * from a lost m1 (its `HSETNX` adds nothing); m1 itself (a replace: the guard path).
 */
const BEFORE = ['none', 'other', 'leftover', 'same'] as const;
type Before = (typeof BEFORE)[number];

describeWithService('redis')('redis single memory writes', () => {
  const ctx = useRedisStore();

  const layout = (): ConversationKeys => new KeyLayout(ctx.prefix()).conversation('c');

  async function prepare(s: RedisStorage, before: Before): Promise<void> {
    if (before === 'other') await s.storeMemory('c', 'm0', { v: 0 });
    if (before === 'same') await s.storeMemory('c', 'm1', { v: 1 });
    if (before === 'leftover')
      await ctx.raw().hset(layout().memoryCreated, 'm1', JSON.stringify('2000-01-01'));
  }

  /** Every key of the test prefix with its DUMP, to compare before and after a refused write. */
  async function snapshot(): Promise<Array<[string, Buffer | null]>> {
    const keys = await keysWithPrefix(ctx.raw(), ctx.prefix());
    return Promise.all(
      keys.map(async (key) => [key, await ctx.raw().dumpBuffer(key)] as [string, Buffer | null]),
    );
  }

  it.each(['single', 'batch'])(
    'drops the doc of a stored empty value when it is replaced, %s write',
    async (how) => {
      const s = await ctx.open({ searchIndex: true });
      await s.storeMemory('c', 'm1', { text: 'xylophone' });
      await ctx.raw().hset(layout().memoryData, 'm1', '');
      if (how === 'single') await s.storeMemory('c', 'm1', { text: 'zither' });
      else await s.storeMemories('c', [{ memoryId: 'm1', data: { text: 'zither' } }]);
      expect(await s.search({ text: 'xylophone' })).toEqual([]);
      expect(await s.search({ text: 'zither' })).toMatchObject([{ kind: 'memories', memoryId: 'm1' }]);
      // One doc left in the index (its name and its number), its first number marked gone.
      expect(await ctx.raw().hlen(layout().bucket.searchDocs)).toBe(2);
      expect(await ctx.raw().hget(layout().bucket.counters, 'search_docs')).toBe('1');
    },
  );

  it("numbers a new memory's doc after batches and counts it as a rebuild does", async () => {
    const s = await ctx.open({ searchIndex: true });
    const k = layout();
    await ctx.raw().hdel(k.bucket.counters, 'search_stale');
    const counters = (): Promise<Array<string | null>> =>
      ctx.raw().hmget(k.bucket.counters, 'search_docs', 'search_tokens', 'search_next');
    await s.storeMemory('c', 'm1', { text: 'alpha beta beta' });
    await s.storeMemories('c', [
      { memoryId: 'm2', data: { text: 'beta gamma' } },
      { memoryId: 'm3', data: { text: 'gamma' } },
    ]);
    await s.storeMemory('c', 'm4', { text: 'alpha delta' });
    await s.storeMemory('c', 'm1', { text: 'epsilon' });
    const ids = async (text: string): Promise<string[]> =>
      (await s.search({ text })).map((hit) => (hit.kind === 'memories' ? hit.memoryId : '?')).sort();
    expect(await ids('alpha')).toEqual(['m4']);
    expect(await ids('gamma')).toEqual(['m2', 'm3']);
    expect(await ids('epsilon beta')).toEqual(['m1', 'm2']);
    const written = await counters();
    // Five docs numbered 0-4 (m1's first one dropped by its replace), four live.
    expect(written[2]).toBe('5');
    await s.reindex();
    expect((await counters()).slice(0, 2)).toEqual(written.slice(0, 2));
  });

  describe.each([true, false])('searchIndex %s', (searchIndex) => {
    it('counts new and replaced memories exactly and keeps position and created_at', async () => {
      const s = await ctx.open({ searchIndex });
      const k = layout();
      // A bucket an index-on writer left (an index-off open may have marked every bucket already).
      await ctx.raw().hdel(k.bucket.counters, 'search_stale');
      const rev = Number((await ctx.raw().hget(k.bucket.counters, 'search_rev')) ?? '0');
      await s.storeMemory('c', 'm1', { v: 'one', created_at: '2020-01-01T00:00:00.000Z' });
      // A new memory with the index off marks the bucket stale (a replace would too).
      expect(await ctx.raw().hget(k.bucket.counters, 'search_stale')).toBe(searchIndex ? null : '1');
      await s.storeMemory('c', 'm2', { v: 'two' });
      await s.storeMemory('c', 'm1', { v: 'one, longer' });
      await s.storeMemory('c', 'm3', { v: 3 });
      const memories = await s.loadMemories('c');
      expect(memories.map((m) => m.v)).toEqual(['one, longer', 'two', 3]);
      expect(memories[0]!.created_at).toBe('2020-01-01T00:00:00.000Z');
      const data = await ctx.raw().hvals(k.memoryData);
      const bytes = data.reduce((sum, json) => sum + Buffer.byteLength(json), 0);
      const stats = await s.getStorageStats();
      expect(stats.memory_count).toBe(3);
      expect(stats.total_bytes).toBe(bytes);
      expect(await ctx.raw().zrange(k.bucket.conversationIds, '0', '-1')).toEqual(['c']);
      // Every searchable write bumps search_rev, index on or off.
      expect(Number(await ctx.raw().hget(k.bucket.counters, 'search_rev'))).toBe(rev + 4);
    });

    it('writes an explicit created_at over one left from a lost memory, and keeps it otherwise', async () => {
      const s = await ctx.open({ searchIndex });
      const k = layout();
      await ctx.raw().hset(k.memoryCreated, 'm1', JSON.stringify('2000-01-01T00:00:00.000Z'));
      await ctx.raw().hset(k.memoryCreated, 'm2', JSON.stringify('2000-01-01T00:00:00.000Z'));
      await s.storeMemory('c', 'm1', { v: 1, created_at: '2021-01-01T00:00:00.000Z' });
      await s.storeMemory('c', 'm2', { v: 2 });
      const memories = await s.loadMemories('c');
      expect(memories.map((m) => m.created_at)).toEqual([
        '2021-01-01T00:00:00.000Z',
        '2000-01-01T00:00:00.000Z',
      ]);
      expect((await s.getStorageStats()).memory_count).toBe(2);
    });

    it('lists once an id stored again after its data hash was lost, counting it once', async () => {
      const s = await ctx.open({ searchIndex });
      const k = layout();
      await s.storeMemory('c', 'm1', { v: 0 });
      const lost = Buffer.byteLength((await ctx.raw().hget(k.memoryData, 'm1'))!);
      // As an eviction would: the data hash goes, its id list stays. (Before 2026-12-03 the
      // write appended the id again: listed twice, counted twice.)
      await ctx.raw().del(k.memoryData);
      await s.storeMemory('c', 'm1', { v: 1 });
      expect(await ctx.raw().lrange(k.memories, 0, -1)).toEqual(['m1']);
      const stats = await s.getStorageStats();
      expect(stats.memory_count).toBe(1);
      // The lost memory's bytes stay counted: they were in the evicted hash (README, redis).
      expect(stats.total_bytes).toBe(lost + Buffer.byteLength((await ctx.raw().hget(k.memoryData, 'm1'))!));
    });

    it.each(['single', 'batch'])(
      'takes a stored empty value (a hand edit) as a replace, %s write: counted once, listed once',
      async (how) => {
        const s = await ctx.open({ searchIndex });
        const k = layout();
        await s.storeMemory('c', 'm1', { v: 1, created_at: '2020-01-01T00:00:00.000Z' });
        await ctx.raw().hset(k.memoryData, 'm1', '');
        const bytes = Number(await ctx.raw().hget(k.bucket.counters, 'bytes'));
        if (how === 'single') await s.storeMemory('c', 'm1', { v: 2 });
        else await s.storeMemories('c', [{ memoryId: 'm1', data: { v: 2 } }]);
        const json = (await ctx.raw().hget(k.memoryData, 'm1'))!;
        expect(await ctx.raw().lrange(k.memories, 0, -1)).toEqual(['m1']);
        const memories = await s.loadMemories('c');
        expect(memories.map((m) => [m.v, m.created_at])).toEqual([[2, '2020-01-01T00:00:00.000Z']]);
        const stats = await s.getStorageStats();
        expect(stats.memory_count).toBe(1);
        // As a replace: the stored value's 0 bytes are taken off (the hand edit left the counter).
        expect(stats.total_bytes).toBe(bytes + Buffer.byteLength(json));
      },
    );

    const names = ['memories', 'memoryData', 'memoryCreated', 'conversationIds', 'counters'] as const;
    it.each(BEFORE.flatMap((before) => names.map((name) => [name, before] as const)))(
      'refuses a memory when the %s key has the wrong type (before: %s), writing nothing',
      async (name, before) => {
        const s = await ctx.open({ searchIndex });
        const k = layout();
        await prepare(s, before);
        const key = name === 'conversationIds' || name === 'counters' ? k.bucket[name] : k[name];
        await ctx.raw().del(key);
        await ctx.raw().set(key, 'wrong type');
        const was = await snapshot();
        const error = await s.storeMemory('c', 'm1', { v: 2 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(CorruptDataError);
        expect((error as Error).message).toContain(`${key} is a string`);
        expect(await snapshot()).toEqual(was);
      },
    );

    // With the index on, the doc's counters too (the fast path reads them with the stale mark).
    const bumped = ['memories', 'bytes', 'search_rev'].concat(
      searchIndex ? ['search_next', 'search_docs', 'search_tokens'] : [],
    );
    it.each(BEFORE.flatMap((before) => bumped.map((field) => [field, before] as const)))(
      'refuses a memory whose counter %s is corrupt (before: %s), writing nothing',
      async (field, before) => {
        const s = await ctx.open({ searchIndex });
        const k = layout();
        await prepare(s, before);
        await ctx.raw().hset(k.bucket.counters, field, 'x');
        const was = await snapshot();
        const error = await s.storeMemory('c', 'm1', { v: 2 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(CorruptDataError);
        expect((error as Error).message).toContain(`${k.bucket.counters} field ${field} is not an integer`);
        expect(await snapshot()).toEqual(was);
      },
    );
  });
});
