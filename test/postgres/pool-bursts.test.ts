/**
 * A burst of calls larger than the pool serves within `connectionTimeoutMillis`: the calls
 * served in time succeed, the rest reject with a `BackendUnavailableError` that says the pool's
 * connections were all busy and which options to change. Until 2026-12-05 they carried only
 * the driver's "timeout exceeded when trying to connect", which reads as an unreachable server.
 */
import pg from 'pg';
import { BackendUnavailableError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

const CALLS = 2000;

describeWithService('postgres')('postgres pool bursts', () => {
  const ctx = usePostgresStore();

  it("names the busy pool and the options when a burst outlasts the pool's wait", async () => {
    const s = await ctx.open({ max: 1, connectionTimeoutMillis: 50 });
    await s.storeConversation('c', { title: 'x' });
    const results = await Promise.allSettled(Array.from({ length: CALLS }, () => s.loadConversation('c')));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    // 2,000 reads one at a time take far more than 50 ms: the pool's tail gives up.
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.length).toBeLessThan(CALLS);
    for (const error of failures) {
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toMatch(
        /load conversation "c" failed: timeout exceeded when trying to connect \(no pooled connection came free in time: 1 open, all busy, \d+ more calls waiting; send fewer calls at once or raise `max` or `connectionTimeoutMillis`/,
      );
    }
    // The store works on once the burst is over.
    expect(await s.loadConversation('c')).toEqual({ title: 'x' });
  });

  it("names a given pool's own options", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 1, connectionTimeoutMillis: 50 });
    pool.on('error', () => undefined);
    try {
      const s = await ctx.open({ pool });
      // The test holds the pool's one connection, so the storage's call waits out the timeout.
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
    } finally {
      await pool.end();
    }
  });
});
