/**
 * A burst of searches on one store: each search sends one script per bucket, three round trips
 * over, so unbounded a burst queued every command of every search at once and each search's
 * last step waited behind the others' first ones, past the command timeout. The searches of a
 * store take turns (`REDIS_SEARCH_SLOTS`), so a burst that takes many command timeouts to
 * serve is served whole, and an aborted search waiting its turn sends nothing.
 */
import { REDIS_SEARCH_SLOTS } from '../../src/backends/redis/redis-base.js';
import type { RedisConnection } from '../../src/backends/redis/connection.js';
import { OperationAbortedError } from '../../src/core/index.js';
import { useRedisStore } from './helpers.js';
import { describeWithService } from '../services.js';

// Short, so the burst below takes several timeouts to serve (an unscoped search here costs ~3 ms
// of 64 scripts, times three steps, on an idle machine). 1.5 s, not less: under the fresh-clone
// CI's load the 8 searches in flight took over 400 ms a command.
const COMMAND_TIMEOUT = 1500;
/**
 * The burst's size: enough searches to take four command timeouts at the rate a calibration
 * burst was served (1,500 at most, ~3.6 s idle), so a loaded machine, which serves them up to
 * 20 times slower (a fixed 1,500 outlasted the test's 60 s in the fresh-clone CI), sends fewer.
 */
function burstSize(msPerSearch: number): number {
  return Math.min(1500, Math.max(200, Math.ceil((4 * COMMAND_TIMEOUT) / msPerSearch)));
}

describeWithService('redis')('redis search bursts', () => {
  const ctx = useRedisStore();

  it('answers every search of a burst far longer than the command timeout, each as one search alone', async () => {
    const s = await ctx.open({ commandTimeout: COMMAND_TIMEOUT });
    for (let i = 0; i < 20; i += 1) await s.storeMemory(`c${i}`, 'm', { text: `burst word ${i}` });
    const alone = await s.search({ text: 'burst word 7', limit: 3 });
    expect(alone.length).toBe(3);
    // Calibration: 80 at once take ten turns of the slots, far within one command timeout.
    const calibrated = Date.now();
    await Promise.all(Array.from({ length: 80 }, () => s.search({ text: 'burst word 7', limit: 3 })));
    const searches = burstSize((Date.now() - calibrated) / 80);
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: searches }, () => s.search({ text: 'burst word 7', limit: 3 })),
    );
    const elapsed = Date.now() - started;
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    // Before the slots all of them rejected ("search \"burst word 7\": read index version failed: Command timed out").
    expect({ failed: failures.length, first: failures[0] }).toEqual({ failed: 0, first: undefined });
    for (const r of results) if (r.status === 'fulfilled') expect(r.value).toEqual(alone);
    // The burst did outlast the timeout, so it is what the slots fixed (not a fast machine).
    expect(elapsed).toBeGreaterThan(COMMAND_TIMEOUT);
  }, 180_000);

  it('a search aborted while waiting for its turn rejects at once and sends nothing', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm', { text: 'queued words' });
    // Watches what the store's own connection is asked to send (a spy, the server stays real).
    const connection = (s as unknown as { redis: RedisConnection }).redis;
    const script = jest.spyOn(connection, 'script');
    const ahead = Array.from({ length: REDIS_SEARCH_SLOTS * 4 }, () => s.search({ text: 'queued' }));
    const controller = new AbortController();
    const waiting = s.search({ text: 'abortedtoken', signal: controller.signal });
    let aheadDone = 0;
    for (const search of ahead) void search.then(() => (aheadDone += 1));
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(OperationAbortedError);
    expect(aheadDone).toBeLessThan(ahead.length);
    expect((await Promise.all(ahead)).every((hits) => hits.length === 1)).toBe(true);
    const sentToken = script.mock.calls.some((call) => JSON.stringify(call).includes('abortedtoken'));
    script.mockRestore();
    expect(sentToken).toBe(false);
  });
});
