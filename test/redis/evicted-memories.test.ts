/**
 * A conversation whose memory data hash was evicted (any `maxmemory-policy` but `noeviction`)
 * while its id list survived: reads answer what survives, a write of its memories starts them
 * afresh, deletes leave the counts exact (README, redis). Evicted by `DEL` of exactly that key,
 * as an eviction would, on a private server.
 */
import type { Redis } from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { compareCodePoints, CorruptDataError, type JsonObject } from '../../src/core/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { describeWithService } from '../services.js';
import { usePrivateStores } from './private-stores.js';
import { scanKeysWithPrefix } from './redis-server.js';

/**
 * Deletes conversation `c` and checks that only `other` is left: one memory, listed alone, one
 * search entry with the index on, and no key of `c`'s in the search buckets.
 */
async function expectDeletedLeavingOther(
  storage: RedisStorage,
  raw: Redis,
  prefix: string,
  searchIndex: boolean,
) {
  expect(await storage.deleteConversation('c')).toBe(true);
  const stats = await storage.getStorageStats();
  expect(stats.memory_count).toBe(1);
  expect(await storage.listAllConversationIds()).toEqual(['other']);
  if (searchIndex) expect(stats.search_index_entries).toBe(1);
  const left = await scanKeysWithPrefix(raw, `${prefix}{b:`);
  expect(left.filter((key) => key.includes(':c:c:'))).toEqual([]);
}

describeWithService('redis')('redis memories whose data hash was evicted', () => {
  const { server, raw, prefix, open, track } = usePrivateStores('evm');
  const keys = () => new KeyLayout(prefix()).conversation('c');
  /** Stores m1, m2 in `c` and m in `other`, then evicts `c`'s memory data hash. */
  const evicted = async (storage: RedisStorage) => {
    await storage.storeMemory('c', 'm1', { note: 'tea one' });
    await storage.storeMemory('c', 'm2', { note: 'tea two' });
    await storage.storeMemory('other', 'm', { note: 'tea three' });
    expect(await raw().del(keys().memoryData)).toBe(1);
    expect(await raw().lrange(keys().memories, 0, -1)).toEqual(['m1', 'm2']);
  };
  const notes = (memories: JsonObject[]) => memories.map((m) => [m.memory_id, m.note]);
  const memoryCount = async (storage: RedisStorage) => (await storage.getStorageStats()).memory_count;

  describe.each([true, false])('with searchIndex %s', (searchIndex) => {
    it('loads what survives: none of its memories, in full and by window', async () => {
      const storage = await open({ searchIndex });
      await evicted(storage);
      expect(await storage.loadMemories('c')).toEqual([]);
      expect(await storage.loadMemories('c', { offset: 0, limit: 1 })).toEqual([]);
      expect(await storage.loadMemories('c', { offset: 1 })).toEqual([]);
      expect(notes(await storage.loadMemories('other'))).toEqual([['m', 'tea three']]);
      // Search hits of the evicted memories are dropped (their record is gone).
      const hits = await storage.search({ text: 'tea' });
      expect(hits.map((h) => [h.kind, 'conversationId' in h ? h.conversationId : ''])).toEqual([
        ['memories', 'other'],
      ]);
      expect((await storage.healthCheck()).status).toBe('healthy');
      // A read-only open reads the same (it can repair nothing).
      const readOnly = await open({ searchIndex, readOnly: true });
      expect(await readOnly.loadMemories('c')).toEqual([]);
    });

    it('stores an evicted id again once, a new one after it, and counts them exactly', async () => {
      const storage = await open({ searchIndex });
      await evicted(storage);
      // Until a write, the counters still count the evicted memories.
      expect(await memoryCount(storage)).toBe(3);
      expect(await storage.storeMemory('c', 'm2', { note: 'again' })).toBe(true);
      expect(notes(await storage.loadMemories('c'))).toEqual([['m2', 'again']]);
      expect(await raw().lrange(keys().memories, 0, -1)).toEqual(['m2']);
      expect(await memoryCount(storage)).toBe(2);
      await storage.storeMemory('c', 'm3', { note: 'new' });
      expect(notes(await storage.loadMemories('c'))).toEqual([
        ['m2', 'again'],
        ['m3', 'new'],
      ]);
      expect(await memoryCount(storage)).toBe(3);
      expect(await storage.search({ text: 'tea' })).toHaveLength(1);
      if (searchIndex) expect((await storage.getStorageStats()).search_index_entries).toBe(3);
    });

    it('stores a batch over evicted ids once each, counted exactly', async () => {
      const storage = await open({ searchIndex });
      await evicted(storage);
      await storage.storeMemories('c', [
        { memoryId: 'm1', data: { note: 'one' } },
        { memoryId: 'm4', data: { note: 'four' } },
      ]);
      expect(notes(await storage.loadMemories('c'))).toEqual([
        ['m1', 'one'],
        ['m4', 'four'],
      ]);
      expect((await storage.loadMemories('c'))[0]!.created_at).toEqual(expect.any(String));
      expect(await memoryCount(storage)).toBe(3);
      if (searchIndex) expect((await storage.getStorageStats()).search_index_entries).toBe(3);
    });

    it('deletes evicted memories one by one, and the conversation, with exact counts', async () => {
      const storage = await open({ searchIndex });
      await evicted(storage);
      await storage.storeConversation('c', { title: 'kept' });
      expect(await storage.deleteMemory('c', 'm1')).toBe(true);
      expect(await memoryCount(storage)).toBe(2);
      expect(await storage.deleteMemory('c', 'm2')).toBe(true);
      expect(await memoryCount(storage)).toBe(1);
      expect(await raw().exists(keys().memories)).toBe(0);
      expect(await storage.loadConversation('c')).toEqual({ title: 'kept' });
      // Once more, whole: the conversation's delete counts the evicted memories out.
      await storage.storeMemory('c', 'm5', { note: 'five' });
      await raw().del(keys().memoryData);
      expect(await memoryCount(storage)).toBe(2);
      await expectDeletedLeavingOther(storage, raw(), prefix(), searchIndex);
    });
  });

  it('migrates out what survives', async () => {
    const storage = await open();
    await evicted(storage);
    await storage.storeConversation('c', { title: 'kept' });
    const target = new RedisStorage({ url: server().url, keyPrefix: `${prefix()}target:` });
    track(target);
    const summary = await migrateStorage(storage, target, { sourceId: 'evicted', targetId: 'copy' });
    expect(summary).toMatchObject({ ok: true, conflictCount: 0 });
    const copy = await open({ keyPrefix: `${prefix()}target:` });
    expect(await copy.loadConversation('c')).toEqual({ title: 'kept' });
    expect(await copy.loadMemories('c')).toEqual([]);
    expect(notes(await copy.loadMemories('other'))).toEqual([['m', 'tea three']]);
  });

  it('still calls a listed memory missing from a data hash that exists corrupt, naming the conversation', async () => {
    // Not what an eviction does (it removes whole keys): a hand edit.
    const storage = await open();
    await evicted(storage);
    await storage.storeMemory('c', 'm3', { note: 'three' });
    await storage.storeMemory('c', 'm4', { note: 'four' });
    await raw().hdel(keys().memoryData, 'm3');
    const error = await storage.loadMemories('c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain('conversation "c"');
    expect((error as Error).message).toContain('memory "m3"');
    expect((error as Error).message).toContain(keys().memoryData);
  });
});

describeWithService('redis')('redis memories whose id list was evicted', () => {
  const { raw, prefix, open } = usePrivateStores('evl');
  const keys = () => new KeyLayout(prefix()).conversation('c');
  const ids = (memories: JsonObject[]) => memories.map((m) => m.memory_id);
  /** The survivors' created_at order: the instant (any offset), ties by id, no timestamp last. */
  const ORDER = ['a', 'd', 'c', 'b', 'n', 'e'];
  /** Stores b, a, c, d, n, e in `c` (created_at out of that order) and m in `other`, then evicts `c`'s id list. */
  const unlisted = async (storage: RedisStorage) => {
    await storage.storeMemory('c', 'b', { note: 'tea b', created_at: '2026-01-01T00:00:03.000000+00:00' });
    await storage.storeMemory('c', 'a', { note: 'tea a', created_at: '2026-01-01T00:00:01Z' });
    await storage.storeMemory('c', 'c', { note: 'tea c', created_at: '2026-01-01T01:00:02+01:00' });
    await storage.storeMemory('c', 'd', { note: 'tea d', created_at: '2026-01-01T00:00:01.000000+00:00' });
    await storage.storeMemory('c', 'n', { note: 'tea n' });
    await storage.storeMemory('c', 'e', { note: 'tea e', created_at: 'someday' });
    await storage.storeMemory('other', 'm', { note: 'tea m' });
    expect(await raw().del(keys().memories)).toBe(1);
  };
  const memoryCount = async (storage: RedisStorage) => (await storage.getStorageStats()).memory_count;

  describe.each([true, false])('with searchIndex %s', (searchIndex) => {
    it('loads the survivors in created_at order, in full, by window and by search', async () => {
      const storage = await open({ searchIndex });
      await unlisted(storage);
      const loaded = await storage.loadMemories('c');
      expect(ids(loaded)).toEqual(ORDER);
      expect(loaded[0]).toEqual({ memory_id: 'a', note: 'tea a', created_at: '2026-01-01T00:00:01Z' });
      expect(ids(await storage.loadMemories('c', { offset: 1, limit: 2 }))).toEqual(['d', 'c']);
      expect(ids(await storage.loadMemories('c', { offset: 4 }))).toEqual(['n', 'e']);
      expect(await storage.loadMemories('c', { offset: 6 })).toEqual([]);
      expect(await memoryCount(storage)).toBe(7);
      expect(await storage.search({ text: 'tea' })).toHaveLength(7);
      expect(await storage.listAllConversationIds()).toEqual(['c', 'other']);
      // A read-only open reads the same and writes nothing.
      const readOnly = await open({ searchIndex, readOnly: true });
      expect(ids(await readOnly.loadMemories('c'))).toEqual(ORDER);
      expect(await raw().exists(keys().memories)).toBe(0);
    });

    it('puts the list back in that order at the next single write: a new id, then a replace', async () => {
      const storage = await open({ searchIndex });
      await unlisted(storage);
      await storage.storeMemory('c', 'x', { note: 'new' });
      expect(await raw().lrange(keys().memories, 0, -1)).toEqual([...ORDER, 'x']);
      expect(await memoryCount(storage)).toBe(8);
      await raw().del(keys().memories);
      await storage.storeMemory('c', 'b', { note: 'again' });
      // x, stored now, comes before e, which has no timestamp.
      expect(await raw().lrange(keys().memories, 0, -1)).toEqual(['a', 'd', 'c', 'b', 'n', 'x', 'e']);
      const b = (await storage.loadMemories('c')).find((m) => m.memory_id === 'b');
      expect(b).toEqual({ memory_id: 'b', note: 'again', created_at: '2026-01-01T00:00:03.000000+00:00' });
      expect(await memoryCount(storage)).toBe(8);
      if (searchIndex) expect((await storage.getStorageStats()).search_index_entries).toBe(8);
    });

    it('puts the list back in that order at the next batch, replaces in place', async () => {
      const storage = await open({ searchIndex });
      await unlisted(storage);
      await storage.storeMemories('c', [
        { memoryId: 'y', data: { note: 'why' } },
        { memoryId: 'a', data: { note: 'a again' } },
      ]);
      expect(await raw().lrange(keys().memories, 0, -1)).toEqual([...ORDER, 'y']);
      expect(ids(await storage.loadMemories('c'))).toEqual([...ORDER, 'y']);
      expect(await memoryCount(storage)).toBe(8);
    });

    it('deletes one (the rest listed again, the conversation still listed), then the conversation', async () => {
      const storage = await open({ searchIndex });
      await unlisted(storage);
      expect(await storage.deleteMemory('c', 'a')).toBe(true);
      expect(await raw().lrange(keys().memories, 0, -1)).toEqual(ORDER.slice(1));
      expect(await memoryCount(storage)).toBe(6);
      expect(await storage.listAllConversationIds()).toEqual(['c', 'other']);
      await raw().del(keys().memories);
      await expectDeletedLeavingOther(storage, raw(), prefix(), searchIndex);
    });
  });

  it('orders 2,500 survivors of one created_at by id in code point order', async () => {
    const storage = await open();
    const many = Array.from({ length: 2500 }, (_, i) => `m${String(2499 - i).padStart(4, '0')}`);
    const all = [...many, '\u{1F600}', '\uFF01', '\u00E9'];
    const created_at = '2026-01-01T00:00:00.000000+00:00';
    for (let i = 0; i < all.length; i += 1000) {
      const batch = all.slice(i, i + 1000).map((memoryId) => ({ memoryId, data: { created_at } }));
      await storage.storeMemories('c', batch);
    }
    await raw().del(keys().memories);
    const expected = [...all].sort(compareCodePoints);
    expect(ids(await storage.loadMemories('c'))).toEqual(expected);
    await storage.storeMemory('c', 'z', { n: 2 });
    expect(await raw().lrange(keys().memories, 0, -1)).toEqual([...expected, 'z']);
  });
});

describeWithService('redis')('redis memories whose created_at hash was evicted', () => {
  const { raw, prefix, open } = usePrivateStores('evc');
  const keys = () => new KeyLayout(prefix()).conversation('c');
  const created = (memories: JsonObject[]) => memories.map((m) => [m.memory_id, m.created_at]);
  const T1 = '2026-01-01T00:00:01.000000+00:00';
  const T2 = '2026-01-01T00:00:02.000000+00:00';
  /** Stores p (at T2) and q (at T1), replaces both without a created_at, then evicts the created_at hash. */
  const undated = async (storage: RedisStorage) => {
    await storage.storeMemory('c', 'p', { note: 'p', created_at: T2 });
    await storage.storeMemory('c', 'q', { note: 'q', created_at: T1 });
    await storage.storeMemory('c', 'p', { note: 'p2' });
    await storage.storeMemories('c', [{ memoryId: 'q', data: { note: 'q2' } }]);
    expect(await raw().del(keys().memoryCreated)).toBe(1);
  };

  describe.each([true, false])('with searchIndex %s', (searchIndex) => {
    it('loads each memory with the created_at it kept through replaces (its record carries it)', async () => {
      const storage = await open({ searchIndex });
      await undated(storage);
      const expected = [
        ['p', T2],
        ['q', T1],
      ];
      expect(created(await storage.loadMemories('c'))).toEqual(expected);
      // Replaced again, single and in a batch: still the created_at it had, put back in its hash.
      await storage.storeMemory('c', 'p', { note: 'p3' });
      await storage.storeMemories('c', [{ memoryId: 'q', data: { note: 'q3' } }]);
      expect(created(await storage.loadMemories('c'))).toEqual(expected);
      expect(await raw().hgetall(keys().memoryCreated)).toEqual({
        p: JSON.stringify(T2),
        q: JSON.stringify(T1),
      });
      // An explicit created_at still replaces it.
      await storage.storeMemory('c', 'p', { note: 'p4', created_at: T1 });
      expect(created(await storage.loadMemories('c'))).toEqual([
        ['p', T1],
        ['q', T1],
      ]);
    });

    it('orders the survivors by their records created_at when the id list was evicted too', async () => {
      const storage = await open({ searchIndex });
      await undated(storage);
      await raw().del(keys().memories);
      expect(created(await storage.loadMemories('c'))).toEqual([
        ['q', T1],
        ['p', T2],
      ]);
      await storage.storeMemory('c', 'r', { note: 'r' });
      expect(await raw().lrange(keys().memories, 0, -1)).toEqual(['q', 'p', 'r']);
      expect((await storage.getStorageStats()).memory_count).toBe(3);
    });

    it('keeps the created_at of ids whose JSON text has escapes (ids may hold a quote)', async () => {
      const storage = await open({ searchIndex });
      const ids = ['q"u"o', '"', 'say "hi" \u00e9'];
      for (const [i, id] of ids.entries())
        await storage.storeMemory('c', id, { note: 'first', created_at: `2026-01-01T00:00:0${i}Z` });
      for (const id of ids) await storage.storeMemory('c', id, { note: 'second' });
      expect(await raw().del(keys().memoryCreated, keys().memories)).toBe(2);
      const dated = ids.map((id, i) => [id, `2026-01-01T00:00:0${i}Z`]);
      expect(created(await storage.loadMemories('c'))).toEqual(dated);
      await storage.storeMemory('c', ids[0]!, { note: 'third' });
      await storage.storeMemories('c', [{ memoryId: ids[1]!, data: { note: 'third' } }]);
      expect(created(await storage.loadMemories('c'))).toEqual(dated);
    });
  });
});
