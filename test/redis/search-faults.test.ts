/**
 * A wrong-typed search index key (`{b:NN}:q:<token>`, `search-docs`, `search-gone`,
 * `search-dead`) is not asked its TYPE: a write script runs its index phase before its first
 * record write, so the failure is a CorruptDataError naming the bucket and the key, nothing else
 * is written, and the bucket is marked stale (searches scan it), so its records are still found.
 */
import type { RedisStorage, RedisStorageConfig } from '../../src/backends/redis/index.js';
import { KeyLayout, type BucketKeys } from '../../src/backends/redis/keys.js';
import { CorruptDataError, type SearchQuery } from '../../src/core/index.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';
import { describeWithService } from '../services.js';

const INDEX_KEY = /\}:(q:.*|search-docs|search-gone|search-dead|search-unheld)$/;

describeWithService('redis')('redis search index faults', () => {
  const ctx = useRedisStore();
  const layout = (): KeyLayout => new KeyLayout(ctx.prefix());

  /** Every key of the store but the search index's, by content (the counters without the stale mark and rev). */
  async function records(): Promise<Record<string, unknown>> {
    const raw = ctx.raw();
    const out: Record<string, unknown> = {};
    for (const key of (await keysWithPrefix(raw, ctx.prefix())).sort()) {
      if (INDEX_KEY.test(key)) continue;
      const type = await raw.type(key);
      if (type === 'string') out[key] = await raw.get(key);
      else if (type === 'list') out[key] = await raw.lrange(key, '0', '-1');
      else if (type === 'zset') out[key] = await raw.zrange(key, '0', '-1', 'WITHSCORES');
      else if (type === 'hash') {
        // The stale mark may create a bucket's counters: a hash of only those two is none.
        const fields = await raw.hgetall(key);
        delete fields.search_stale;
        delete fields.search_rev;
        if (Object.keys(fields).length > 0) out[key] = fields;
      } else out[key] = type;
    }
    return out;
  }

  /** `getStorageStats()` without its timestamp. */
  async function stats(s: RedisStorage): Promise<Record<string, unknown>> {
    const all: Record<string, unknown> = { ...(await s.getStorageStats()) };
    delete all.timestamp;
    return all;
  }

  /**
   * Runs `write` against a bucket whose `badKey` has the wrong type: it must fail with a
   * CorruptDataError naming the bucket and the key, change no record, list or counter, and
   * mark the bucket stale. The bad key is deleted afterwards.
   */
  async function expectRefused(
    s: RedisStorage,
    bucket: BucketKeys,
    badKey: string,
    write: () => Promise<unknown>,
  ): Promise<void> {
    const before = await records();
    const statsBefore = await stats(s);
    const error = await write().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`search index of ${bucket.base}`);
    expect((error as Error).message).toContain(badKey);
    expect(await records()).toEqual(before);
    expect(await stats(s)).toEqual(statsBefore);
    expect(await ctx.raw().hget(bucket.counters, 'search_stale')).toBe('1');
    await ctx.raw().del(badKey);
  }

  /** What a search finds, sorted: memory ids, chain sequences, message indexes, conversation ids. */
  async function found(s: RedisStorage, text: string): Promise<Array<string | number>> {
    const kinds = ['raw_messages', 'memories', 'reasoning_chains', 'conversations'] as const;
    const ids = (await s.search({ text, kinds })).map((hit) =>
      hit.kind === 'memories'
        ? hit.memoryId
        : hit.kind === 'reasoning_chains'
          ? hit.sequence
          : hit.kind === 'raw_messages'
            ? hit.messageIndex
            : hit.conversationId,
    );
    return ids.sort((x, y) => String(x).localeCompare(String(y)));
  }

  it('a memory batch: nothing written, the replaced memory still found', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus' });
    const { bucket } = layout().conversation('c');
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().hset(bad, 'f', 'v');
    await expectRefused(s, bucket, bad, () =>
      s.storeMemories('c', [
        { memoryId: 'm1', data: { text: 'puffin' } },
        { memoryId: 'm0', data: { text: 'gannet' } },
      ]),
    );
    expect(await found(s, 'walrus')).toEqual(['m0']);
    expect(await found(s, 'puffin gannet')).toEqual([]);
    await s.storeMemories('c', [
      { memoryId: 'm1', data: { text: 'puffin' } },
      { memoryId: 'm0', data: { text: 'gannet' } },
    ]);
    expect(await found(s, 'walrus')).toEqual([]);
    expect(await found(s, 'puffin gannet')).toEqual(['m0', 'm1']);
    expect(await s.getStorageStats()).toMatchObject({ memory_count: 2 });
  });

  it('a single memory: nothing written, the replaced memory still found', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus' });
    const { bucket } = layout().conversation('c');
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().rpush(bad, 'x');
    await expectRefused(s, bucket, bad, () => s.storeMemory('c', 'm0', { text: 'puffin' }));
    expect(await found(s, 'walrus')).toEqual(['m0']);
    await s.storeMemory('c', 'm0', { text: 'puffin' });
    expect(await found(s, 'walrus')).toEqual([]);
    expect(await found(s, 'puffin')).toEqual(['m0']);
  });

  it('a new single memory: nothing written, its doc number not taken', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus' });
    const { bucket } = layout().conversation('c');
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().rpush(bad, 'x');
    await expectRefused(s, bucket, bad, () => s.storeMemory('c', 'm1', { text: 'auk puffin' }));
    expect(await found(s, 'walrus')).toEqual(['m0']);
    expect(await found(s, 'auk')).toEqual([]);
    await s.storeMemory('c', 'm1', { text: 'auk puffin' });
    expect(await found(s, 'auk puffin')).toEqual(['m1']);
    expect(await s.getStorageStats()).toMatchObject({ memory_count: 2 });
  });

  it('a chain append: nothing written, next and the agent index as they were', async () => {
    const s = await ctx.open();
    await s.storeReasoningChain('a', { step: 'walrus' });
    const k = layout().agent('a');
    const bad = `${k.bucket.base}q:puffin`;
    await ctx.raw().hset(bad, 'f', 'v');
    await expectRefused(s, k.bucket, bad, () =>
      s.appendReasoningChains('a', [{ step: 'gannet' }, { step: 'puffin' }]),
    );
    expect(await ctx.raw().hget(k.agent, 'next')).toBe('1');
    expect(await found(s, 'walrus')).toEqual([0]);
    expect(await found(s, 'gannet puffin')).toEqual([]);
    await s.appendReasoningChains('a', [{ step: 'gannet' }, { step: 'puffin' }]);
    expect((await s.loadSequencedReasoningChains('a')).map((c) => c.sequence)).toEqual([0, 1, 2]);
    expect(await found(s, 'gannet puffin')).toEqual([1, 2]);
  });

  it('a first chain append of a new agent: next and the agent index are taken back', async () => {
    const s = await ctx.open();
    const k = layout().agent('a');
    const bad = `${k.bucket.base}q:puffin`;
    await ctx.raw().hset(bad, 'f', 'v');
    await expectRefused(s, k.bucket, bad, () => s.storeReasoningChain('a', { step: 'puffin' }));
    expect(await ctx.raw().exists(k.agent)).toBe(0);
    expect(await s.listAgents()).toEqual([]);
  });

  it('a chain append that trims (maxReasoningChainsPerAgent): nothing written, the trimmed chain still found', async () => {
    const s = await ctx.open({ maxReasoningChainsPerAgent: 2 });
    await s.appendReasoningChains('a', [{ step: 'walrus' }, { step: 'gannet' }]);
    const k = layout().agent('a');
    // The new chain's doc is written; dropping the trimmed one's fails on its dead counts.
    const bad = `${k.bucket.base}search-dead`;
    await ctx.raw().set(bad, 'not a hash');
    await expectRefused(s, k.bucket, bad, () => s.storeReasoningChain('a', { step: 'puffin' }));
    expect(await found(s, 'walrus gannet puffin')).toEqual([0, 1]);
    await s.storeReasoningChain('a', { step: 'puffin' });
    expect(await found(s, 'walrus gannet puffin')).toEqual([1, 2]);
    expect(await s.getStorageStats()).toMatchObject({ reasoning_chain_count: 2, agent_count: 1 });
  });

  it('a raw-message list: nothing written, the replaced message still found', async () => {
    const s = await ctx.open();
    await s.storeRawMessages('c', ['walrus', 'gannet']);
    const { bucket } = layout().conversation('c');
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().hset(bad, 'f', 'v');
    await expectRefused(s, bucket, bad, () => s.storeRawMessages('c', ['walrus', 'puffin']));
    expect(await found(s, 'gannet')).toEqual([1]);
    await s.storeRawMessages('c', ['walrus', 'puffin']);
    expect(await found(s, 'gannet')).toEqual([]);
    expect(await found(s, 'walrus puffin')).toEqual([0, 1]);
  });

  it('a conversation write, new or replaced: nothing written, its index entries taken back', async () => {
    const s = await ctx.open();
    await s.storeConversation('c', { title: 'walrus' });
    const { bucket } = layout().conversation('c');
    let other = 0;
    while (layout().conversation(`n${other}`).bucket.base !== bucket.base) other += 1;
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().hset(bad, 'f', 'v');
    await expectRefused(s, bucket, bad, () => s.storeConversation('c', { title: 'puffin' }));
    await ctx.raw().hset(bad, 'f', 'v');
    await expectRefused(s, bucket, bad, () => s.storeConversation(`n${other}`, { title: 'puffin' }));
    expect(await s.listAllConversationIds()).toEqual(['c']);
    expect(await found(s, 'walrus')).toEqual(['c']);
    await s.storeConversation('c', { title: 'puffin' });
    expect(await found(s, 'walrus')).toEqual([]);
    expect(await found(s, 'puffin')).toEqual(['c']);
  });

  it('deletes and trims: nothing removed, the records still found', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus' });
    await s.storeRawMessages('c', ['walrus']);
    await s.appendReasoningChains('a', [{ step: 'walrus' }, { step: 'walrus' }]);
    const c = layout().conversation('c').bucket;
    const a = layout().agent('a').bucket;
    for (const [bucket, remove] of [
      [c, () => s.deleteMemory('c', 'm0')],
      [c, () => s.deleteConversation('c')],
      [a, () => s.deleteReasoningChains('a')],
      [a, () => s.trimReasoningChains('a', 1)],
    ] as const) {
      const bad = `${bucket.base}search-dead`;
      await ctx.raw().set(bad, 'not a hash');
      await expectRefused(s, bucket, bad, remove);
    }
    expect((await s.search({ text: 'walrus' })).map((hit) => hit.kind).sort()).toEqual([
      'memories',
      'raw_messages',
      'reasoning_chains',
      'reasoning_chains',
    ]);
  });

  it('the next writable open rebuilds a bucket the failure marked stale', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus' });
    const { bucket } = layout().conversation('c');
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().hset(bad, 'f', 'v');
    await expectRefused(s, bucket, bad, () => s.storeMemory('c', 'm0', { text: 'puffin' }));
    await s.shutdown();
    const reopened = await ctx.open();
    expect(await ctx.raw().hget(bucket.counters, 'search_stale')).toBeNull();
    expect(await found(reopened, 'walrus')).toEqual(['m0']);
    expect(await found(reopened, 'puffin')).toEqual([]);
  });
});

describeWithService('redis')('redis search index faults: searches and builds', () => {
  const ctx = useRedisStore();
  const layout = (): KeyLayout => new KeyLayout(ctx.prefix());

  /** A store whose logger's warnings land in `warnings`. */
  async function openLogged(config: RedisStorageConfig = {}) {
    const warnings: Array<Record<string, unknown>> = [];
    const logger = {
      warn: (message: string, details?: Record<string, unknown>) => warnings.push({ message, ...details }),
    };
    return { s: await ctx.open({ ...config, logger }), warnings };
  }

  const ids = async (s: RedisStorage, query: SearchQuery): Promise<string[]> =>
    (await s.search(query)).map((hit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind)).sort();

  it('a search meeting a wrong-typed index key scans, marks the bucket stale and logs the key', async () => {
    const { s, warnings } = await openLogged();
    await s.storeMemory('c', 'm0', { text: 'walrus puffin' });
    await s.storeMemory('c', 'm1', { text: 'walrus gannet' });
    await s.deleteMemory('c', 'm1');
    const { bucket } = layout().conversation('c');
    const scoped: SearchQuery = { text: 'walrus', kinds: ['memories'], conversationId: 'c' };
    // search-gone is read for a token with dead entries; search-docs by the scoped search's
    // rank script and the unscoped search's naming of its hits.
    for (const [bad, query] of [
      [`${bucket.base}q:walrus`, { text: 'walrus' }],
      [`${bucket.base}search-dead`, { text: 'walrus' }],
      [`${bucket.base}search-gone`, { text: 'walrus' }],
      [`${bucket.base}search-docs`, { text: 'walrus' }],
      [`${bucket.base}search-docs`, scoped],
    ] as const) {
      await ctx.raw().rename(bad, `${bad}-saved`);
      await ctx.raw().sadd(bad, 'x');
      warnings.length = 0;
      expect(await ids(s, query)).toEqual(['m0']);
      expect(await ctx.raw().hget(bucket.counters, 'search_stale')).toBe('1');
      expect(warnings).toEqual([expect.objectContaining({ markedStale: true })]);
      expect(warnings[0]!.problem).toContain(`search index of ${bucket.base}: ${bad} is a set`);
      await ctx.raw().rename(`${bad}-saved`, bad);
      await ctx.raw().hdel(bucket.counters, 'search_stale');
    }
    // The index is whole again: trusted, and it finds what it found before.
    expect(await ids(s, { text: 'walrus puffin gannet' })).toEqual(['m0']);
    expect(warnings).toHaveLength(1);
  });

  it('a read-only store scans past a wrong-typed index key and changes nothing', async () => {
    const writer = await ctx.open();
    await writer.storeMemory('c', 'm0', { text: 'walrus' });
    const { bucket } = layout().conversation('c');
    await ctx.raw().del(`${bucket.base}q:walrus`);
    await ctx.raw().hset(`${bucket.base}q:walrus`, 'f', 'v');
    const counters = await ctx.raw().hgetall(bucket.counters);
    const { s, warnings } = await openLogged({ readOnly: true });
    expect(await ids(s, { text: 'walrus' })).toEqual(['m0']);
    expect(await ctx.raw().hgetall(bucket.counters)).toEqual(counters);
    expect(warnings).toEqual([expect.objectContaining({ markedStale: false })]);
  });

  it('a failed index write leaves no posting its doc lists do not name (a rebuild drops them all)', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus' });
    const { bucket } = layout().conversation('c');
    const bad = `${bucket.base}q:puffin`;
    await ctx.raw().hset(bad, 'f', 'v');
    // alpha's posting is appended before puffin's fails.
    await expect(s.storeMemory('c', 'm1', { text: 'alpha puffin' })).rejects.toBeInstanceOf(CorruptDataError);
    expect(await ctx.raw().exists(`${bucket.base}q:alpha`)).toBe(1);
    await ctx.raw().del(bad);
    await s.reindex();
    // Left behind, its entry's number would be the next doc's (a candidate the ranking drops,
    // taking the place of a hit).
    expect(await ctx.raw().exists(`${bucket.base}q:alpha`)).toBe(0);
    await s.storeMemory('c', 'm2', { text: 'gannet' });
    expect(await ids(s, { text: 'gannet walrus' })).toEqual(['m0', 'm2']);
  });

  /** reindex() rejects naming the bucket and `bad`, the bucket stays stale, searches scan. */
  async function expectBuildRefused(s: RedisStorage, bucket: BucketKeys, bad: string): Promise<void> {
    const error = await s.reindex().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`search index of ${bucket.base}`);
    expect((error as Error).message).toContain(bad);
    expect(await ctx.raw().hget(bucket.counters, 'search_stale')).toBe('1');
    expect(await ids(s, { text: 'walrus' })).toEqual(['m0', 'm1']);
  }

  it('a build meeting a wrong-typed posting key fails naming it; once it is removed, the next build repairs', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus gannet' });
    // Written with the index off: no doc list names zebra, so the build's drop leaves its key.
    const unindexed = await ctx.open({ searchIndex: false });
    await unindexed.storeMemory('c', 'm1', { text: 'zebra walrus puffin' });
    await unindexed.shutdown();
    const { bucket } = layout().conversation('c');
    const bad = `${bucket.base}q:zebra`;
    await ctx.raw().hset(bad, 'f', 'v');
    await expectBuildRefused(s, bucket, bad);
    // The next writable open's build fails alike: logged, the store opens, searches scan.
    await s.shutdown();
    const { s: reopened, warnings } = await openLogged();
    expect(warnings).toEqual([
      expect.objectContaining({ message: 'redis storage: search index not rebuilt' }),
    ]);
    expect((warnings[0]!.error as string).includes(bad)).toBe(true);
    expect(await ids(reopened, { text: 'zebra' })).toEqual(['m1']);
    await ctx.raw().del(bad);
    expect(await reopened.reindex()).toBe(2);
    expect(await ctx.raw().hget(bucket.counters, 'search_stale')).toBeNull();
    // What the failed builds appended was dropped: one entry per doc.
    for (const [token, docs] of [
      ['walrus', 2],
      ['zebra', 1],
      ['gannet', 1],
      ['puffin', 1],
    ] as const)
      expect(await ctx.raw().strlen(`${bucket.base}q:${token}`)).toBe(13 * docs);
    expect(await ids(reopened, { text: 'zebra gannet' })).toEqual(['m0', 'm1']);
    expect(warnings).toHaveLength(1);
  });

  it('a build refuses, and never removes, its old keys of the wrong type', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm0', { text: 'walrus gannet' });
    await s.storeMemory('c', 'm1', { text: 'walrus puffin' });
    const { bucket } = layout().conversation('c');
    for (const name of ['search-docs', 'search-dead', 'search-gone', 'search-unheld', 'q:walrus']) {
      const bad = `${bucket.base}${name}`;
      await ctx.raw().del(bad);
      await ctx.raw().sadd(bad, 'x');
      await expectBuildRefused(s, bucket, bad);
      expect(await ctx.raw().smembers(bad)).toEqual(['x']);
      await ctx.raw().del(bad);
      expect(await s.reindex()).toBe(2);
      expect(await ctx.raw().strlen(`${bucket.base}q:walrus`)).toBe(26);
      expect(await ids(s, { text: 'gannet puffin' })).toEqual(['m0', 'm1']);
    }
  });
  it('a search that fails names itself and its words', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm', { text: 'alpha beta' });
    // The index version key, of another type: no bucket's fault, so nothing to scan instead.
    await ctx.raw().del(`${ctx.prefix()}{index}:search`);
    await ctx.raw().rpush(`${ctx.prefix()}{index}:search`, 'not a version');
    const error = await s.search({ text: 'alpha beta' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain('search "alpha beta": read index version');
  });
});
