/**
 * A burst of calls larger than the pool serves within `connectionTimeoutMillis` is answered
 * whole: calls wait in the storage's own queue (core/call-gate.ts) with no timer per call, and
 * pg-pool's timeout times only connects. Until 2026-12-05 pg-pool timed each call's wait in its
 * queue, and the burst's tail rejected with "timeout exceeded when trying to connect". A given
 * pool the application also uses may still make a call wait in the pool: its own timeout
 * bounds that wait, as the last line.
 */
import pg from 'pg';
import { BackendUnavailableError, NotInitializedError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

const CALLS = 3000;
/** The first test's burst: more calls, to outlast the timeout even on a quiet machine (2.5-3 s here). */
const BURST_CALLS = 10_000;
/**
 * Long enough for a real connect on a busy machine, and for a pause of the shared server's
 * answers (each write's commit waits for an fsync: were a loaded disk to hold both connections'
 * commits for the 400 ms this was, the stall watch would reject the burst); the burst outlasts it.
 */
const TIMEOUT_MS = 1000;

describeWithService('postgres')('postgres pool bursts', () => {
  const ctx = usePostgresStore();

  it('answers every call of a burst that takes far longer than connectionTimeoutMillis', async () => {
    const s = await ctx.open({ max: 2, connectionTimeoutMillis: TIMEOUT_MS });
    await s.storeConversation('c', { title: 'x' });
    // Both connections open first: making the burst's calls blocks the loop for a while, and a
    // connect that began before it would be timed across it.
    await Promise.all([s.loadConversation('c'), s.loadConversation('c')]);
    const started = performance.now();
    // Reads, single-statement writes and transactions (a delete locks and deletes in one).
    const calls = Array.from({ length: BURST_CALLS }, (_, i) => {
      if (i % 3 === 0) return s.loadConversation('c');
      if (i % 3 === 1) return s.storeCacheEntry(`k${i % 50}`, { i });
      return s.deleteConversation(`gone-${i}`);
    });
    const results = await Promise.allSettled(calls);
    const wallMs = performance.now() - started;
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(failures.map((e) => e.message).slice(0, 3)).toEqual([]);
    // The burst's tail waited well past the timeout: it is the wait per call that no longer counts.
    expect(wallMs).toBeGreaterThan(1.5 * TIMEOUT_MS);
    expect(results[0]).toEqual({ status: 'fulfilled', value: { title: 'x' } });
    expect((await s.healthCheck()).pool_waiting_count).toBe(0);
  });

  it("still bounds a call's wait in a given pool that others hold (the pool's own timeout)", async () => {
    const pool = new pg.Pool({
      connectionString: POSTGRES_TEST_URL,
      max: 1,
      // Longer: the burst below runs on this one connection, whose answers a loaded machine held
      // up past 400 ms once and past 3 s once (2026-12-07, a CI run beside the conformance suite:
      // the stall watch, which this timeout also sets, rejected the burst).
      connectionTimeoutMillis: 6 * TIMEOUT_MS,
    });
    pool.on('error', () => undefined);
    try {
      const s = await ctx.open({ pool });
      // The application holds the pool's one connection: the storage cannot count it.
      const held = await pool.connect();
      try {
        const error = (await s.loadConversation('c').catch((e: unknown) => e)) as Error;
        expect(error).toBeInstanceOf(BackendUnavailableError);
        expect(error.message).toContain(
          "(no pooled connection came free in time: 1 open, all busy, 0 more calls waiting; send fewer calls at once or raise the given pool's size or connectionTimeoutMillis",
        );
      } finally {
        held.release();
      }
      expect(await s.loadConversation('c')).toBeNull();
      // Free again, the given pool serves a burst larger than its timeout whole, too.
      const results = await Promise.allSettled(Array.from({ length: CALLS }, () => s.loadConversation('c')));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('a shutdown during a burst waits for the waiting calls, which are answered; later calls are refused', async () => {
    const s = await ctx.open({ max: 1, connectionTimeoutMillis: TIMEOUT_MS });
    await s.storeConversation('c', { title: 'x' });
    const calls = Array.from({ length: CALLS }, () => s.loadConversation('c'));
    const closed = s.shutdown();
    const after = await s.loadConversation('c').catch((e: unknown) => e);
    expect(after).toBeInstanceOf(NotInitializedError);
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await expect(closed).resolves.toBe(true);
  });
});
