/**
 * What the Redis write scripts are handed for the index (a record's spec) and what they keep
 * from it: tokens seen once first, then `*<tf>` and the tokens of that count, so the script
 * builds one posting entry per count, not per token; the postings still carry each token's tf
 * and the doc's length, and the doc's token list in `search-docs` keeps the version 3 format
 * (no markers), so a process running the previous release drops the doc's entries right.
 */
import { describeWithService } from '../services.js';
import { searchDoc, searchSpec, tokenKey } from '../../src/backends/redis/search-lua.js';
import { TextExtractor } from '../../src/core/index.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';
import { tokenEntries } from './search-postings.js';

describe('redis search spec', () => {
  const extractor = new TextExtractor({ memories: ['text'] });
  const spec = (text: string): string => searchSpec(extractor, 'memories', { text });

  it('lists tokens seen once first, then each larger count as *<count> before its tokens', () => {
    expect(spec('seal walrus seal tusk walrus seal Gull')).toBe('7 tusk gull *2 walrus *3 seal');
    expect(spec('one two three')).toBe('3 one two three');
    // Counts in increasing order, whatever order the tokens came in.
    expect(spec('b b b b a a c')).toBe('7 c *2 a *4 b');
    expect(spec('   ')).toBe('0');
  });

  it('names a long token by its hash, counted like any other', () => {
    const long = 'x'.repeat(80);
    expect(spec(`${long} ${long} cafe`)).toBe(`3 cafe *2 ${tokenKey(long)}`);
    expect(tokenKey(long).startsWith('#')).toBe(true);
  });
});

describeWithService('redis')('redis search spec: what the write scripts keep', () => {
  const ctx = useRedisStore();

  /** Each live entry of a token: doc -> `tf/length`. */
  async function entries(token: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await tokenEntries(ctx.raw(), ctx.prefix(), token)) {
      if (e.live) out[e.doc!] = `${e.tf}/${e.length}`;
    }
    return out;
  }

  /** The doc lists of `search-docs` over every bucket: doc -> list without its doc number. */
  async function docLists(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const keys = (await keysWithPrefix(ctx.raw(), ctx.prefix())).filter((k) => k.endsWith(':search-docs'));
    for (const key of keys) {
      for (const [doc, list] of Object.entries(await ctx.raw().hgetall(key)))
        out[doc] = list.replace(/^\d+ /, '');
    }
    return out;
  }

  it('single and batch writes post each token with its count and keep marker-free doc lists', async () => {
    const s = await ctx.open({ searchFields: { memories: ['text'] } });
    await s.storeMemory('c1', 'm1', { text: 'seal walrus seal tusk walrus seal' });
    await s.storeMemories('c1', [
      { memoryId: 'm2', data: { text: 'walrus walrus gull' } },
      { memoryId: 'm3', data: { text: 'seal' } },
    ]);
    const m = (id: string): string => searchDoc('memories', 'c1', id);
    expect(await entries('seal')).toEqual({ [m('m1')]: '3/6', [m('m3')]: '1/1' });
    expect(await entries('walrus')).toEqual({ [m('m1')]: '2/6', [m('m2')]: '2/3' });
    expect(await entries('tusk')).toEqual({ [m('m1')]: '1/6' });
    expect(await entries('gull')).toEqual({ [m('m2')]: '1/3' });
    expect(await docLists()).toEqual({
      [m('m1')]: '6 tusk walrus seal',
      [m('m2')]: '3 gull walrus',
      [m('m3')]: '1 seal',
    });

    // A replace drops every old token (those after a marker too): none of them finds m1 now.
    await s.storeMemory('c1', 'm1', { text: 'gannet' });
    expect(await entries('seal')).toEqual({ [m('m3')]: '1/1' });
    expect(await entries('walrus')).toEqual({ [m('m2')]: '2/3' });
    expect(await entries('tusk')).toEqual({});
    expect(
      (await s.search({ text: 'walrus seal tusk', limit: 10 }))
        .map((h) => h.kind === 'memories' && h.memoryId)
        .sort(),
    ).toEqual(['m2', 'm3']);
  });
});
