/**
 * A call that fails in this process (a stack overflow) is a plain `StorageError`, not a
 * `BackendUnavailableError`: a caller retrying on the latter would only meet it again. Until
 * 2026-12-04 every error that was not a server reply was reported as the server being
 * unavailable, so the stack overflows of huge calls read as outages.
 */
import type { RedisConnection } from '../../src/backends/redis/connection.js';
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { BackendUnavailableError, StorageError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

/** The storage's connection (a protected member). */
function connectionOf(s: RedisStorage): RedisConnection {
  return (s as unknown as { redis: RedisConnection }).redis;
}

describeWithService('redis')('redis: local faults are not outages', () => {
  const ctx = useRedisStore();

  it('a RangeError inside a call is a StorageError naming the call, not BackendUnavailableError', async () => {
    const s = await ctx.open();
    const error = await connectionOf(s)
      .run('load things', () => {
        const overflow = (n: number): number => overflow(n + 1) + 1;
        return Promise.resolve(overflow(0));
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StorageError);
    expect(error).not.toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/load things failed/);
    // The store goes on working.
    await s.storeCacheEntry('k', { v: 1 });
    expect(await s.loadCacheEntry('k')).toEqual({ v: 1 });
  });
});
