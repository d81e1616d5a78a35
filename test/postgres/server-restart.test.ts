/**
 * A private server restarted (fast shutdown) between and during a store's calls: calls fail
 * typed or succeed, whole, never hang; the same instance recovers without `initialize()`;
 * `healthCheck()` follows the server; prepared statements are prepared again on the new
 * connections; a store opened right after a restart works.
 */
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import {
  freshSchema,
  holdLocks,
  ident,
  settle,
  useFaultSuite,
  waitForLockWaiters,
  withinMs,
} from './fault-helpers.js';
import { describeWithPrivatePostgres } from './private-server.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describeWithPrivatePostgres()('postgres: the server restarts', () => {
  const { stores, server } = useFaultSuite({ restart: true });

  it('between calls: fails typed while down, health follows, the same instance recovers', async () => {
    const s = await stores.store(server());
    await s.storeConversation('c', { v: 1 });
    expect((await s.healthCheck()).status).toBe('healthy');
    await server().stop('fast');
    const down = await settle(s.storeConversation('c', { v: 2 }));
    expect(down.ok).toBe(false);
    expect((down as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
    expect((down as { error: Error }).error.message).toContain('"c"');
    const health = await s.healthCheck();
    expect(health.status).toBe('unhealthy');
    expect(health.error).toMatch(/ECONNREFUSED|connect/);
    await server().start();
    expect(await s.loadConversation('c')).toEqual({ v: 1 });
    await s.storeConversation('c', { v: 3 });
    expect(await s.loadConversation('c')).toEqual({ v: 3 });
    expect((await s.healthCheck()).status).toBe('healthy');
  });

  it('during 64 concurrent cache writes: each fails typed or lands whole, none hangs', async () => {
    const s = await stores.store(server(), { max: 8 });
    await s.storeCacheEntries(range(64).map((i) => ({ key: `k${i}-0`, data: { old: true } })));
    // Every write waits on its first key's row: 8 on the server, 56 for a pooled connection.
    const locker = await holdLocks(server(), `SELECT 1 FROM ${ident(s.schema)}.cache_entries FOR UPDATE`);
    const calls = range(64).map((i) =>
      settle(s.storeCacheEntries(range(4).map((j) => ({ key: `k${i}-${j}`, data: { i, j } })))),
    );
    await waitForLockWaiters(server(), 8);
    await server().restart();
    await locker.release();
    const outcomes = await withinMs(Promise.all(calls), 20_000, 'a cache write');
    expect(outcomes.filter((outcome) => !outcome.ok).length).toBeGreaterThanOrEqual(8);
    for (const [i, outcome] of outcomes.entries()) {
      if (!outcome.ok) expect(outcome.error).toBeInstanceOf(BackendUnavailableError);
      const loaded = await s.loadCacheEntries(range(4).map((j) => `k${i}-${j}`));
      const landed = loaded.filter((entry) => entry !== null && entry.i === i).length;
      if (outcome.ok) expect(landed).toBe(4);
      else expect([0, 4]).toContain(landed);
      if (landed === 0) expect(loaded).toEqual([{ old: true }, null, null, null]);
    }
    expect(await s.storeCacheEntries([{ key: 'after', data: { ok: true } }])).toBe(1);
    expect(await s.loadCacheEntry('after')).toEqual({ ok: true });
  });

  it.each([true, false])(
    'prepares its statements again on the new connections (preparedStatements: %s)',
    async (preparedStatements) => {
      const s = await stores.store(server(), { preparedStatements, max: 3 });
      // Fill the pool with connections that prepared the statements.
      await Promise.all(range(6).map((i) => s.storeMemory('c', `m${i}`, { i })));
      await Promise.all(range(6).map(() => s.loadMemories('c')));
      await server().restart();
      await Promise.all(range(6).map((i) => s.storeMemory('c', `n${i}`, { i })));
      const loaded = await Promise.all(range(6).map(() => s.loadMemories('c')));
      for (const memories of loaded) expect(memories).toHaveLength(12);
      expect((await s.healthCheck()).status).toBe('healthy');
    },
  );

  it('opens a store on a server that just restarted, new schema or existing', async () => {
    const first = await stores.store(server());
    await first.storeMemory('c', 'm', { v: 1 });
    await server().restart();
    const again = await stores.store(server(), { schema: first.schema });
    expect(await again.loadMemories('c')).toEqual([expect.objectContaining({ v: 1 })]);
    await server().restart();
    const fresh = await stores.store(server());
    await fresh.storeMemory('c', 'm', { v: 2 });
    expect(await fresh.loadMemories('c')).toEqual([expect.objectContaining({ v: 2 })]);
  });

  it('initialize() on a stopped server fails typed; the same instance opens once it is back', async () => {
    await server().stop('fast');
    const s = new PostgresStorage({
      url: server().url,
      schema: freshSchema(),
      connectionTimeoutMillis: 2000,
    });
    stores.adopt(s);
    const failed = await settle(s.initialize());
    expect((failed as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
    await server().start();
    await s.initialize();
    await s.storeCacheEntry('k', { v: 1 });
    expect(await s.loadCacheEntry('k')).toEqual({ v: 1 });
  });

  it('shutdown() while the server is down resolves promptly', async () => {
    const s = await stores.store(server());
    await Promise.all(range(5).map((i) => s.storeCacheEntry(`k${i}`, { i })));
    await server().stop('fast');
    await withinMs(s.shutdown(), 10_000, 'shutdown()');
    expect((await s.healthCheck()).status).toBe('error');
  });
});
