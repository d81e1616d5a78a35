/**
 * Redis keyset pages merge 64 per-bucket pages: a first round reads about twice each bucket's
 * share, so a skewed store (many ids in one bucket) needs the second round. These ids are
 * chosen by their bucket to force it.
 */
import { bucketOf } from '../../src/backends/redis/keys.js';
import { compareCodePoints } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

/** `count` ids of kind `kind` that all land in bucket 7, plus `others` spread anywhere. */
function skewedIds(kind: 'c' | 'k', count: number, others: number): string[] {
  const crowded: string[] = [];
  for (let i = 0; crowded.length < count; i += 1) {
    if (bucketOf(kind, `crowd-${i}`) === 7) crowded.push(`crowd-${i}`);
  }
  const spread = Array.from({ length: others }, (_, i) => `spread-${i}`);
  return [...crowded, ...spread];
}

describeWithService('redis')('redis keyset pages', () => {
  const ctx = useRedisStore();

  it('pages a store crowded into one bucket in code point order, each id once', async () => {
    const s = await ctx.open();
    const ids = skewedIds('c', 80, 40);
    for (const id of ids) await s.storeConversation(id, { id });
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: { items: string[]; next: string | null } = await s.listConversations({ after, limit: 25 });
      seen.push(...page.items);
      after = page.next;
      pages += 1;
    } while (after !== null);
    expect(seen).toEqual([...ids].sort(compareCodePoints));
    expect(pages).toBe(5);
  });

  it('fills a cache page past expired index entries in a crowded bucket', async () => {
    const s = await ctx.open();
    const ids = skewedIds('k', 60, 10);
    const expired = ids.filter((_, i) => i < 50 && i % 5 !== 0);
    for (const id of ids) await s.storeCacheEntry(id, { id }, expired.includes(id) ? 1 : undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const live = ids.filter((id) => !expired.includes(id)).sort(compareCodePoints);
    const first = await s.listCacheKeys({ limit: 12 });
    expect(first.items).toEqual(live.slice(0, 12));
    const rest = await s.listCacheKeys({ after: first.next, limit: 100 });
    expect(rest).toEqual({ items: live.slice(12), next: null });
  });
});
