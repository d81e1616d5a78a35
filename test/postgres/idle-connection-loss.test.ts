/**
 * An idle pooled connection the server terminates (a DBA's `pg_terminate_backend`, a
 * failover dropping sessions), on a private server: nothing crashes, the next calls work,
 * and `healthCheck()` reports the error with its time (`last_pool_error_at`) while `healthy`,
 * so an operator can tell an old drop the pool got over from a current failure.
 */
import { settle, useFaultSuite } from './fault-helpers.js';
import { describeWithPrivatePostgres, type PrivatePostgres } from './private-server.js';
import type { PostgresStorage } from '../../src/backends/postgres/index.js';
import { formatEpochMs } from '../../src/core/index.js';

/** Terminates every idle connection of the store's pool; returns how many there were. */
async function terminateIdle(server: PrivatePostgres): Promise<number> {
  const rows = await server.query<{ done: boolean }>(
    `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
      WHERE application_name = 'connectome-storage' AND state = 'idle'`,
  );
  return rows.length;
}

/** Waits until the store's health report names a pool error (the pool heard the drop). */
async function poolErrorReported(s: PostgresStorage): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i += 1) {
    // The probe's own query may take the dropped connection before the pool hears of it: poll.
    await new Promise((resolve) => setTimeout(resolve, 25));
    const outcome = await settle(s.healthCheck());
    if (outcome.ok && outcome.value.last_pool_error !== undefined) return outcome.value;
  }
  throw new Error('the pool never reported the dropped connection');
}

describeWithPrivatePostgres()('postgres: an idle pooled connection is terminated', () => {
  const { stores, server } = useFaultSuite();

  it('health reports the drop with its time while healthy, and calls go on working', async () => {
    const s = await stores.store(server(), { max: 1 });
    await s.storeConversation('c', { v: 1 });
    const before = await s.healthCheck();
    expect(before.status).toBe('healthy');
    expect(before).not.toHaveProperty('last_pool_error');
    expect(before).not.toHaveProperty('last_pool_error_at');
    const sinceMs = Date.now();
    expect(await terminateIdle(server())).toBe(1);
    const after = await poolErrorReported(s);
    expect(after.last_pool_error).toMatch(/terminat/);
    expect(after.status).toBe('healthy');
    const atMs = Date.parse(String(after.last_pool_error_at));
    expect(atMs).toBeGreaterThanOrEqual(sinceMs);
    expect(atMs).toBeLessThanOrEqual(Date.now());
    // The library's timestamp format (`+00:00`, microseconds), as every timestamp it writes.
    expect(formatEpochMs(atMs)).toBe(after.last_pool_error_at);
    // The same instance works on a new connection; the report keeps the old drop with its time.
    await s.storeConversation('c', { v: 2 });
    expect(await s.loadConversation('c')).toEqual({ v: 2 });
    const later = await s.healthCheck();
    expect(later.status).toBe('healthy');
    expect(later.last_pool_error_at).toBe(after.last_pool_error_at);
  });
});
