/**
 * The Redis index's append-only postings (index versions 3 and 4): a replace or delete only marks its
 * doc's entries dead, queries skip them (a dropped doc is never found, and document frequencies
 * leave them out), and the write that makes a token's dead entries more than half of its
 * string rewrites it with the live ones.
 */
import { describeWithService } from '../services.js';
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { searchDoc } from '../../src/backends/redis/search-writer.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';
import { tokenEntries } from './search-postings.js';

describeWithService('redis')('redis search postings: lazy deletes and compaction', () => {
  const ctx = useRedisStore();
  const memory = (id: string): string => searchDoc('memories', 'c1', id);
  const entries = (token: string) => tokenEntries(ctx.raw(), ctx.prefix(), token);

  /** Hits of a query as `memoryId score`, for both match modes and a scoped variant. */
  async function hits(s: RedisStorage, text: string): Promise<string[][]> {
    const runs = await Promise.all([
      s.search({ text, limit: 50 }),
      s.search({ text, match: 'all', limit: 50 }),
      s.search({ text, conversationId: 'c1', kinds: ['memories'], limit: 50 }),
    ]);
    return runs.map((run) => run.map((h) => `${h.kind === 'memories' ? h.memoryId : h.kind} ${h.score}`));
  }

  /** The dead-entry count of a token in its bucket (the memories of c1 share one bucket). */
  async function deadCount(token: string): Promise<number> {
    const keys = (await keysWithPrefix(ctx.raw(), ctx.prefix())).filter((k) => k.endsWith(':search-dead'));
    const counts = await Promise.all(keys.map((key) => ctx.raw().hget(key, token)));
    return counts.reduce((sum, c) => sum + Number(c ?? 0), 0);
  }

  it('a replaced or deleted doc is never found, before its dead entries are compacted away', async () => {
    const s = await ctx.open({ searchFields: { memories: ['text'] } });
    for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) await s.storeMemory('c1', id, { text: `walrus ${id}` });
    await s.storeMemory('c1', 'm1', { text: 'walrus seal seal' }); // a replace: m1 gets a new doc number
    await s.deleteMemory('c1', 'm2');
    // Both old entries are still in the string, dead (2 of 6: no compaction yet).
    const walrus = await entries('walrus');
    expect(walrus).toHaveLength(6);
    expect(walrus.filter((e) => !e.live)).toHaveLength(2);
    expect(walrus.filter((e) => e.live).map((e) => e.doc)).toEqual([3, 4, 5, 1].map((n) => memory(`m${n}`)));
    expect(await deadCount('walrus')).toBe(2);

    const found = await hits(s, 'walrus m2 seal');
    for (const run of found)
      expect(run.map((h) => h.split(' ')[0]).sort()).toEqual(expect.not.arrayContaining(['m2']));
    expect(found[0]!.map((h) => h.split(' ')[0])).toEqual(['m1', 'm3', 'm4', 'm5']);
    expect(found[1]).toEqual([]); // no live doc holds walrus, m2 and seal
    // The dead m2 entry matches two terms: were it ranked, it would take the only place.
    expect((await s.search({ text: 'walrus m2', limit: 1 })).map((h) => h.kind)).toEqual(['memories']);
    expect((await hits(s, 'walrus'))[1]!.map((h) => h.split(' ')[0]).sort()).toEqual([
      'm1',
      'm3',
      'm4',
      'm5',
    ]);
    // Scores as a rebuilt index (no dead entries at all) gives them: df leaves dead entries out.
    const before = await hits(s, 'walrus seal m3');
    expect(await s.reindex()).toBe(4);
    expect(await entries('walrus')).toHaveLength(4);
    expect(await hits(s, 'walrus seal m3')).toEqual(before);
  });

  it('a new doc is one search-docs field each way and no liveness bit; a drop sets its gone bit and removes both fields', async () => {
    const s = await ctx.open({ searchFields: { memories: ['text'] } });
    await s.storeMemories('c1', [
      { memoryId: 'm1', data: { text: 'puffin' } },
      { memoryId: 'm2', data: { text: 'puffin auk auk' } },
    ]);
    await s.storeMemory('c1', 'm3', { text: 'auk' });
    const raw = ctx.raw();
    const keys = await keysWithPrefix(raw, ctx.prefix());
    const docsKey = keys.find((k) => k.endsWith(':search-docs'))!;
    const base = docsKey.slice(0, -'search-docs'.length);
    // No bitmap at all while nothing was dropped (version 3 set a bit per new doc).
    expect(keys.filter((k) => /:search-(gone|live|nums)$/.test(k))).toEqual([]);
    expect(await raw.hgetall(docsKey)).toEqual({
      [memory('m1')]: '0 1 puffin 1',
      [memory('m2')]: '1 3 puffin 1 auk 2',
      [memory('m3')]: '2 1 auk 1',
      '0': memory('m1'),
      '1': memory('m2'),
      '2': memory('m3'),
    });

    await s.deleteMemory('c1', 'm2');
    expect(await raw.hgetall(docsKey)).toEqual({
      [memory('m1')]: '0 1 puffin 1',
      [memory('m3')]: '2 1 auk 1',
      '0': memory('m1'),
      '2': memory('m3'),
    });
    expect(await Promise.all([0, 1, 2].map((n) => raw.getbit(`${base}search-gone`, n)))).toEqual([0, 1, 0]);
    expect((await entries('auk')).map((e) => [e.num, e.live])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect((await hits(s, 'auk'))[0]!.map((h) => h.split(' ')[0])).toEqual(['m3']);
  });

  it('compacts a token once its dead entries pass half of it: dead entries go, live ones and results stay', async () => {
    const s = await ctx.open({ searchFields: { memories: ['text'] } });
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    await s.storeMemories(
      'c1',
      ids.map((id) => ({ memoryId: id, data: { text: `tern ${id}` } })),
    );
    await s.deleteMemory('c1', 'm1');
    await s.deleteMemory('c1', 'm2');
    await s.deleteMemory('c1', 'm3');
    expect((await entries('tern')).filter((e) => !e.live)).toHaveLength(3); // 3 of 6: not more than half
    const before = await hits(s, 'tern m5');
    expect(before[0]!.map((h) => h.split(' ')[0])).toEqual(['m5', 'm4', 'm6']);

    await s.storeMemory('c1', 'm4', { text: 'tern again' }); // a fourth dead entry: 4 of 7
    const tern = await entries('tern');
    expect(tern.every((e) => e.live)).toBe(true);
    expect(tern.map((e) => e.doc)).toEqual([memory('m5'), memory('m6'), memory('m4')]);
    expect(tern.map((e) => e.num)).toEqual([...tern.map((e) => e.num)].sort((a, b) => a - b));
    expect(await deadCount('tern')).toBe(0);
    const after = await hits(s, 'tern m5');
    expect(after[0]!.map((h) => h.split(' ')[0])).toEqual(['m5', 'm4', 'm6']);
    expect(after[1]).toEqual(before[1]);

    // A token whose docs are all gone loses its key.
    for (const id of ['m4', 'm5', 'm6']) await s.deleteMemory('c1', id);
    expect(await entries('tern')).toEqual([]);
    expect(await deadCount('tern')).toBe(0);
    expect(await s.search({ text: 'tern' })).toEqual([]);
  });
});
