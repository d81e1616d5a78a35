/**
 * A conversation's raw-message count (its meta hash) evicted while the message list survived,
 * and the kinds a write or delete asks before it drops a conversation from the listings: reads
 * answer what is stored, counts stay exact (README, redis). Evicted by `DEL` of exactly that
 * key, as an eviction would, on a private server.
 */
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { describeWithService } from '../services.js';
import { usePrivateStores } from './private-stores.js';

describeWithService('redis')('redis raw messages whose count was evicted', () => {
  const { raw, prefix, open } = usePrivateStores('evr');
  const keys = () => new KeyLayout(prefix()).conversation('c');
  const stats = async (storage: RedisStorage) => {
    const { raw_message_count, search_index_entries, total_bytes } = await storage.getStorageStats();
    return { raw_message_count, search_index_entries, total_bytes };
  };

  describe.each([true, false])('with searchIndex %s', (searchIndex) => {
    it('loads the messages, replaces and deletes them with exact counts', async () => {
      const storage = await open({ searchIndex });
      await storage.storeRawMessages('other', [{ text: 'tea other' }]);
      const empty = await stats(storage);
      await storage.storeRawMessages('c', [{ text: 'tea one' }, { text: 'tea two' }, { text: 'tea three' }]);
      expect(await raw().del(keys().meta)).toBe(1);
      expect(await storage.loadRawMessages('c')).toEqual([
        { text: 'tea one' },
        { text: 'tea two' },
        { text: 'tea three' },
      ]);
      expect(await storage.loadRawMessages('c', { offset: 1, limit: 1 })).toEqual([{ text: 'tea two' }]);
      const readOnly = await open({ searchIndex, readOnly: true });
      expect(await readOnly.loadRawMessages('c')).toHaveLength(3);
      // A replace by one message takes the three out of the counts (and their search docs).
      await storage.storeRawMessages('c', [{ text: 'tea four' }]);
      expect(await storage.loadRawMessages('c')).toEqual([{ text: 'tea four' }]);
      const one = await stats(storage);
      expect(one.raw_message_count).toBe(2);
      expect(Number(one.total_bytes) - Number(empty.total_bytes)).toBe(
        JSON.stringify({ text: 'tea four' }).length,
      );
      if (searchIndex) expect(one.search_index_entries).toBe(2);
      expect(await storage.search({ text: 'tea' })).toHaveLength(2);
      // Evicted again, the conversation's delete counts them out too.
      await raw().del(keys().meta);
      expect(await storage.deleteConversation('c')).toBe(true);
      expect(await stats(storage)).toEqual(empty);
      expect(await storage.listAllConversationIds()).toEqual(['other']);
    });
  });

  it('keeps a conversation listed while its raw messages or memories remain', async () => {
    const storage = await open();
    await storage.storeRawMessages('c', [{ text: 'kept' }]);
    await storage.storeMemory('c', 'm', { note: 'gone soon' });
    await raw().del(keys().meta);
    // Its last memory deleted: its raw messages are still there.
    await storage.deleteMemory('c', 'm');
    expect(await storage.listAllConversationIds()).toEqual(['c']);
    // Raw messages emptied while the memory id list was evicted: its memories are still there.
    await storage.storeMemory('c', 'm', { note: 'stays' });
    await raw().del(keys().memories);
    await storage.storeRawMessages('c', []);
    expect(await storage.listAllConversationIds()).toEqual(['c']);
    expect((await storage.loadMemories('c')).map((m) => m.note)).toEqual(['stays']);
  });
});
