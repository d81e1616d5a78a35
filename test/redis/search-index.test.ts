/**
 * The Redis search index: postings and doc lists follow every write, delete and trim in the
 * record's bucket (single and batch), the search reads the index on the server each time,
 * stores written before the index (v1, or v2 from before search) or with `searchIndex: false`
 * are indexed by the next writable open, and a stale index is never trusted.
 */
import { describeWithService } from '../services.js';
import { Redis } from 'ioredis';
import { keysWithPrefix, REDIS_TEST_URL, useRedisStore } from './helpers.js';
import { SEARCH_INDEX_VERSION } from '../../src/backends/redis/search-lua.js';
import { searchDoc } from '../../src/backends/redis/search-writer.js';
import { decodePostings as decodeAt, postingKeys as postingKeysOf } from './search-postings.js';
import { writeV1Store } from './v1-store.js';

describeWithService('redis')('redis search index', () => {
  const ctx = useRedisStore();

  /** The search keys of the store (postings `q:<token>`, doc lists), without the bucket tag. */
  async function searchKeys(): Promise<string[]> {
    const keys = await keysWithPrefix(ctx.raw(), ctx.prefix());
    return keys
      .map((key) => key.slice(ctx.prefix().length).replace(/^\{b:\d+\}:/, ''))
      .filter((key) => key.startsWith('q:') || key === 'search-docs')
      .sort();
  }

  const postingKeys = (token: string) => postingKeysOf(ctx.raw(), ctx.prefix(), token);
  const decodePostings = (key: string) => decodeAt(ctx.raw(), key);

  /** Every bucket's live postings of a token, merged: doc -> tf * 1e7 + length (version 2's value). */
  async function postings(token: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const key of await postingKeys(token)) {
      for (const e of await decodePostings(key)) {
        if (e.live) out[e.doc!] = String(e.tf * 10_000_000 + e.length);
      }
    }
    return out;
  }

  /** The sum of a counter field over every bucket. */
  async function counter(field: string): Promise<number> {
    const keys = (await keysWithPrefix(ctx.raw(), ctx.prefix())).filter((k) => k.endsWith(':counters'));
    let total = 0;
    for (const key of keys) total += Number((await ctx.raw().hget(key, field)) ?? 0);
    return total;
  }

  /** Deletes the postings of a token behind the library's back (a scan would still find its records). */
  async function dropPostings(token: string): Promise<number> {
    const keys = await postingKeys(token);
    if (keys.length > 0) await ctx.raw().del(...keys);
    return keys.length;
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
        'q:cafe',
        'q:chunk',
        'q:gannet',
        'q:penguin',
        'q:ponder',
        'q:tusk',
      ]),
    );
    expect(await counter('search_docs')).toBe(9);

    await s.storeRawMessages('c1', ['narwhal']);
    expect(await searchKeys()).not.toContain('q:walrus');
    await s.storeMemory('c1', 'm1', { text: 'puffin' });
    await s.storeMemories('c1', [{ memoryId: 'm2', data: { text: 'skua' } }]);
    expect(await searchKeys()).not.toContain('q:penguin');
    expect(await searchKeys()).not.toContain('q:gannet');
    expect(await s.trimReasoningChains('a1', 2)).toBe(1);
    expect(await searchKeys()).not.toContain('q:ponder');
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

  it('a raw-message replace re-indexes only the messages that changed', async () => {
    const s = await ctx.open();
    /** Every posting entry of a token, live or dropped: doc number and liveness. */
    const entries = async (token: string): Promise<Array<[number, boolean]>> => {
      const out: Array<[number, boolean]> = [];
      for (const key of await postingKeys(token))
        for (const e of await decodePostings(key)) out.push([e.num, e.live]);
      return out;
    };
    await s.storeRawMessages('c1', ['otter one', 'heron two', 'ibis three']);
    const otter = await entries('otter');
    expect(otter).toEqual([[expect.any(Number), true]]);
    await s.storeRawMessages('c1', ['otter one', 'heron two', 'ibis three', 'crane four']);
    await s.storeRawMessages('c1', ['otter one', 'stork two', 'ibis three']);
    // The unchanged messages kept their docs: one entry each, never dropped and re-added.
    expect(await entries('otter')).toEqual(otter);
    expect(await entries('ibis')).toHaveLength(1);
    expect((await entries('heron')).filter(([, live]) => live)).toEqual([]);
    expect((await entries('crane')).filter(([, live]) => live)).toEqual([]);
    expect(await counter('search_docs')).toBe(3);
    const hits = await s.search({ text: 'otter stork ibis heron crane' });
    expect(hits.map((hit) => (hit.kind === 'raw_messages' ? hit.messageIndex : -1)).sort()).toEqual([
      0, 1, 2,
    ]);
  });

  it('maxReasoningChainsPerAgent: an append that trims drops the trimmed chains from the index', async () => {
    const s = await ctx.open({ maxReasoningChainsPerAgent: 2, searchFields: { reasoning_chains: ['step'] } });
    await s.appendReasoningChains('a1', [{ step: 'alpha' }, { step: 'beta' }, { step: 'gamma' }]);
    await s.storeReasoningChain('a1', { step: 'delta' });
    expect(await searchKeys()).toEqual(['q:delta', 'q:gamma', 'search-docs']);
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
    expect(await searchKeys()).toContain('q:walrus');
    expect(await indexed.search({ text: 'walrus' })).toEqual([]);
    expect(await indexed.search({ text: 'penguin' })).toMatchObject([{ memoryId: 'm1' }]);
    await ctx.open();
    expect(await counter('search_stale')).toBe(0);
    expect(await searchKeys()).not.toContain('q:walrus');
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
    const entries = (await Promise.all((await postingKeys('walrus')).map(decodePostings))).flat();
    expect(entries.map((e) => [e.kind, e.live])).toEqual([['a', true]]);
  });

  it('indexes a v1 store on the open that upgrades it', async () => {
    await writeV1Store(ctx.raw(), ctx.prefix());
    const s = await ctx.open();
    expect(await s.search({ text: 'hi two', kinds: ['raw_messages'] })).toMatchObject([
      { kind: 'raw_messages', conversationId: 'c1' },
      { kind: 'raw_messages', conversationId: 'c1' },
    ]);
    expect(await counter('search_docs')).toBeGreaterThan(0);
    expect(await ctx.raw().get(`${ctx.prefix()}{index}:search`)).toBe(SEARCH_INDEX_VERSION);
  });

  it('indexes, on open, a v2 store written before search existed; a read-only open scans it meanwhile', async () => {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'old penguin' });
    await s.storeReasoningChain('a1', { step: 'old thought' });
    await s.shutdown();
    // Back to a store without an index: no postings, doc lists, search counters or version.
    for (const key of await keysWithPrefix(ctx.raw(), ctx.prefix())) {
      if (/:q:|:search-(docs|nums|live|dead)$|\{index\}:search$/.test(key)) await ctx.raw().del(key);
      if (key.endsWith(':counters'))
        await ctx.raw().hdel(key, 'search_docs', 'search_tokens', 'search_rev', 'search_next');
    }
    const readOnly = await ctx.open({ readOnly: true });
    expect(await readOnly.search({ text: 'old' })).toHaveLength(2);
    expect(await searchKeys()).toEqual([]);

    const reopened = await ctx.open();
    expect(await searchKeys()).toContain('q:penguin');
    expect((await reopened.search({ text: 'old' })).map((h) => h.kind).sort()).toEqual([
      'memories',
      'reasoning_chains',
    ]);
    expect(await dropPostings('old')).toBe(2);
    expect(await readOnly.search({ text: 'old' })).toEqual([]); // the read-only instance now uses the index
  });

  /**
   * Rewrites the store's index the way an older version kept it, with that version's marker.
   * Version 3: the same postings, doc -> "<number> <length> <token> ..." in `search-docs`,
   * number -> doc in `search-nums` and the live numbers in the bitmap `search-live`. Versions
   * 1 and 2: the same live postings as zsets `x:<token>` (1) or hashes `p:<token>` (2), doc
   * lists without doc numbers, no bitmap, numbers or dead counts.
   */
  async function rewriteIndexAs(version: '1' | '2' | '3'): Promise<void> {
    const raw = ctx.raw();
    for (const key of await keysWithPrefix(raw, ctx.prefix())) {
      const posting = /^(.*):q:(.*)$/.exec(key);
      if (key.endsWith(':search-docs')) {
        const base = key.slice(0, -'search-docs'.length);
        for (const [field, value] of Object.entries(await raw.hgetall(key))) {
          await raw.hdel(key, field);
          if (/^\d/.test(field)) continue; // a number field (version 4's number -> doc)
          const [num, length, ...pairs] = value.split(' ');
          const tokens = pairs.filter((_, i) => i % 2 === 0);
          await raw.hset(key, field, [...(version === '3' ? [num] : []), length, ...tokens].join(' '));
          if (version === '3') {
            await raw.hset(`${base}search-nums`, num!, field);
            await raw.setbit(`${base}search-live`, Number(num), 1);
          }
        }
      } else if (version === '3') {
        if (key.endsWith(':search-gone')) await raw.del(key);
      } else if (posting) {
        for (const e of await decodePostings(key)) {
          if (!e.live) continue;
          const score = String(e.tf * 10_000_000 + e.length);
          if (version === '1') await raw.zadd(`${posting[1]}:x:${posting[2]}`, score, e.doc!);
          else await raw.hset(`${posting[1]}:p:${posting[2]}`, e.doc!, score);
        }
        await raw.del(key);
      } else if (/:search-(gone|dead)$/.test(key)) await raw.del(key);
      else if (key.endsWith(':counters')) await raw.hdel(key, 'search_next');
    }
    await raw.set(`${ctx.prefix()}{index}:search`, version);
  }

  for (const [version, kept] of [
    ['1', 'zsets x:<token>'],
    ['2', 'hashes p:<token>'],
    ['3', 'strings q:<token>, with search-nums and search-live'],
  ] as const) {
    it(`rebuilds an index of version ${version} (postings in ${kept}) on a writable open`, async () => {
      const s = await ctx.open();
      // A replaced memory: its first doc leaves a dead entry in q:penguin.
      await s.storeMemory('c1', 'm1', { text: 'penguin first' });
      await s.storeMemory('c1', 'm1', { text: 'old penguin' });
      await s.storeRawMessages('c2', ['penguin colony', 'walrus']);
      await s.storeReasoningChain('a1', { step: 'penguin thought' });
      const before = (await s.search({ text: 'penguin', match: 'all' })).map((h) => h.kind).sort();
      await s.shutdown();
      const postingCount = (await keysWithPrefix(ctx.raw(), ctx.prefix())).filter((k) =>
        k.includes(':q:'),
      ).length;
      await rewriteIndexAs(version);
      const raw = ctx.raw();
      const old = { '1': ':x:', '2': ':p:', '3': /:search-(nums|live)$/ }[version];
      const isOld = (key: string): boolean => (typeof old === 'string' ? key.includes(old) : old.test(key));
      if (version === '3') {
        expect(await searchKeys()).toEqual(expect.arrayContaining(['q:penguin', 'search-docs']));
        expect((await keysWithPrefix(raw, ctx.prefix())).filter(isOld).length).toBeGreaterThanOrEqual(4);
      } else {
        expect(new Set(await searchKeys())).toEqual(new Set(['search-docs']));
        expect((await keysWithPrefix(raw, ctx.prefix())).filter(isOld).length).toBe(postingCount);
      }
      // A read-only open does not trust an index of another version: it scans.
      const readOnly = await ctx.open({ readOnly: true });
      expect((await readOnly.search({ text: 'penguin', match: 'all' })).map((h) => h.kind).sort()).toEqual(
        before,
      );

      const reopened = await ctx.open();
      expect(await raw.get(`${ctx.prefix()}{index}:search`)).toBe(SEARCH_INDEX_VERSION);
      const keys = await keysWithPrefix(raw, ctx.prefix());
      expect(keys.filter(isOld)).toEqual([]);
      expect(await searchKeys()).toEqual(expect.arrayContaining(['q:penguin', 'q:walrus', 'search-docs']));
      expect((await reopened.search({ text: 'penguin', match: 'all' })).map((h) => h.kind).sort()).toEqual(
        before,
      );
      expect(before).toEqual(['memories', 'raw_messages', 'reasoning_chains']);
      expect(await counter('search_docs')).toBe(4);
      // The index is used: without its postings nothing is found.
      expect(await dropPostings('penguin')).toBeGreaterThan(0);
      expect(await reopened.search({ text: 'penguin', match: 'all' })).toEqual([]);
    });
  }

  it('a write of several records posts each token of all of them with one APPEND, exactly as one doc at a time would', async () => {
    const s = await ctx.open({ searchFields: { memories: ['text'], reasoning_chains: ['step'] } });
    const client = new Redis(REDIS_TEST_URL);
    const monitor = await client.monitor();
    const postingWrites: string[] = [];
    // The server feeds a monitor the commands in the order it runs them: once it shows an ECHO
    // sent after the writes, it has shown every write (a fixed sleep for that, on a loaded
    // machine and a shared server, can end first).
    const sentinel = `monitor-sentinel-${ctx.prefix()}`;
    let sentinelSeen: () => void = () => undefined;
    const allSeen = new Promise<void>((resolve) => (sentinelSeen = resolve));
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'echo' && args[1] === sentinel) sentinelSeen();
      if (
        args[0]?.toLowerCase() === 'append' &&
        args[1]?.startsWith(ctx.prefix()) &&
        args[1].includes('}:q:')
      )
        postingWrites.push(args[1].replace(/^.*\}:q:/, ''));
    });
    try {
      await s.storeRawMessages('c1', ['walrus tusk walrus', 'walrus', 'tusk tusk', 'seal']);
      await s.storeMemories('c1', [
        { memoryId: 'm1', data: { text: 'gull tern' } },
        { memoryId: 'm2', data: { text: 'tern' } },
        { memoryId: 'm1', data: { text: 'skua' } }, // the same id again: only this text is indexed
      ]);
      await s.appendReasoningChains('a1', [{ step: 'ponder ponder' }, { step: 'ponder' }]);
      await ctx.raw().echo(sentinel);
      await allSeen;
    } finally {
      monitor.disconnect();
      client.disconnect();
    }
    expect(postingWrites.sort()).toEqual(['ponder', 'seal', 'skua', 'tern', 'tusk', 'walrus']);
    // Each posting: doc -> tf * 1e7 + the doc's length, as a single write stores it.
    const raw = (i: number) => searchDoc('raw_messages', 'c1', i);
    const memory = (id: string) => searchDoc('memories', 'c1', id);
    const chain = (n: number) => searchDoc('reasoning_chains', 'a1', n);
    expect(await postings('walrus')).toEqual({ [raw(0)]: '20000003', [raw(1)]: '10000001' });
    expect(await postings('tusk')).toEqual({ [raw(0)]: '10000003', [raw(2)]: '20000002' });
    expect(await postings('tern')).toEqual({ [memory('m2')]: '10000001' });
    expect(await postings('gull')).toEqual({});
    expect(await postings('skua')).toEqual({ [memory('m1')]: '10000001' });
    expect(await postings('ponder')).toEqual({ [chain(0)]: '20000002', [chain(1)]: '10000001' });
    expect(await counter('search_docs')).toBe(8);
    expect(await counter('search_tokens')).toBe(3 + 1 + 2 + 1 + 1 + 1 + 2 + 1);
    // A replace by several messages drops every old doc first.
    await s.storeRawMessages('c1', ['seal seal', 'seal']);
    expect(await postings('walrus')).toEqual({});
    expect(await postings('seal')).toEqual({ [raw(0)]: '20000002', [raw(1)]: '10000001' });
    expect(await counter('search_docs')).toBe(6);
  });

  it('getStorageStats reports the indexed records', async () => {
    const s = await ctx.open();
    await s.storeRawMessages('c1', ['a b', 'c']);
    await s.storeMemory('c1', 'm1', { text: 'd' });
    expect((await s.getStorageStats()).search_index_entries).toBe(3);
  });
});
