/**
 * Conformance: paged listings (keyset pages, opaque cursors, the iterator), stable walks under
 * concurrent writes, and bad paging input (issue 12, paging).
 */
import {
  compareCodePoints,
  MAX_PAGE_SIZE,
  type ListingName,
  type Page,
  type PageOptions,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

/** Ids whose code point order differs from UTF-16 order (U+E000 vs U+1F600) and from locale order. */
const IDS = ['b', 'a', 'B', 'a b', 'a.b', 'ä', 'z', '\ue000pua', '😀', '會話', 'a-1', 'a_1', 'Z9', '0'];
const SORTED = [...IDS].sort(compareCodePoints);

/** Stores one record for each id in the listing's kind (cache entries without expiry). */
async function seed(s: StorageInterface, listing: ListingName, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    if (listing === 'conversations') await s.storeConversation(id, { id });
    else if (listing === 'allConversationIds') await s.storeMemory(id, 'm', { id });
    else if (listing === 'agents') await s.storeReasoningChain(id, { id });
    else if (listing === 'cacheKeys') await s.storeCacheEntry(id, { id });
    else await s.storeSystemState(id, { id });
  }
}

/** Removes the record `seed` stored for `id`. */
async function unseed(s: StorageInterface, listing: ListingName, id: string): Promise<void> {
  if (listing === 'conversations' || listing === 'allConversationIds') await s.deleteConversation(id);
  else if (listing === 'agents') await s.deleteReasoningChains(id);
  else if (listing === 'cacheKeys') await s.deleteCacheEntry(id);
  else await s.deleteSystemState(id);
}

/** One page of a listing through its public method. */
function page(s: StorageInterface, listing: ListingName, options: PageOptions): Promise<Page<string>> {
  switch (listing) {
    case 'conversations':
      return s.listConversations(options);
    case 'allConversationIds':
      return s.listAllConversationIds(options);
    case 'agents':
      return s.listAgents(options);
    case 'cacheKeys':
      return s.listCacheKeys(options);
    case 'systemStateKeys':
      return s.listSystemStateKeys(options);
  }
}

/** Every page of a listing with `limit`, in order. */
async function allPages(s: StorageInterface, listing: ListingName, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | null = null;
  do {
    const result: Page<string> = await page(s, listing, { after, limit });
    pages.push(result.items);
    after = result.next;
  } while (after !== null);
  return pages;
}

async function collect(iterator: AsyncIterable<string>): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of iterator) ids.push(id);
  return ids;
}

const LISTINGS: ListingName[] = [
  'conversations',
  'allConversationIds',
  'agents',
  'cacheKeys',
  'systemStateKeys',
];

export function pagingTests(ctx: SuiteContext): void {
  describe('paging', () => {
    describe.each(LISTINGS)('%s', (listing) => {
      it('pages in code point order, each id once, and says when the last page is reached', async () => {
        const s = ctx.storage();
        await seed(s, listing, IDS);
        const pages = await allPages(s, listing, 4);
        // 14 ids in pages of 4: the fourth page (2 ids) is the last, with no empty page after it.
        expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 2]);
        expect(pages.flat()).toEqual(SORTED);
        expect(await page(s, listing, { limit: IDS.length })).toEqual({ items: SORTED, next: null });
        expect(await collect(s.iterate(listing, { pageSize: 3 }))).toEqual(SORTED);
      });

      it('returns an empty last page with no cursor on an empty store', async () => {
        const s = ctx.storage();
        expect(await page(s, listing, {})).toEqual({ items: [], next: null });
        expect(await collect(s.iterate(listing))).toEqual([]);
      });

      it('walks stably under concurrent writes: ids present throughout appear exactly once', async () => {
        const s = ctx.storage();
        const initial = Array.from({ length: 30 }, (_, i) => `id-${String(i).padStart(2, '0')}`);
        await seed(s, listing, initial);
        const deleted = new Set<string>();
        const seen: string[] = [];
        let after: string | null = null;
        let round = 0;
        do {
          const result: Page<string> = await page(s, listing, { after, limit: 4 });
          seen.push(...result.items);
          after = result.next;
          round += 1;
          // Between pages: delete the cursor's own id, one behind and one ahead, and add ids
          // behind, ahead and at the start.
          const behind = initial[round * 2];
          const ahead = initial[29 - round];
          for (const id of [result.items.at(-1), behind, ahead]) {
            if (id !== undefined && initial.includes(id) && !deleted.has(id)) {
              deleted.add(id);
              await unseed(s, listing, id);
            }
          }
          await seed(s, listing, [`id-${round}x`, `a-new-${round}`, `zz-new-${round}`]);
        } while (after !== null);
        expect(new Set(seen).size).toBe(seen.length);
        const survivors = initial.filter((id) => !deleted.has(id));
        expect(seen.filter((id) => initial.includes(id) && !deleted.has(id))).toEqual(survivors);
        expect([...seen].sort(compareCodePoints)).toEqual(seen);
      });

      it('refuses a cursor of another listing, a malformed cursor and a bad limit before any I/O', async () => {
        const s = ctx.storage();
        await seed(s, listing, IDS);
        const other = LISTINGS.find((l) => l !== listing) as ListingName;
        await seed(s, other, IDS);
        const foreign = (await page(s, other, { limit: 2 })).next;
        expect(foreign).not.toBeNull();
        const own = (await page(s, listing, { limit: 2 })).next as string;
        await s.shutdown(); // a call that reached I/O would now fail with NotInitializedError
        const forged = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
        const badCursors: unknown[] = [
          foreign,
          'not a cursor!',
          `${own}!`,
          own.slice(0, -3),
          '',
          42,
          {},
          forged({ v: 2, l: listing, k: 'a' }),
          forged({ v: 1, l: listing, k: 42 }),
          forged({ v: 1, l: listing, k: '' }),
          forged(['a']),
        ];
        for (const after of badCursors) {
          await expect(page(s, listing, { after } as PageOptions)).rejects.toThrow(ValidationError);
          await expect(page(s, listing, { after } as PageOptions)).rejects.toMatchObject({ field: 'after' });
        }
        for (const limit of [0, -1, 1.5, MAX_PAGE_SIZE + 1, Number.MAX_SAFE_INTEGER, NaN, '10', null]) {
          await expect(page(s, listing, { limit } as PageOptions)).rejects.toMatchObject({
            name: 'ValidationError',
            field: 'limit',
          });
        }
        await expect(page(s, listing, { pageSize: 2 } as PageOptions)).rejects.toThrow(ValidationError);
        await expect(page(s, listing, 'all' as unknown as PageOptions)).rejects.toThrow(ValidationError);
        await expect(page(s, listing, { signal: 'stop' } as unknown as PageOptions)).rejects.toThrow(
          ValidationError,
        );
        expect(() => s.iterate(listing, { pageSize: 0 })).toThrow(ValidationError);
        expect(() => s.iterate(listing, { after: foreign })).toThrow(ValidationError);
        expect(() => s.iterate('everything' as ListingName)).toThrow(ValidationError);
      });
    });

    it('accepts a limit of exactly MAX_PAGE_SIZE', async () => {
      const s = ctx.storage();
      await seed(s, 'systemStateKeys', ['s1', 's2']);
      expect(await s.listSystemStateKeys({ limit: MAX_PAGE_SIZE })).toEqual({
        items: ['s1', 's2'],
        next: null,
      });
    });

    it('pages every conversation id across the kinds that hold it, each id once', async () => {
      const s = ctx.storage();
      // Each id in one or more kinds, so a page merges the kinds' ids around the cursor.
      const kinds = ['conversation', 'raw', 'memories', 'chunk'] as const;
      for (const [i, id] of SORTED.entries()) {
        const held = kinds.filter((_, k) => (i + 1) & (1 << k));
        if (held.includes('conversation')) await s.storeConversation(id, { id });
        if (held.includes('raw')) await s.storeRawMessages(id, [1, 2, 3]);
        if (held.includes('memories'))
          await s.storeMemories(id, [
            { memoryId: 'a', data: {} },
            { memoryId: 'b', data: {} },
          ]);
        if (held.includes('chunk')) await s.storeChunkInfo(id, { id });
      }
      for (const limit of [1, 2, 3, 5]) {
        expect((await allPages(s, 'allConversationIds', limit)).flat()).toEqual(SORTED);
      }
    });

    it('resumes a walk from a cursor with the iterator', async () => {
      const s = ctx.storage();
      await seed(s, 'conversations', IDS);
      const first = await s.listConversations({ limit: 5 });
      expect(await collect(s.iterate('conversations', { after: first.next, pageSize: 2 }))).toEqual(
        SORTED.slice(5),
      );
    });

    it('pages cache keys over live entries only', async () => {
      const s = ctx.storage();
      const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      const short = keys.filter((_, i) => i % 3 !== 0);
      for (const key of keys) await s.storeCacheEntry(key, { key }, short.includes(key) ? 60 : undefined);
      await ctx.passTime(61_000, short);
      const live = keys.filter((key) => !short.includes(key));
      expect((await allPages(s, 'cacheKeys', 2)).flat()).toEqual(live);
      expect(await allPages(s, 'cacheKeys', 2)).toHaveLength(2);
      expect(await s.listCacheKeys({ limit: 1 })).toMatchObject({ items: ['k00'] });
    });
  });
}
