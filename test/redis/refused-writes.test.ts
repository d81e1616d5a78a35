/**
 * Writes the server refuses (out of memory, a read-only replica after a failover) fail with the
 * server's own error, not as corrupt data: the scripts whose first write is their type check
 * (`pcall`: a new memory with the index off, a chain append, a conversation, a cache entry)
 * must not read every failure of that write as a wrong type.
 */
import type Redis from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { BackendUnavailableError, CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { freePort, quickClient, usePrivateRedisServer } from './redis-server.js';

/** A way the server refuses writes: the commands that start and end it, what its error says. */
interface Refusal {
  name: string;
  start: () => Promise<unknown>;
  end: () => Promise<unknown>;
  message: RegExp;
  /** The error class a caller may retry on, when the refusal is one of "not available now". */
  unavailable: boolean;
}

describeWithService('redis')('redis writes the server refuses', () => {
  let storage: RedisStorage | undefined;
  let raw: Redis | undefined;
  const server = usePrivateRedisServer(async () => {
    await storage?.shutdown();
    raw?.disconnect();
  });

  beforeAll(async () => {
    storage = new RedisStorage({ url: server().url, searchIndex: false, keyPrefix: 'refused:' });
    await storage.initialize();
    raw = quickClient(server().url);
    await raw.connect();
    // Records already there: the refused writes are not the first of their bucket or list.
    await storage.storeMemory('c', 'm0', { v: 0 });
    await storage.storeReasoningChain('a', { v: 0 });
    await storage.storeConversation('c', { v: 0 });
    await storage.storeCacheEntry('k0', { v: 0 }, 3600);
  });

  const refusals: Refusal[] = [
    {
      name: 'out of memory',
      start: () => raw!.config('SET', 'maxmemory', '1'),
      end: () => raw!.config('SET', 'maxmemory', '0'),
      message: /OOM command not allowed/,
      unavailable: false,
    },
    {
      name: 'a read-only replica',
      // A master that is gone: the server keeps its data and refuses writes (replica-read-only).
      start: async () => raw!.call('REPLICAOF', '127.0.0.1', String(await freePort())),
      end: () => raw!.call('REPLICAOF', 'NO', 'ONE'),
      message: /READONLY/,
      unavailable: true,
    },
  ];

  // Each write is of a new record (`n`: a name no test used): its script's fast path.
  let n = 0;
  const writes: Array<[string, (s: RedisStorage) => Promise<unknown>]> = [
    ['a new memory', (s) => s.storeMemory('c', `m${n}`, { v: 1 })],
    ['a chain', (s) => s.storeReasoningChain('a', { v: 1 })],
    ['a new conversation', (s) => s.storeConversation(`c${n}`, { v: 1 })],
    ['a new cache entry', (s) => s.storeCacheEntry(`k${n}`, { v: 1 }, 3600)],
  ];
  const counts = async () => {
    const stats = await storage!.getStorageStats();
    return [
      stats.memory_count,
      stats.reasoning_chain_count,
      stats.conversation_count,
      stats.cache_entry_count,
    ];
  };

  describe.each(refusals)('$name', (refusal) => {
    it.each(writes)('%s fails with the server error, not as corrupt data', async (_, write) => {
      n += 1;
      const before = await counts();
      await refusal.start();
      let error: unknown;
      try {
        error = await write(storage!).then(
          () => new Error('the write succeeded'),
          (e: unknown) => e,
        );
      } finally {
        await refusal.end();
      }
      expect(error).not.toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toMatch(refusal.message);
      if (refusal.unavailable) expect(error).toBeInstanceOf(BackendUnavailableError);
      // Nothing was written, and the store takes the write once the server does.
      expect(await counts()).toEqual(before);
      await write(storage!);
      expect(await counts()).not.toEqual(before);
    });
  });
});
