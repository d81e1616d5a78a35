/**
 * The store's connection killed (`CLIENT KILL` from a second connection) while a batch is in
 * flight: the batch fails with a typed error naming the operation, each script is applied
 * whole or not at all, nothing is sent again after the reconnect (no offline queue, no resend
 * of unfulfilled commands), and the same instance works once reconnected. Private server only.
 */
import type Redis from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { BackendUnavailableError, BatchPartiallyAppliedError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { quickClient, usePrivateRedisServer, waitFor } from './redis-server.js';

/** The `CLIENT LIST` line of the store's own connection (its name is `connectome-storage`). */
async function storeClient(admin: Redis): Promise<string | undefined> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  return list.split('\n').find((line) => / name=connectome-storage /.test(line));
}

const idOf = (line: string): string => /^id=(\d+)/.exec(line)![1]!;

describeWithService('redis')('redis connection dropped mid-batch', () => {
  let admin: Redis | undefined;
  let storage: RedisStorage | undefined;
  const server = usePrivateRedisServer(async () => {
    await storage?.shutdown();
    admin?.disconnect();
  });

  beforeAll(async () => {
    admin = quickClient(server().url);
    await admin.connect();
  });
  afterEach(async () => {
    await admin!.call('CLIENT', 'UNPAUSE');
    await storage?.shutdown();
    storage = undefined;
  });

  const open = async (keyPrefix: string) => {
    storage = new RedisStorage({
      url: server().url,
      keyPrefix,
      commandTimeout: 60_000,
      connectTimeout: 1000,
    });
    await storage.initialize();
    return storage;
  };

  /**
   * Runs `write` while the server holds every write (`CLIENT PAUSE WRITE`), so its script is
   * received, not run; kills the store's connection then, and lets the server go on.
   */
  async function killWhileHeld(write: () => Promise<unknown>): Promise<unknown> {
    const before = idOf((await storeClient(admin!))!);
    await admin!.call('CLIENT', 'PAUSE', '20000', 'WRITE');
    const settled = write().then(
      () => new Error('the write succeeded'),
      (error: unknown) => error,
    );
    // Held: the connection is blocked (flag b) on the script it sent.
    await waitFor('the write to reach the server', async () =>
      / flags=b /.test((await storeClient(admin!))!),
    );
    await admin!.call('CLIENT', 'KILL', 'ID', before);
    await admin!.call('CLIENT', 'UNPAUSE');
    const error = await settled;
    // The client reconnects by itself, on a new connection.
    await waitFor('the store to reconnect', async () => {
      const line = await storeClient(admin!);
      return line !== undefined && idOf(line) !== before;
    });
    return error;
  }

  /** Proves nothing was re-sent: a write and a pause after the reconnect, then the store's keys. */
  async function expectNothingLanded(s: RedisStorage, prefix: string): Promise<void> {
    await s.storeSystemState('after', { v: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stats = await s.getStorageStats();
    expect([stats.memory_count, stats.cache_entry_count, stats.system_state_count]).toEqual([0, 0, 1]);
    const keys = await admin!.keys(`${prefix}*`);
    expect(keys.filter((key) => /:(memories|memory-data|cache)$/.test(key))).toEqual([]);
  }

  it('storeMemories: fails typed, naming the call; nothing lands after the reconnect', async () => {
    const s = await open('drop-mem:');
    const memories = Array.from({ length: 500 }, (_, i) => ({ memoryId: `m${i}`, data: { i } }));
    const error = await killWhileHeld(() => s.storeMemories('c', memories));
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain(
      'store 500 memories of "c" failed: connection lost before the reply',
    );
    await expectNothingLanded(s, 'drop-mem:');
    expect(await s.loadMemories('c')).toEqual([]);
    // The same instance writes the batch once reconnected.
    await s.storeMemories('c', memories);
    expect(await s.loadMemories('c')).toHaveLength(500);
  });

  it('storeCacheEntries: fails typed, naming the call; nothing lands after the reconnect', async () => {
    const s = await open('drop-cache:');
    const entries = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, data: { i }, ttlSeconds: 600 }));
    const error = await killWhileHeld(() => s.storeCacheEntries(entries));
    // One script on a standalone server: all or nothing, so the failure itself.
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain(
      'store 500 cache entries from "k0" failed: connection lost before the reply',
    );
    await expectNothingLanded(s, 'drop-cache:');
    expect(await s.listCacheKeys()).toEqual([]);
    await s.storeCacheEntries(entries);
    expect((await s.loadCacheEntries(['k0', 'k499'])).map((e) => e?.i)).toEqual([0, 499]);
  });

  it('a read cut the same way says it was sent, without calling itself a write', async () => {
    const s = await open('drop-read:');
    await s.storeCacheEntries([{ key: 'k0', data: { i: 0 }, ttlSeconds: 600 }]);
    // The stats read is a script the server holds like a write (scripts declare no flags).
    const error = await killWhileHeld(() => s.getStorageStats());
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(
      /read (bucket )?stats failed: connection lost before the reply \(the call was sent: if it writes, it may/,
    );
    await waitFor('the store to work again', async () => {
      await s.storeSystemState('after', { v: 1 });
      return true;
    });
    expect((await s.getStorageStats()).cache_entry_count).toBe(1);
  });

  it('storeConversationBatch: each part whole or absent, the applied items complete', async () => {
    const s = await open('drop-batch:');
    const pad = 'x'.repeat(2000);
    const items = Array.from({ length: 400 }, (_, i) => ({
      conversationId: `c${i}`,
      conversation: { i, pad },
      rawMessages: Array.from({ length: 20 }, (_, j) => ({ j, pad })),
      memories: Array.from({ length: 5 }, (_, j) => ({ memoryId: `m${j}`, data: { j, pad } })),
      chunkInfo: { i },
    }));
    // The scripts loaded first (a fresh server answers NOSCRIPT, and each part is sent again
    // by EVAL after that reply): the batch then goes out in one write, each part one EVALSHA.
    await s.storeConversationBatch([{ ...items[0]!, conversationId: 'warm-up' }]);
    await s.deleteConversation('warm-up');
    // No pause: the server runs the first parts, and the kill lands mid-batch.
    const before = idOf((await storeClient(admin!))!);
    const settled = s.storeConversationBatch(items).then(
      () => new Error('the batch succeeded'),
      (error: unknown) => error,
    );
    const landed = async () => (await admin!.keys('drop-batch:*')).length;
    await waitFor('some parts to land', async () => (await landed()) > 100, 20_000);
    await admin!.call('CLIENT', 'KILL', 'ID', before);
    const error = await settled;
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    const partial = error as BatchPartiallyAppliedError;
    expect(partial.message).toContain('storeConversationBatch()');
    expect(partial.cause).toBeInstanceOf(BackendUnavailableError);
    expect(partial.message).toContain('connection lost before the reply');
    expect(partial.applied).toBeGreaterThan(0);
    expect(partial.applied).toBeLessThan(items.length);
    await waitFor('the store to work again', async () => {
      await s.storeSystemState('after', { v: 1 });
      return true;
    });
    // Every part is whole or absent; every applied item whole; the counters agree.
    let conversations = 0;
    let memories = 0;
    for (const [i, item] of items.entries()) {
      const conversation = await s.loadConversation(item.conversationId);
      const raw = await s.loadRawMessages(item.conversationId);
      const stored = await s.loadMemories(item.conversationId);
      const chunk = await s.loadChunkInfo(item.conversationId);
      expect([null, item.conversation]).toContainEqual(conversation);
      expect([[], item.rawMessages]).toContainEqual(raw);
      expect([0, 5]).toContain(stored.length);
      expect([null, item.chunkInfo]).toContainEqual(chunk);
      if (partial.appliedItems.includes(i)) {
        expect([conversation, raw.length, stored.length, chunk]).toEqual([
          item.conversation,
          20,
          5,
          item.chunkInfo,
        ]);
      }
      if (conversation !== null) conversations += 1;
      memories += stored.length;
    }
    const stats = await s.getStorageStats();
    expect([stats.conversation_count, stats.memory_count]).toEqual([conversations, memories]);
    // Nothing re-sent since: the same counts after another round trip and a pause.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await s.getStorageStats()).raw_message_count).toBe(stats.raw_message_count);
    const listed = await s.listConversations();
    expect(listed).toHaveLength(conversations);
  }, 60_000);
});
