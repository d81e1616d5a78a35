/**
 * A new pooled connection the server terminates right after its start-up (a DBA's or a
 * watchdog's `pg_terminate_backend` sweeping fresh sessions, a failover), its termination
 * arriving in the same socket read as the start-up's end: the pool hands the connection to a
 * transaction and the connection reports its error in that same turn. The call rejects typed,
 * nothing crashes the process, and the store goes on working.
 */
import pg from 'pg';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { freshSchema, settle, useFaultSuite, watchUnhandled } from './fault-helpers.js';
import { describeWithPrivatePostgres } from './private-server.js';
import { TerminatingProxy } from './terminating-proxy.js';

describeWithPrivatePostgres()('postgres: a connection terminated as the pool hands it over', () => {
  let proxy: TerminatingProxy | undefined;
  const pools: pg.Pool[] = [];
  const { stores, server } = useFaultSuite({
    before: async () => {
      proxy = await TerminatingProxy.start(server().port);
    },
    after: async () => {
      await proxy?.close();
      for (const pool of pools.splice(0)) await pool.end().catch(() => undefined);
    },
  });

  it('rejects the transaction typed, crashes nothing, and the next calls work', async () => {
    // A pool of the test's own, so it can wait until the pool holds no connection: the
    // transaction then checks out a new one, which the armed proxy terminates.
    const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${proxy!.port}/postgres` });
    pool.on('error', () => undefined);
    pools.push(pool);
    const s = stores.adopt(new PostgresStorage({ pool, schema: freshSchema() }));
    await s.initialize();
    await s.storeConversation('keep', { v: 1 });
    await s.storeConversationBatch([{ conversationId: 'batch', conversation: { v: 1 } }]);
    proxy!.dropAll();
    for (let i = 0; i < 200 && pool.totalCount > 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pool.totalCount).toBe(0);

    const unhandled = watchUnhandled();
    proxy!.arm();
    const calls = [
      settle(s.deleteConversation('keep')),
      settle(s.storeConversationBatch([{ conversationId: 'batch', conversation: { v: 2 } }])),
    ];
    const outcomes = await Promise.all(calls);
    // Let any event the driver emits late reach the listeners.
    await new Promise((resolve) => setTimeout(resolve, 50));
    proxy!.arm(false);
    expect(unhandled.stop()).toEqual([]);
    expect(proxy!.terminated).toBeGreaterThanOrEqual(2);
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
    }
    expect((outcomes[0] as { error: Error }).error.message).toContain('"keep"');
    expect((outcomes[1] as { error: Error }).error.message).toContain('"batch"');

    // Nothing was written, and the same store works on fresh connections.
    expect(await s.loadConversation('keep')).toEqual({ v: 1 });
    expect(await s.loadConversation('batch')).toEqual({ v: 1 });
    await s.storeConversationBatch([{ conversationId: 'batch', conversation: { v: 3 } }]);
    expect(await s.loadConversation('batch')).toEqual({ v: 3 });
    expect(await s.deleteConversation('keep')).toBe(true);
    expect(await s.loadConversation('keep')).toBeNull();
    await s.shutdown();
    await pool.end();
  });
});
