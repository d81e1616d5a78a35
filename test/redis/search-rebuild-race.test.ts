/**
 * Two rebuilds of one bucket's search index at once (two processes opening a store written
 * with `searchIndex: false` together, or two `reindex()` calls): the older build stops once
 * the newer has begun, and the newer, which drops what the older wrote, finishes alone. Until
 * 2026-12-04 the older's later chunks were indexed beside the newer's, so their docs were
 * counted twice (`search_index_entries`, BM25's corpus) and scores differed from one rebuild's
 * until the next rebuild. The interleaving is forced through the connections' script calls.
 */
import type { RedisConnection } from '../../src/backends/redis/connection.js';
import type { RedisStorage } from '../../src/backends/redis/index.js';
import type { SearchHit } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

/** The storage's connection (a protected member, reached to watch its script calls). */
function connectionOf(s: RedisStorage): RedisConnection {
  return (s as unknown as { redis: RedisConnection }).redis;
}

/**
 * Calls `after` once, right after `s`'s first build chunk of 1,000 docs has been answered: the
 * first chunk of the one bucket with more (every other bucket's one chunk has fewer docs).
 */
function afterFirstChunk(s: RedisStorage, after: () => Promise<void>): void {
  const connection = connectionOf(s);
  const script = connection.script.bind(connection);
  let first = true;
  connection.script = async (what, lua, keys, args) => {
    const reply = await script(what, lua, keys, args);
    if (what === 'build search index' && args.length > 2000 && first) {
      first = false;
      await after();
    }
    return reply;
  };
}

const scored = (hits: SearchHit[]): Array<[string, number]> =>
  hits.map((hit) => [hit.kind === 'memories' ? hit.memoryId : hit.kind, hit.score]);

describeWithService('redis')('redis search index: two rebuilds of one bucket at once', () => {
  const ctx = useRedisStore();

  it('the older build stops and the newer finishes alone: entries and scores as after one rebuild', async () => {
    const plain = await ctx.open({ searchIndex: false });
    // One conversation, so one bucket: three build chunks of at most 1,000 docs.
    for (let i = 0; i < 2500; i += 500) {
      await plain.storeMemories(
        'c',
        Array.from({ length: 500 }, (_, j) => ({
          memoryId: `m${i + j}`,
          data: { text: `w${i + j} common` },
        })),
      );
    }
    const older = await ctx.open(); // its open rebuilds the stale bucket alone
    const newer = await ctx.open();
    const query = { text: 'w2100 w10 common', kinds: ['memories' as const], limit: 5 };
    const expected = scored(await older.search(query));
    expect((await older.getStorageStats()).search_index_entries).toBe(2500);

    let newerBuild: Promise<number> | undefined;
    // The newer build begins, and writes its first chunk (dropping the bucket's docs), between
    // the older build's first chunk and its second.
    afterFirstChunk(older, async () => {
      let written!: () => void;
      const newerWrote = new Promise<void>((resolve) => (written = resolve));
      afterFirstChunk(newer, async () => written());
      newerBuild = newer.reindex();
      await newerWrote;
    });
    await older.reindex();
    expect(await newerBuild).toBe(2500);

    expect((await older.getStorageStats()).search_index_entries).toBe(2500);
    expect(scored(await older.search(query))).toEqual(expected);
    expect(scored(await newer.search(query))).toEqual(expected);
    // Every doc is found once, by its own word.
    const hits = await newer.search({ text: 'w0 w999 w1000 w1999 w2000 w2499', limit: 100 });
    expect(
      scored(hits)
        .map(([id]) => id)
        .sort(),
    ).toEqual(['m0', 'm1000', 'm1999', 'm2000', 'm2499', 'm999']);
  });
});
