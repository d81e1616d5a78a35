/**
 * A stray field of a conversation's memory data hash: one whose id is not in the conversation's
 * memory id list (a hand edit, or a writer that died between the two keys). It is no memory: no
 * load answers it and no counter counted it, so no delete may count it out (before 2026-12-05
 * `deleteMemory` of it, or the conversation's delete, took one off `memory_count`, down to -1,
 * and its bytes off `total_bytes`), deleting the last listed memory must not leave it to be read
 * as the survivor of an evicted list, and a write of its id stores a new memory (before, the
 * write kept it unlisted: stored, never loaded). README, redis, "stray".
 */
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout, type ConversationKeys } from '../../src/backends/redis/keys.js';
import type { JsonObject } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';

/** The stray's record, as the library would have written it. */
const STRAY = JSON.stringify({ memory_id: 's', created_at: '2026-01-01T00:00:00Z', note: 'stray walrus' });

describeWithService('redis').each([true, false])(
  'redis stray memory data fields (index %p)',
  (searchIndex) => {
    const ctx = useRedisStore();
    const open = () => ctx.open({ searchIndex });
    const layout = (): ConversationKeys => new KeyLayout(ctx.prefix()).conversation('c');
    const counts = async (s: RedisStorage) => {
      const stats = await s.getStorageStats();
      return { memories: stats.memory_count, bytes: stats.total_bytes };
    };
    const ids = (memories: JsonObject[]) => memories.map((m) => m.memory_id);

    /** Stores m1 and m2 in `c`, then plants the stray `s` in its data hash; returns the counts before it. */
    async function withStray(s: RedisStorage) {
      await s.storeMemory('c', 'm1', { note: 'walrus one' });
      await s.storeMemory('c', 'm2', { note: 'walrus two' });
      const before = await counts(s);
      expect(await ctx.raw().hset(layout().memoryData, 's', STRAY)).toBe(1);
      expect(ids(await s.loadMemories('c'))).toEqual(['m1', 'm2']);
      expect(await counts(s)).toEqual(before);
      return before;
    }

    it('deleteMemory of a stray id removes it and counts nothing out', async () => {
      const s = await open();
      const before = await withStray(s);
      await expect(s.deleteMemory('c', 's')).resolves.toBe(true);
      expect(await ctx.raw().hexists(layout().memoryData, 's')).toBe(0);
      expect(await counts(s)).toEqual(before);
      expect(ids(await s.loadMemories('c'))).toEqual(['m1', 'm2']);
    });

    it('deleting the last listed memory takes the stray with it: it never loads, nothing goes below 0', async () => {
      const s = await open();
      await withStray(s);
      await s.deleteMemory('c', 'm1');
      await s.deleteMemory('c', 'm2');
      // Left behind, the stray read as the survivor of an evicted id list, then counted out.
      expect(await s.loadMemories('c')).toEqual([]);
      expect(await counts(s)).toEqual({ memories: 0, bytes: 0 });
      expect(await s.listAllConversationIds()).toEqual([]);
      await s.deleteMemory('c', 's');
      await s.deleteConversation('c');
      expect(await counts(s)).toEqual({ memories: 0, bytes: 0 });
      expect(await keysWithPrefix(ctx.raw(), `${ctx.prefix()}{b:`)).not.toContainEqual(
        expect.stringContaining(':c:c:'),
      );
    });

    it('deleteConversation counts out the listed memories only', async () => {
      const s = await open();
      await withStray(s);
      await s.deleteMemory('c', 'm2');
      await expect(s.deleteConversation('c')).resolves.toBe(true);
      expect(await counts(s)).toEqual({ memories: 0, bytes: 0 });
    });

    it('with strays left, a replace of a listed id stays a replace, and a batch lists a stray id once', async () => {
      const s = await open();
      const before = await withStray(s);
      await ctx.raw().hset(layout().memoryData, 't', STRAY.replace('"s"', '"t"'));
      const size = async (id: string) =>
        Buffer.byteLength((await ctx.raw().hget(layout().memoryData, id)) ?? '');
      const [m1, m2] = [await size('m1'), await size('m2')];
      await s.storeMemory('c', 'm1', { note: 'walrus one again' });
      await s.storeMemories('c', [
        { memoryId: 's', data: { note: 'first' } },
        { memoryId: 'm2', data: { note: 'walrus two again' } },
        { memoryId: 's', data: { note: 'second' } },
      ]);
      expect((await s.loadMemories('c')).map((m) => [m.memory_id, m.note])).toEqual([
        ['m1', 'walrus one again'],
        ['m2', 'walrus two again'],
        ['s', 'second'],
      ]);
      const grown = (await size('m1')) - m1 + (await size('m2')) - m2 + (await size('s'));
      expect(await counts(s)).toEqual({ memories: before.memories + 1, bytes: (before.bytes ?? 0) + grown });
      await s.deleteConversation('c');
      expect(await counts(s)).toEqual({ memories: 0, bytes: 0 });
    });

    it.each(['single', 'batch'])(
      'a %s write of a stray id stores a new memory, listed and counted once',
      async (how) => {
        const s = await open();
        const before = await withStray(s);
        if (how === 'single') await s.storeMemory('c', 's', { note: 'kept walrus' });
        else await s.storeMemories('c', [{ memoryId: 's', data: { note: 'kept walrus' } }]);
        expect((await s.loadMemories('c')).map((m) => [m.memory_id, m.note])).toEqual([
          ['m1', 'walrus one'],
          ['m2', 'walrus two'],
          ['s', 'kept walrus'],
        ]);
        const written = Buffer.byteLength((await ctx.raw().hget(layout().memoryData, 's')) ?? '');
        expect(await counts(s)).toEqual({
          memories: before.memories + 1,
          bytes: (before.bytes ?? 0) + written,
        });
        if (searchIndex) {
          const hits = await s.search({ text: 'kept' });
          expect(hits.map((h) => h.kind === 'memories' && h.memoryId)).toEqual(['s']);
        }
        await s.deleteConversation('c');
        expect(await counts(s)).toEqual({ memories: 0, bytes: 0 });
      },
    );
  },
);
