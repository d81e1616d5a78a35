/** The store's own client sends the commands of one tick in one socket write (`tick-batcher.ts`). */
import type { Redis } from 'ioredis';
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { useRedisStore } from './helpers.js';
import { describeWithService } from '../services.js';

/** The socket of a store's own client (private: exactly what this test is about). */
function socketOf(storage: RedisStorage): Redis['stream'] {
  return (storage as unknown as { connection: { client: Redis } }).connection.client.stream;
}

/** Counts the writes a socket makes (one `_write` or `_writev` per system write). */
function countWrites(socket: Redis['stream']): { writes: () => number; restore: () => void } {
  const target = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  const originals = { _write: target._write, _writev: target._writev };
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    target[name] = function (this: unknown, ...args: unknown[]) {
      writes += 1;
      return originals[name].apply(this, args);
    };
  }
  return {
    writes: () => writes,
    restore: () => Object.assign(target, originals),
  };
}

describeWithService('redis')('redis tick batching', () => {
  const ctx = useRedisStore();

  it('sends the calls of one tick in one write, each reply reaching its own call', async () => {
    const s = await ctx.open({ searchIndex: false });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const counter = countWrites(socketOf(s));
    try {
      await Promise.all(keys.map((key, i) => s.storeCacheEntry(key, { i }, i % 2 ? 60 : null)));
      expect(counter.writes()).toBe(1);
      const loaded = await Promise.all(keys.map((key) => s.loadCacheEntry(key)));
      expect(counter.writes()).toBe(2);
      expect(loaded).toEqual(keys.map((_, i) => ({ i })));
    } finally {
      counter.restore();
    }
  });

  it('sends sequential calls one write each, replies in order', async () => {
    const s = await ctx.open({ searchIndex: false });
    const counter = countWrites(socketOf(s));
    try {
      await s.storeCacheEntry('a', { v: 1 });
      await s.storeConversation('c', { v: 2 });
      expect([await s.loadCacheEntry('a'), await s.loadConversation('c')]).toEqual([{ v: 1 }, { v: 2 }]);
      expect(counter.writes()).toBe(4);
    } finally {
      counter.restore();
    }
  });
});
