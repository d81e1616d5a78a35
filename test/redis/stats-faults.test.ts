/**
 * Stats read the bucket counters the write scripts keep: a corrupt counter or a wrong-typed
 * counters or cache-expiry key is a `CorruptDataError` naming the key, not a count of NaN.
 */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

describeWithService('redis')('redis stats of corrupt buckets', () => {
  const ctx = useRedisStore();

  it.each(['memories', 'bytes', 'search_rev'])(
    'refuses stats when the counter %s is not an integer, naming the counters key and field',
    async (field) => {
      const s = await ctx.open();
      await s.storeMemory('c', 'm1', { v: 1 });
      const { bucket } = new KeyLayout(ctx.prefix()).conversation('c');
      await ctx.raw().hset(bucket.counters, field, 'x');
      const error = await s.getStorageStats().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain(`${bucket.counters} field ${field} is not an integer`);
    },
  );

  it.each(['counters', 'cacheExpiry'] as const)(
    'names the bucket when its %s key has another type',
    async (name) => {
      const s = await ctx.open();
      const { bucket } = new KeyLayout(ctx.prefix()).conversation('c');
      await ctx.raw().set(bucket[name], 'wrong type');
      const error = await s.getStorageStats().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain(`${bucket[name]} is a string`);
    },
  );
});
