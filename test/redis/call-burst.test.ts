/**
 * A burst of calls on one store: at most `REDIS_CALLS_IN_FLIGHT` commands are out at once, the
 * rest wait their turn in the store's own queue with no timer, and a command's
 * `commandTimeout` counts from its sending at the end of its tick. Until 2026-12-05 every call
 * was sent at once, its timer started when it was made: a burst that took the server longer
 * than the timeout to serve lost its tail, and one whose making alone outlasted the timeout
 * lost every call (20,000 deletes at once with a 1 s timeout: all failed, each applied). A
 * server that stops answering still fails the waiting calls together, after one timeout.
 */
import type Redis from 'ioredis';
import { REDIS_CALLS_IN_FLIGHT } from '../../src/backends/redis/connection.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { useRedisStore } from './helpers.js';
import { quickClient, usePrivateRedisServer } from './redis-server.js';
import { describeWithService } from '../services.js';

const COMMAND_TIMEOUT = 1000;

/** The ioredis client of a store's own connection (private: its queue is what is tested). */
function clientOf(storage: RedisStorage): Redis {
  return (storage as unknown as { connection: { client: Redis } }).connection.client;
}

/** Rejection messages of `results`. */
const failures = (results: PromiseSettledResult<unknown>[]): string[] =>
  results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));

describeWithService('redis')('redis call bursts', () => {
  const ctx = useRedisStore();

  it('answers every call of a burst that takes the server several command timeouts to serve', async () => {
    const s = await ctx.open({ commandTimeout: COMMAND_TIMEOUT, searchIndex: false });
    // Calibration: 2,000 deletes (of absent conversations: a script each) at once.
    const calibrated = Date.now();
    await Promise.all(Array.from({ length: 2000 }, (_, i) => s.deleteConversation(`cal${i}`)));
    const msPerCall = Math.max(0.01, (Date.now() - calibrated) / 2000);
    const calls = Math.min(60_000, Math.max(5000, Math.ceil((3 * COMMAND_TIMEOUT) / msPerCall)));
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: calls }, (_, i) => s.deleteConversation(`c${i}`)),
    );
    const elapsed = Date.now() - started;
    const failed = failures(results);
    // Before: every one rejected ("delete conversation \"c0\" failed: Command timed out").
    expect({ failed: failed.length, first: failed[0] }).toEqual({ failed: 0, first: undefined });
    // The burst did outlast the timeout, so it is what the queue fixed (not a fast machine).
    expect(elapsed).toBeGreaterThan(COMMAND_TIMEOUT);
  }, 120_000);

  it(`has at most ${REDIS_CALLS_IN_FLIGHT} commands in flight, the rest sent as replies come`, async () => {
    const s = await ctx.open({ searchIndex: false });
    const client = clientOf(s);
    // ioredis's queue of commands sent and awaiting their replies (private in its types).
    const sent = (): number =>
      (client as unknown as { commandQueue: { length: number } }).commandQueue.length;
    let most = 0;
    let watching = true;
    const watch = (): void => {
      most = Math.max(most, sent());
      if (watching) setImmediate(watch);
    };
    watch();
    const writes = Array.from({ length: 3000 }, (_, i) => s.storeCacheEntry(`k${i}`, { i }, 60));
    await Promise.all(writes);
    watching = false;
    expect(most).toBeGreaterThan(REDIS_CALLS_IN_FLIGHT / 2);
    expect(most).toBeLessThanOrEqual(REDIS_CALLS_IN_FLIGHT);
    expect(await s.loadCacheEntries(['k0', 'k2999'])).toEqual([{ i: 0 }, { i: 2999 }]);
  });
});

describeWithService('redis')('redis call bursts on a server that stops answering', () => {
  const opened: RedisStorage[] = [];
  const server = usePrivateRedisServer(async () => {
    for (const s of opened.splice(0)) await s.shutdown();
  });

  it('fails the calls waiting their turn together, one command timeout after the first were sent', async () => {
    const timeout = 500;
    const s = new RedisStorage({ url: server().url, commandTimeout: timeout, searchIndex: false });
    opened.push(s);
    await s.initialize();
    const admin = quickClient(server().url);
    try {
      // WRITE: the store's scripts wait, the admin's UNPAUSE does not.
      await admin.client('PAUSE', 20_000, 'WRITE');
      const started = Date.now();
      // Sent one turn at a time, 16 turns of one timeout each would take 8 s.
      const results = await Promise.allSettled(
        Array.from({ length: 16 * REDIS_CALLS_IN_FLIGHT }, (_, i) => s.storeCacheEntry(`k${i}`, { i })),
      );
      const elapsed = Date.now() - started;
      expect(
        results.every((r) => r.status === 'rejected' && r.reason instanceof BackendUnavailableError),
      ).toBe(true);
      // The first turns' commands time out (a few more are sent as those turns come free, before
      // the stall is confirmed); every call still waiting then fails at once.
      const reasons = failures(results);
      const timedOut = reasons.filter((r) => r.includes('Command timed out')).length;
      const stalled = reasons.filter((r) =>
        r.includes(`no call got an answer from the server for ${timeout} ms`),
      ).length;
      expect(timedOut).toBeGreaterThanOrEqual(REDIS_CALLS_IN_FLIGHT);
      expect(stalled).toBeGreaterThan(12 * REDIS_CALLS_IN_FLIGHT);
      expect(timedOut + stalled).toBe(16 * REDIS_CALLS_IN_FLIGHT);
      expect(elapsed).toBeLessThan(4 * timeout + 2000);
    } finally {
      await admin.client('UNPAUSE');
      admin.disconnect();
    }
    // The server answers again, and so does the store.
    await s.storeCacheEntry('after', { ok: true });
    expect(await s.loadCacheEntry('after')).toEqual({ ok: true });
  }, 60_000);
});
