/**
 * The Redis search index: postings and doc lists follow every write, delete and trim in the
 * record's bucket (single and batch), the search reads the index on the server each time,
 * stores written before the index (v1, or v2 from before search) or with `searchIndex: false`
 * are indexed by the next writable open, and a stale index is never trusted.
 */
import { describeWithService } from '../services.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';
import { writeV1Store } from './v1-store.js';
import { DIRECT_DOCS, PENDING_DOCS } from '../../src/backends/redis/search-lua.js';
import type { SearchHit } from '../../src/index.js';

/** The memory id of a hit (undefined for other kinds). */
const memoryIdOf = (hit: SearchHit): string | undefined => ('memoryId' in hit ? hit.memoryId : undefined);

describeWithService('redis')('redis search index', () => {
  const ctx = useRedisStore();

  /**
   * The search keys of the store (postings `p:<token>`, doc lists), without the bucket tag. A
   * token held only by docs still pending in `search-new` counts as its posting `p:<token>`.
   */
  async function searchKeys(): Promise<string[]> {
    const keys = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const found = new Set<string>();
    for (const key of keys) {
      const name = key.slice(ctx.prefix().length).replace(/^\{b:\d+\}:/, '');
      if (name.startsWith('p:') || name === 'search-docs') found.add(name);
      if (name === 'search-new')
        for (const spec of await ctx.raw().hvals(key))
          for (const token of specTokens(spec)) found.add(`p:${token}`);
    }
    return [...found].sort();
  }

  /** The tokens of a pending doc's spec (`<length> <token> <score> ...`). */
  function specTokens(spec: string): string[] {
    return spec.split(' ').filter((_, i) => i % 2 === 1);
  }

  /** The docs indexed under a token: in its postings, or pending with it in `search-new`. */
  async function docsWithToken(token: string): Promise<string[]> {
    const docs: string[] = [];
    for (const key of await keysWithPrefix(ctx.raw(), ctx.prefix())) {
      if (key.endsWith(`:p:${token}`)) docs.push(...(await ctx.raw().hkeys(key)));
      if (key.endsWith(':search-new'))
        for (const [doc, spec] of Object.entries(await ctx.raw().hgetall(key)))
          if (specTokens(spec).includes(token)) docs.push(doc);
    }
    return docs.sort();
  }

  /** The sum of a counter field over every bucket. */
  async function counter(field: string): Promise<number> {
    const keys = (await keysWithPrefix(ctx.raw(), ctx.prefix())).filter((k) => k.endsWith(':counters'));
    let total = 0;
    for (const key of keys) total += Number((await ctx.raw().hget(key, field)) ?? 0);
    return total;
  }

  /**
   * Deletes the postings of a token behind the library's back, and the pending docs holding it
   * (a scan would still find its records). Returns the buckets that held it.
   */
  async function dropPostings(token: string): Promise<number> {
    const buckets = new Set<string>();
    for (const key of await keysWithPrefix(ctx.raw(), ctx.prefix())) {
      const bucket = key.slice(0, key.indexOf('}') + 1);
      if (key.endsWith(`:p:${token}`) && (await ctx.raw().del(key)) === 1) buckets.add(bucket);
      if (!key.endsWith(':search-new')) continue;
      for (const [doc, spec] of Object.entries(await ctx.raw().hgetall(key)))
        if (specTokens(spec).includes(token) && (await ctx.raw().hdel(key, doc)) === 1) buckets.add(bucket);
    }
    return buckets.size;
  }

  it('every write indexes its record in its bucket; replaces, deletes and trims leave no posting behind', async () => {
    const s = await ctx.open({ searchFields: { memories: ['text'] } });
    await s.storeConversation('c1', { title: 'Café' });
    await s.storeRawMessages('c1', ['walrus tusk', 'walrus']);
    await s.storeMemory('c1', 'm1', { text: 'penguin' });
    await s.storeMemories('c1', [{ memoryId: 'm2', data: { text: 'gannet' } }]);
    await s.storeChunkInfo('c1', { text: 'chunk' });
    await s.storeReasoningChain('a1', { step: 'ponder' });
    await s.appendReasoningChains('a1', [{ step: 'muse' }, { step: 'reflect' }]);
    expect(await searchKeys()).toEqual(
      expect.arrayContaining([
        'search-docs',
        'p:cafe',
        'p:chunk',
        'p:gannet',
        'p:penguin',
        'p:ponder',
        'p:tusk',
      ]),
    );
    expect(await counter('search_docs')).toBe(9);

    await s.storeRawMessages('c1', ['narwhal']);
    expect(await searchKeys()).not.toContain('p:walrus');
    await s.storeMemory('c1', 'm1', { text: 'puffin' });
    await s.storeMemories('c1', [{ memoryId: 'm2', data: { text: 'skua' } }]);
    expect(await searchKeys()).not.toContain('p:penguin');
    expect(await searchKeys()).not.toContain('p:gannet');
    expect(await s.trimReasoningChains('a1', 2)).toBe(1);
    expect(await searchKeys()).not.toContain('p:ponder');
    expect(await s.search({ text: 'muse reflect ponder' })).toMatchObject([
      { kind: 'reasoning_chains', chainIndex: 0, record: { step: 'muse' } },
      { kind: 'reasoning_chains', chainIndex: 1, record: { step: 'reflect' } },
    ]);
    await s.deleteMemory('c1', 'm1');
    await s.deleteConversation('c1');
    await s.deleteReasoningChains('a1');
    expect(await searchKeys()).toEqual([]);
    expect(await counter('search_docs')).toBe(0);
    expect(await counter('search_tokens')).toBe(0);
  });

  it('maxReasoningChainsPerAgent: an append that trims drops the trimmed chains from the index', async () => {
    const s = await ctx.open({ maxReasoningChainsPerAgent: 2, searchFields: { reasoning_chains: ['step'] } });
    await s.appendReasoningChains('a1', [{ step: 'alpha' }, { step: 'beta' }, { step: 'gamma' }]);
    await s.storeReasoningChain('a1', { step: 'delta' });
    expect(await searchKeys()).toEqual(['p:delta', 'p:gamma', 'search-docs']);
    expect((await s.search({ text: 'alpha beta gamma delta' })).map((h) => h.record)).toMatchObject([
      { step: 'gamma' },
      { step: 'delta' },
    ]);
  });

  it('reads the index on the server at each search: what another instance writes is found, and only through the index', async () => {
    const reader = await ctx.open();
    const writer = await ctx.open();
    await writer.storeMemory('c9', 'x', { text: 'xylophone' });
    expect(await reader.search({ text: 'xylophone' })).toMatchObject([{ kind: 'memories', memoryId: 'x' }]);
    expect(await dropPostings('xylophone')).toBe(1);
    expect(await reader.search({ text: 'xylophone' })).toEqual([]);
    expect(await reader.reindex()).toBe(1);
    expect(await reader.search({ text: 'xylophone' })).toHaveLength(1);
  });

  it('indexes a very long token under its hash, and finds it by the same word', async () => {
    const s = await ctx.open();
    const long = 'x'.repeat(100_000);
    await s.storeMemory('c1', 'm1', { text: `short ${long}` });
    expect((await searchKeys()).every((key) => key.length < 100)).toBe(true);
    expect(await s.search({ text: long.toUpperCase() })).toMatchObject([{ memoryId: 'm1' }]);
  });

  it('writes with searchIndex: false mark their bucket stale: searches scan it, and a writable open rebuilds it', async () => {
    const indexed = await ctx.open();
    await indexed.storeMemory('c1', 'm1', { text: 'old walrus' });
    const off = await ctx.open({ searchIndex: false });
    await off.storeMemory('c1', 'm1', { text: 'new penguin' });
    expect(await counter('search_stale')).toBe(1);
    // The stale postings still say walrus; the search does not trust them.
    expect(await searchKeys()).toContain('p:walrus');
    expect(await indexed.search({ text: 'walrus' })).toEqual([]);
    expect(await indexed.search({ text: 'penguin' })).toMatchObject([{ memoryId: 'm1' }]);
    await ctx.open();
    expect(await counter('search_stale')).toBe(0);
    expect(await searchKeys()).not.toContain('p:walrus');
    // The index is used again: without its postings the record is not found.
    expect(await dropPostings('penguin')).toBe(1);
    expect(await indexed.search({ text: 'penguin' })).toEqual([]);
  });

  it('a new record in a stale bucket still drops the postings of a doc left by an unindexed delete', async () => {
    const indexed = await ctx.open();
    await indexed.storeMemory('c1', 'm1', { text: 'walrus' });
    await indexed.storeRawMessages('c2', ['walrus']);
    await indexed.storeReasoningChain('a1', { step: 'walrus' });
    const off = await ctx.open({ searchIndex: false });
    await off.deleteMemory('c1', 'm1');
    await off.storeRawMessages('c2', []);
    // The records are gone but their docs stay, in buckets now marked stale.
    await indexed.storeMemory('c1', 'm1', { text: 'penguin' });
    await indexed.storeRawMessages('c2', ['penguin']);
    // The rebuild drops what the doc lists name: a posting left out of them would survive it.
    expect(await indexed.reindex()).toBe(3);
    expect((await docsWithToken('walrus')).map((doc) => doc[0])).toEqual(['a']);
  });

  it('indexes a v1 store on the open that upgrades it', async () => {
    await writeV1Store(ctx.raw(), ctx.prefix());
    const s = await ctx.open();
    expect(await s.search({ text: 'hi two', kinds: ['raw_messages'] })).toMatchObject([
      { kind: 'raw_messages', conversationId: 'c1' },
      { kind: 'raw_messages', conversationId: 'c1' },
    ]);
    expect(await counter('search_docs')).toBeGreaterThan(0);
    expect(await ctx.raw().get(`${ctx.prefix()}{index}:search`)).toBe('3');
  });

  it('indexes, on open, a v2 store written before search existed; a read-only open scans it meanwhile', async () => {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'old penguin' });
    await s.storeReasoningChain('a1', { step: 'old thought' });
    await s.shutdown();
    // Back to a store without an index: no postings, doc lists, pending docs, search counters or version.
    for (const key of await keysWithPrefix(ctx.raw(), ctx.prefix())) {
      if (/:p:|:search-(docs|new)$|\{index\}:search$/.test(key)) await ctx.raw().del(key);
      if (key.endsWith(':counters')) await ctx.raw().hdel(key, 'search_docs', 'search_tokens', 'search_rev');
    }
    const readOnly = await ctx.open({ readOnly: true });
    expect(await readOnly.search({ text: 'old' })).toHaveLength(2);
    expect(await searchKeys()).toEqual([]);

    const reopened = await ctx.open();
    expect(await searchKeys()).toContain('p:penguin');
    expect((await reopened.search({ text: 'old' })).map((h) => h.kind).sort()).toEqual([
      'memories',
      'reasoning_chains',
    ]);
    expect(await dropPostings('old')).toBe(2);
    expect(await readOnly.search({ text: 'old' })).toEqual([]); // the read-only instance now uses the index
  });

  it('rebuilds an index of version 1 (postings in zsets x:<token>) on a writable open', async () => {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'old penguin' });
    await s.storeRawMessages('c2', ['penguin colony', 'walrus']);
    await s.storeReasoningChain('a1', { step: 'penguin thought' });
    const before = (await s.search({ text: 'penguin', match: 'all' })).map((h) => h.kind).sort();
    await s.shutdown();
    // Rewrite the index the way version 1 kept it: the same postings as zsets, version '1'.
    const raw = ctx.raw();
    for (const key of await keysWithPrefix(raw, ctx.prefix())) {
      if (key.endsWith(':search-new')) {
        // Version 1 had no pending docs: their postings were written at once.
        for (const [doc, spec] of Object.entries(await raw.hgetall(key))) {
          const parts = spec.split(' ');
          for (let i = 1; i < parts.length; i += 2)
            await raw.zadd(`${key.slice(0, -'search-new'.length)}x:${parts[i]}`, parts[i + 1]!, doc);
        }
        await raw.del(key);
      }
      const posting = /^(.*):p:(.*)$/.exec(key);
      if (!posting) continue;
      const entries = await raw.hgetall(key);
      for (const [doc, score] of Object.entries(entries))
        await raw.zadd(`${posting[1]}:x:${posting[2]}`, score, doc);
      await raw.del(key);
    }
    await raw.set(`${ctx.prefix()}{index}:search`, '1');
    expect(new Set(await searchKeys())).toEqual(new Set(['search-docs']));

    const reopened = await ctx.open();
    expect(await raw.get(`${ctx.prefix()}{index}:search`)).toBe('3');
    const keys = await keysWithPrefix(raw, ctx.prefix());
    expect(keys.filter((key) => key.includes(':x:'))).toEqual([]);
    expect(await searchKeys()).toEqual(expect.arrayContaining(['p:penguin', 'p:walrus', 'search-docs']));
    expect((await reopened.search({ text: 'penguin', match: 'all' })).map((h) => h.kind).sort()).toEqual(
      before,
    );
    expect(before).toEqual(['memories', 'raw_messages', 'reasoning_chains']);
    expect(await counter('search_docs')).toBe(4);
  });

  it('docs wait in search-new until a bucket holds PENDING_DOCS of them, then move to the postings; searches find them the same either way', async () => {
    const s = await ctx.open({ searchFields: { memories: ['text'] } });
    const words = ['heron', 'ibis', 'stork', 'crane', 'egret'];
    const texts = Array.from(
      { length: 20 },
      (_, i) => `${words[i % 5]} ${words[(i * 3) % 5]} ${words[(i * 7) % 4]}`,
    );
    // 'zebra' alone scores 10000001 (tf 1, length 1): a query for that number must not find it.
    texts.push('zebra', '10000001 heron');
    // One by one: a write of fewer than DIRECT_DOCS docs leaves them pending.
    for (const [i, text] of texts.entries()) await s.storeMemory('c1', `m${i}`, { text });
    const queries = ['heron', 'ibis crane', 'stork egret heron', '10000001', 'zebra'];
    // The reference: the same store searched by a scan (an instance with the index off).
    const scan = await ctx.open({ searchIndex: false });
    const results = async (store: typeof s) => {
      const out = [];
      for (const text of queries)
        for (const match of ['any', 'all'] as const)
          out.push((await store.search({ text, match, limit: 50 })).map((h) => [memoryIdOf(h), h.score]));
      return out;
    };
    const pendingKey = (await keysWithPrefix(ctx.raw(), ctx.prefix())).find((k) =>
      k.endsWith(':search-new'),
    )!;
    expect(await ctx.raw().hlen(pendingKey)).toBe(texts.length);
    const whilePending = await results(s);
    const ids = (list: Array<Array<Array<string | number | undefined>>>) =>
      list.map((hits) => hits.map((h) => h[0]));
    expect(ids(whilePending)).toEqual(ids(await results(scan)));
    expect(whilePending[6]).toEqual([['m21', expect.any(Number)]]);
    // Other docs of the bucket fill it up: the write that reaches PENDING_DOCS moves them all.
    const fillers = Array.from({ length: PENDING_DOCS - texts.length }, (_, i) => ({
      memoryId: `f${i}`,
      data: { text: 'filler' },
    }));
    for (const filler of fillers) await s.storeMemory('c1', filler.memoryId, filler.data);
    expect(await ctx.raw().hlen(pendingKey)).toBe(0);
    expect(await ctx.raw().hlen(pendingKey.replace(/search-new$/, 'p:heron'))).toBe(9);
    // Without the fillers the corpus is what it was: the same hits with the same scores.
    for (const filler of fillers) await s.deleteMemory('c1', filler.memoryId);
    expect(await results(s)).toEqual(whilePending);
    // A replace and a delete of posted docs leave neither postings nor pending docs behind.
    await s.storeMemory('c1', 'm0', { text: 'ibis' });
    await s.deleteMemory('c1', 'm21');
    expect((await s.search({ text: 'heron', limit: 50 })).map(memoryIdOf)).not.toContain('m0');
    expect(await s.search({ text: '10000001' })).toEqual([]);
    expect(await ctx.raw().hlen(pendingKey)).toBe(1);
    expect(await counter('search_docs')).toBe(texts.length - 1);
    // A write of DIRECT_DOCS docs or more puts them straight into the postings.
    const kestrels = Array.from({ length: DIRECT_DOCS }, (_, i) => `kestrel ${i}`);
    await s.storeRawMessages('c1', kestrels);
    expect(await ctx.raw().hlen(pendingKey)).toBe(1);
    expect(await ctx.raw().hlen(pendingKey.replace(/search-new$/, 'p:kestrel'))).toBe(DIRECT_DOCS);
    // Replaced by one message: the old docs leave the postings, the new one waits.
    await s.storeRawMessages('c1', ['kestrel']);
    expect(await docsWithToken('kestrel')).toHaveLength(1);
    expect(await ctx.raw().hlen(pendingKey)).toBe(2);
    expect(await counter('search_docs')).toBe(texts.length);
  });

  it('rebuilds an index of version 2 (no pending docs) on a writable open', async () => {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'old penguin' });
    await s.shutdown();
    const raw = ctx.raw();
    await raw.set(`${ctx.prefix()}{index}:search`, '2');
    // Version 2 wrote postings at once; this doc only pending would be missed by its readers.
    expect(await searchKeys()).toContain('p:penguin');
    expect(await dropPostings('penguin')).toBe(1);
    const readOnly = await ctx.open({ readOnly: true });
    expect(await readOnly.search({ text: 'penguin' })).toHaveLength(1); // scans: the index is not trusted
    const reopened = await ctx.open();
    expect(await raw.get(`${ctx.prefix()}{index}:search`)).toBe('3');
    expect(await reopened.search({ text: 'penguin' })).toMatchObject([{ memoryId: 'm1' }]);
    expect(await dropPostings('penguin')).toBe(1);
    expect(await reopened.search({ text: 'penguin' })).toEqual([]); // found through the rebuilt index
  });

  it('getStorageStats reports the indexed records', async () => {
    const s = await ctx.open();
    await s.storeRawMessages('c1', ['a b', 'c']);
    await s.storeMemory('c1', 'm1', { text: 'd' });
    expect((await s.getStorageStats()).search_index_entries).toBe(3);
  });
});
