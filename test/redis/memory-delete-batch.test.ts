/**
 * Redis `deleteMemories` is one script (all or nothing) that leaves what `deleteMemory` in a
 * loop leaves, also on a conversation whose keys were evicted or taken by another program's
 * types (README, redis): two stores on one private server, one deleting by batch and one by
 * single calls, compared key by key (the search index by its hits) after the same damage.
 */
import type { Redis } from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { StorageError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { usePrivateStores } from './private-stores.js';
import { scanKeysWithPrefix } from './redis-server.js';

/** The damage done to conversation `c`'s memory keys before the deletes. */
type Damage =
  | 'none'
  | 'list evicted'
  | 'data evicted'
  | 'created evicted'
  | 'stray field'
  | 'listed twice'
  | 'list foreign'
  | 'data foreign'
  | 'created foreign';
const DAMAGES: Damage[] = [
  'none',
  'list evicted',
  'data evicted',
  'created evicted',
  'stray field',
  'listed twice',
  'list foreign',
  'data foreign',
  'created foreign',
];
/**
 * The ids deleted first and then the rest: a small batch (an `LREM` per id on whole keys) and one
 * of 16 ids or more (the id list read once and written back without them), absent ids added.
 */
const BATCHES: Record<'small' | 'large', [string[], string[]]> = {
  small: [
    ['m3', 's', 'absent', 'm1', 'm3'],
    ['m2', 'm4', 's'],
  ],
  large: [
    ['m3', 's', 'absent', 'm1', 'm3', ...Array.from({ length: 14 }, (_, n) => `a${n}`)],
    ['m2', 'm4', 's', ...Array.from({ length: 14 }, (_, n) => `b${n}`)],
  ],
};

/** Every key of `prefix` but the search index's, with its type and content, the prefix cut off. */
async function dump(raw: Redis, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await scanKeysWithPrefix(raw, prefix)).sort()) {
    const name = key.slice(prefix.length);
    if (/:(q:|search-)/.test(name)) continue;
    const type = await raw.type(key);
    if (type === 'list') out[name] = await raw.lrange(key, 0, -1);
    else if (type === 'zset') out[name] = await raw.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'string') out[name] = await raw.get(key);
    else if (type === 'hash') {
      const fields = await raw.hgetall(key);
      // A batch is one script, so one search revision where the loop made one per call.
      delete fields.search_rev;
      out[name] = fields;
    } else out[name] = type;
  }
  return out;
}

describeWithService('redis')('redis deleteMemories', () => {
  const { raw, prefix, open } = usePrivateStores('mdb');
  const layout = (p: string) => new KeyLayout(p).conversation('c');

  /** Stores c's memories m1..m4 and other's m, then does `damage` to c's keys. */
  async function seed(storage: RedisStorage, p: string, damage: Damage): Promise<void> {
    // Timestamps of the caller's, so the two stores' records are byte for byte the same.
    const createdAt = (n: number) => `2025-01-01T00:00:0${n}+00:00`;
    for (const [n, id] of ['m1', 'm2', 'm3', 'm4'].entries()) {
      await storage.storeMemory('c', id, { note: `walrus ${id}`, created_at: createdAt(n) });
    }
    await storage.storeMemory('other', 'm', { note: 'walrus other', created_at: createdAt(9) });
    const k = layout(p);
    const r = raw();
    if (damage === 'list evicted') await r.del(k.memories);
    if (damage === 'data evicted') await r.del(k.memoryData);
    if (damage === 'created evicted') await r.del(k.memoryCreated);
    if (damage === 'stray field')
      await r.hset(k.memoryData, 's', JSON.stringify({ memory_id: 's', note: 'walrus stray' }));
    // A hand edit listing m3 again: its count goes down by both.
    if (damage === 'listed twice') await r.rpush(k.memories, 'm3');
    if (damage === 'list foreign') await r.del(k.memories).then(() => r.set(k.memories, 'not a list'));
    if (damage === 'data foreign') await r.del(k.memoryData).then(() => r.set(k.memoryData, 'not a hash'));
    if (damage === 'created foreign')
      await r.del(k.memoryCreated).then(() => r.set(k.memoryCreated, 'not a hash'));
  }

  describe.each([
    [true, 'small'],
    [false, 'small'],
    [true, 'large'],
    [false, 'large'],
  ] as const)('with searchIndex %s, a %s batch', (searchIndex, size) => {
    it.each(DAMAGES)('equals deleteMemory in a loop on a conversation with damage: %s', async (damage) => {
      const [pb, ps] = [`${prefix()}b:`, `${prefix()}s:`];
      const batch = await open({ searchIndex, keyPrefix: pb });
      const single = await open({ searchIndex, keyPrefix: ps });
      await seed(batch, pb, damage);
      await seed(single, ps, damage);
      const [ids, rest] = BATCHES[size];
      await expect(batch.deleteMemories('c', ids)).resolves.toBe(ids.length);
      for (const id of ids) await single.deleteMemory('c', id);
      expect(await dump(raw(), pb)).toEqual(await dump(raw(), ps));
      for (const read of [
        (s: RedisStorage) => s.loadMemories('c'),
        (s: RedisStorage) => s.listAllConversationIds(),
        (s: RedisStorage) =>
          s.getStorageStats().then((stats) => [stats.memory_count, stats.search_index_entries]),
        (s: RedisStorage) =>
          s.search({ text: 'walrus' }).then((hits) => hits.map((h) => JSON.stringify(h.record))),
      ]) {
        expect(await read(batch)).toEqual(await read(single));
      }
      // Then every memory left: c is gone from the listing on both.
      await batch.deleteMemories('c', rest);
      for (const id of rest) await single.deleteMemory('c', id);
      expect(await dump(raw(), pb)).toEqual(await dump(raw(), ps));
      expect(await batch.listAllConversationIds()).toEqual(['other']);
    });
  });

  it('sends one script for the whole batch, whatever its size', async () => {
    const storage = await open({ searchIndex: true });
    const ids = Array.from({ length: 50 }, (_, n) => `m${n}`);
    await storage.storeMemories(
      'c',
      ids.map((memoryId) => ({ memoryId, data: { note: `walrus ${memoryId}` } })),
    );
    const calls = async () => {
      const info = await raw().info('commandstats');
      return (
        Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0) +
        Number(/cmdstat_eval:calls=(\d+)/.exec(info)?.[1] ?? 0)
      );
    };
    const before = await calls();
    await expect(storage.deleteMemories('c', [...ids.slice(10), 'absent'])).resolves.toBe(41);
    expect((await calls()) - before).toBe(1);
    expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual(ids.slice(0, 10));
    expect((await storage.getStorageStats()).memory_count).toBe(10);
  });

  it('writes nothing when a search index key has another type (the bucket is marked stale)', async () => {
    const storage = await open({ searchIndex: true });
    await storage.storeMemory('c', 'm1', { note: 'walrus one' });
    await storage.storeMemory('c', 'm2', { note: 'walrus two' });
    const k = layout(prefix());
    const docs = k.bucket.searchDocs;
    const saved = await raw().hgetall(docs);
    await raw().del(docs);
    await raw().set(docs, 'not a hash');
    const error = await storage.deleteMemories('c', ['m1', 'm2']).then(
      () => new Error('the batch resolved'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/delete 2 memories of "c"/);
    expect(await raw().lrange(k.memories, 0, -1)).toEqual(['m1', 'm2']);
    expect((await storage.getStorageStats()).memory_count).toBe(2);
    expect(await raw().hget(k.bucket.counters, 'search_stale')).toBe('1');
    // Once the index key is whole again, the batch goes through and searches answer the rest.
    await raw().del(docs);
    await raw().hset(docs, saved);
    await storage.deleteMemories('c', ['m1']);
    expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual(['m2']);
    expect((await storage.search({ text: 'walrus' })).map((hit) => JSON.stringify(hit.record))).toEqual([
      expect.stringContaining('walrus two'),
    ]);
  });
});
