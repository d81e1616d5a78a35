/**
 * Record keys of another Redis type (another program's data under the store's prefix): every
 * delete removes such a key of the record(s) it deletes (until 2026-12-05 each one was refused
 * with a `CorruptDataError`, so only a hand `DEL` cleared it), keeping the counters, listings,
 * search index and chain sequence numbers right; writes over such a key still refuse it
 * (README, redis, Faults). Run with the index on and off.
 */
import type Redis from 'ioredis';
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';

/** Makes `key` a key of another type than the library's `type` (the value is another program's). */
async function plantForeign(raw: Redis, key: string, type: string): Promise<void> {
  await raw.del(key);
  if (type === 'string') await raw.rpush(key, 'x');
  else await raw.set(key, 'not a ' + type);
}

describeWithService('redis').each([true, false])(
  'redis deletes of keys of another type (index %p)',
  (searchIndex) => {
    const ctx = useRedisStore();
    const open = () => ctx.open({ searchIndex });
    const layout = () => new KeyLayout(ctx.prefix());
    const stats = async (storage: RedisStorage) => {
      const s = await storage.getStorageStats();
      return {
        conversations: s.conversation_count,
        raw: s.raw_message_count,
        memories: s.memory_count,
        chunks: s.chunk_info_count,
        chains: s.reasoning_chain_count,
        agents: s.agent_count,
        states: s.system_state_count,
        cache: s.cache_entry_count,
        bytes: s.total_bytes,
        docs: s.search_index_entries,
      };
    };
    const empty = {
      conversations: 0,
      raw: 0,
      memories: 0,
      chunks: 0,
      chains: 0,
      agents: 0,
      states: 0,
      cache: 0,
    };
    const keysOf = async (part: string) =>
      (await keysWithPrefix(ctx.raw(), ctx.prefix())).filter((k) => k.includes(part));

    it('deleteSystemState removes a state key of another type, stored before or never', async () => {
      const storage = await open();
      await storage.storeSystemState('stored', { v: 1 });
      await plantForeign(ctx.raw(), layout().state('stored').key, 'string');
      await plantForeign(ctx.raw(), layout().state('planted').key, 'string');
      await expect(storage.storeSystemState('stored', { v: 2 })).rejects.toThrow(CorruptDataError);
      await expect(storage.deleteSystemState('stored')).resolves.toBe(true);
      await expect(storage.deleteSystemState('planted')).resolves.toBe(true);
      expect(await keysOf(':s:')).toEqual([]);
      expect(await storage.listSystemStateKeys()).toEqual([]);
      // The stored one was counted (it was listed), the planted one never: none is left, none below 0.
      expect(await stats(storage)).toMatchObject({ ...empty, states: 0 });
      await storage.storeSystemState('stored', { v: 3 });
      expect(await storage.loadSystemState('stored')).toEqual({ v: 3 });
      expect((await stats(storage)).states).toBe(1);
    });

    it('deleteCacheEntry removes a value key of another type', async () => {
      const storage = await open();
      await storage.storeCacheEntry('k', { v: 1 }, 3600);
      await storage.storeCacheEntry('other', { v: 1 }, 3600);
      await plantForeign(ctx.raw(), layout().cache('k').key, 'string');
      await expect(storage.storeCacheEntry('k', { v: 2 }, 3600)).rejects.toThrow(CorruptDataError);
      await expect(storage.deleteCacheEntry('k')).resolves.toBe(true);
      expect(await ctx.raw().exists(layout().cache('k').key)).toBe(0);
      expect(await storage.listCacheKeys()).toEqual(['other']);
      expect((await stats(storage)).cache).toBe(1);
      await storage.storeCacheEntry('k', { v: 3 }, 3600);
      expect(await storage.loadCacheEntry('k')).toEqual({ v: 3 });
    });

    it('purgeExpiredCache drops the index entry of a value key of another type, and leaves the key', async () => {
      const storage = await open();
      await storage.storeCacheEntry('k', { v: 1 }, 3600);
      await storage.storeCacheEntry('other', { v: 1 }, 3600);
      await plantForeign(ctx.raw(), layout().cache('k').key, 'string');
      expect(await storage.listCacheKeys()).toEqual(['k', 'other']);
      // The library's value is gone (as after an eviction): its entry is no longer listed or counted.
      await expect(storage.purgeExpiredCache()).resolves.toBe(1);
      expect(await storage.listCacheKeys()).toEqual(['other']);
      expect((await stats(storage)).cache).toBe(1);
      await expect(storage.purgeExpiredCache()).resolves.toBe(0);
      // Another program's key is no entry the purge removes: a load still names it, a delete removes it.
      expect(await ctx.raw().type(layout().cache('k').key)).toBe('list');
      await expect(storage.loadCacheEntry('k')).rejects.toThrow(CorruptDataError);
      await expect(storage.deleteCacheEntry('k')).resolves.toBe(true);
      expect(await ctx.raw().exists(layout().cache('k').key)).toBe(0);
    });

    /** A conversation with every kind (the chunk info planted only by the chunks case). */
    async function seedConversation(storage: RedisStorage, withChunks: boolean): Promise<void> {
      await storage.storeConversation('c', { title: 'walrus talk' });
      await storage.storeRawMessages('c', [{ text: 'walrus one' }, { text: 'walrus two' }]);
      await storage.storeMemory('c', 'm1', { text: 'walrus memory' });
      await storage.storeMemory('c', 'm2', { text: 'walrus again' });
      if (withChunks) await storage.storeChunkInfo('c', { chunks: 1 });
    }

    // Which key of the conversation another program replaced, and its library type.
    const conversationKeys = [
      ['conversation', 'string'],
      ['meta', 'hash'],
      ['raw', 'list'],
      ['chunks', 'string'],
      ['memories', 'list'],
      ['memoryData', 'hash'],
      ['memoryCreated', 'hash'],
    ] as const;

    it.each(conversationKeys)('deleteConversation removes its %s key of another type', async (name, type) => {
      const storage = await open();
      await storage.storeConversation('keep', { title: 'kept' });
      const kept = await stats(storage);
      // The chunks case plants the chunk info (never counted), the others store it first.
      await seedConversation(storage, name !== 'chunks');
      // The payload bytes the replaced key held: counted by the library, unknown once replaced.
      const k = layout().conversation('c');
      const lost =
        name === 'conversation'
          ? await ctx.raw().strlen(k.conversation)
          : name === 'memoryData'
            ? (await ctx.raw().hstrlen(k.memoryData, 'm1')) + (await ctx.raw().hstrlen(k.memoryData, 'm2'))
            : 0;
      await plantForeign(ctx.raw(), layout().conversation('c')[name], type);
      await expect(storage.deleteConversation('c')).resolves.toBe(true);
      expect(await keysOf(':c:c:')).toEqual([]);
      expect(await storage.listAllConversationIds()).toEqual(['keep']);
      const after = await stats(storage);
      // Everything of the conversation is counted out and its search docs are gone; only the
      // bytes a replaced record key held stay counted (unknown once replaced).
      expect(after).toMatchObject({ ...empty, conversations: 1, docs: kept.docs });
      expect(after.bytes).toBe(Number(kept.bytes) + lost);
      if (searchIndex) expect(await storage.search({ text: 'walrus' })).toEqual([]);
      await seedConversation(storage, true);
      expect(await storage.loadMemories('c')).toHaveLength(2);
    });

    it.each([
      ['memories', 'list', ['m2'], 1],
      // The data hash gone, the listed ids are as after an eviction: none read, m2 still counted.
      ['memoryData', 'hash', [], 1],
      ['memoryCreated', 'hash', ['m2'], 1],
    ] as const)('deleteMemory removes its %s key of another type', async (name, type, left, counted) => {
      const storage = await open();
      await seedConversation(storage, false);
      await plantForeign(ctx.raw(), layout().conversation('c')[name], type);
      await expect(storage.deleteMemory('c', 'm1')).resolves.toBe(true);
      expect(await ctx.raw().type(layout().conversation('c')[name])).not.toBe('string');
      expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual(left);
      const after = await stats(storage);
      expect(after.memories).toBe(counted);
      if (searchIndex) {
        const hits = await storage.search({ text: 'walrus', kinds: ['memories'] });
        expect(hits.map((hit) => (hit.kind === 'memories' ? hit.record.memory_id : null))).not.toContain(
          'm1',
        );
      }
      await storage.storeMemory('c', 'm3', { text: 'walrus three' });
      expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual([...left, 'm3']);
      // A conversation with memories left, or none, is listed as such.
      expect(await storage.listAllConversationIds()).toEqual(['c']);
    });

    it('deleteMemory ignores conversation, raw and chunks keys of another type', async () => {
      const storage = await open();
      await storage.storeMemory('c', 'm1', { text: 'walrus memory' });
      await plantForeign(ctx.raw(), layout().conversation('c').chunks, 'string');
      await expect(storage.deleteMemory('c', 'm1')).resolves.toBe(true);
      expect(await storage.loadMemories('c')).toEqual([]);
      expect((await stats(storage)).memories).toBe(0);
      // The planted key is not the memory's: it stays, and so does the id that lists it.
      expect(await ctx.raw().type(layout().conversation('c').chunks)).toBe('list');
    });

    const sequences = async (storage: RedisStorage, agentId: string) =>
      (await storage.loadSequencedReasoningChains(agentId)).map(({ sequence }) => sequence);

    it('deleteReasoningChains removes a chains key of another type; numbers never go back', async () => {
      const storage = await open();
      await storage.storeReasoningChain('a', { steps: ['walrus 0'] });
      await storage.storeReasoningChain('a', { steps: ['walrus 1'] });
      await plantForeign(ctx.raw(), layout().agent('a').chains, 'list');
      await plantForeign(ctx.raw(), layout().agent('planted').chains, 'list');
      await expect(storage.deleteReasoningChains('a')).resolves.toBe(true);
      await expect(storage.deleteReasoningChains('planted')).resolves.toBe(true);
      expect(await keysOf(':a:planted:')).toEqual([]);
      expect(await ctx.raw().exists(layout().agent('a').chains)).toBe(0);
      expect(await storage.listAgents()).toEqual([]);
      // The listed agent is counted out; its two chains' count is unknown once replaced.
      expect((await stats(storage)).agents).toBe(0);
      await storage.storeReasoningChain('a', { steps: ['walrus 2'] });
      expect(await sequences(storage, 'a')).toEqual([2]);
      await storage.storeReasoningChain('planted', { steps: ['x'] });
      expect(await sequences(storage, 'planted')).toEqual([0]);
      expect((await stats(storage)).agents).toBe(2);
    });

    it('deleteReasoningChains removes a chain-appends key of another type', async () => {
      const storage = await open();
      await storage.storeReasoningChain('a', { steps: ['walrus 0'] });
      await plantForeign(ctx.raw(), layout().agent('a').chainAppends, 'zset');
      await expect(storage.storeReasoningChain('a', { steps: ['walrus 1'] })).rejects.toThrow(
        CorruptDataError,
      );
      await expect(storage.deleteReasoningChains('a')).resolves.toBe(true);
      expect(await stats(storage)).toMatchObject({ ...empty, bytes: 0 });
      await storage.storeReasoningChain('a', { steps: ['walrus 1'] });
      expect(await sequences(storage, 'a')).toEqual([1]);
    });

    it('deleteReasoningChains replaces an agent key of another type, keeping the numbers', async () => {
      const storage = await open();
      for (const n of [0, 1, 2]) await storage.storeReasoningChain('a', { steps: [`walrus ${n}`] });
      expect(await storage.trimReasoningChains('a', 2)).toBe(1);
      await plantForeign(ctx.raw(), layout().agent('a').agent, 'hash');
      await expect(storage.deleteReasoningChains('a')).resolves.toBe(true);
      expect(await stats(storage)).toMatchObject({ ...empty, bytes: 0, docs: 0 });
      if (searchIndex) expect(await storage.search({ text: 'walrus' })).toEqual([]);
      await storage.storeReasoningChain('a', { steps: ['walrus 3'] });
      // With the index, next comes back from the deleted chains' docs (3); without, from their count (2).
      expect(await sequences(storage, 'a')).toEqual([searchIndex ? 3 : 2]);
    });
  },
);
