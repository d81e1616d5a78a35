/**
 * A network path to the server that goes dead without closing anything (no FIN, no RST:
 * a failover's old address, a dropped route), simulated by a proxy: calls in flight reject
 * typed within about `statementTimeoutMillis`, never wait for TCP keepalive (hours), and the
 * same instance works again once the path is back. Dead idle connections cost one call: its
 * timeout closes the others, whatever `statementTimeoutMillis`.
 */
import { BackendUnavailableError } from '../../src/core/index.js';
import { BlackholeProxy } from './blackhole-proxy.js';
import { settle, useFaultSuite, withinMs } from './fault-helpers.js';
import { describeWithPrivatePostgres } from './private-server.js';

describeWithPrivatePostgres()('postgres: the network path goes dead', () => {
  let proxy: BlackholeProxy | undefined;
  const { stores, server } = useFaultSuite({
    before: async () => {
      proxy = await BlackholeProxy.start(server().port);
    },
    // The proxy first: its sockets' close ends any call still waiting, which shutdown() awaits.
    after: async () => proxy?.close(),
  });

  it('rejects calls in flight typed, single statements and transactions, then recovers', async () => {
    const url = `postgres://postgres@127.0.0.1:${proxy!.port}/postgres`;
    // A 3 s connect timeout: the call after healing connects anew, which a loaded machine can
    // keep over the 1 s this was. The calls on the dead path still end well inside 15 s.
    const s = await stores.store(server(), {
      url,
      statementTimeoutMillis: 1000,
      connectionTimeoutMillis: 3000,
    });
    await s.storeConversation('c', { v: 1 });
    await s.storeConversationBatch([{ conversationId: 'b', conversation: { v: 1 } }]);
    proxy!.blackhole();
    const single = settle(s.storeConversation('c', { v: 2 }));
    const batch = settle(s.storeConversationBatch([{ conversationId: 'b', conversation: { v: 2 } }]));
    const health = s.healthCheck();
    const outcomes = await withinMs(Promise.all([single, batch]), 15_000, 'a call on a dead path');
    expect((await withinMs(health, 15_000, 'healthCheck() on a dead path')).status).toBe('unhealthy');
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
    }
    expect((outcomes[0] as { error: Error }).error.message).toContain('"c"');
    proxy!.heal();
    expect(await withinMs(s.loadConversation('c'), 15_000, 'a load after healing')).toEqual({ v: 1 });
    await s.storeConversation('c', { v: 3 });
    expect(await s.loadConversation('c')).toEqual({ v: 3 });
    expect((await s.healthCheck()).status).toBe('healthy');
  });

  it('idle connections on a dead path cost one call, then the pool opens fresh ones', async () => {
    const url = `postgres://postgres@127.0.0.1:${proxy!.port}/postgres`;
    // query_timeout (6 + 5 s) outlasts the pool's idle timeout (10 s): while one call waits on
    // a dead idle connection, the pool closes the other idle ones.
    const s = await stores.store(server(), { url, statementTimeoutMillis: 6000, max: 4 });
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => s.storeConversation(id, { v: 1 })));
    // Every pooled connection goes dead; new connections pass again.
    proxy!.blackhole();
    proxy!.heal();
    const first = await withinMs(settle(s.loadConversation('a')), 20_000, 'a call on a dead connection');
    expect(first.ok).toBe(false);
    expect((first as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
    expect((first as { error: Error }).error.message).toContain('"a"');
    // It connects anew: 8 s leaves a loaded machine room, under the 11 s (query_timeout) a call
    // on another dead idle connection would take.
    expect(await withinMs(s.loadConversation('b'), 8_000, 'the next call')).toEqual({ v: 1 });
    expect((await s.healthCheck()).status).toBe('healthy');
  }, 40_000);

  it('with statementTimeoutMillis under 5 s too, the call that timed out closes the other idle ones', async () => {
    const url = `postgres://postgres@127.0.0.1:${proxy!.port}/postgres`;
    // query_timeout (1 + 5 s) ends before the pool's idle timeout (10 s) would close the other
    // dead idle connections: the timeout itself must, or each next call waits 6 s on one.
    const s = await stores.store(server(), { url, statementTimeoutMillis: 1000, max: 4 });
    const ids = ['a', 'b', 'c', 'd'];
    await Promise.all(ids.map((id) => s.storeConversation(id, { v: 1 })));
    const calls: Array<() => Promise<unknown>> = [
      () => s.loadConversation('a'),
      () => s.storeConversationBatch([{ conversationId: 'a', conversation: { v: 2 } }]),
    ];
    for (const call of calls) {
      // Four pooled connections, then every one of them goes dead; new connections pass.
      await Promise.all(ids.map((id) => s.loadConversation(id)));
      expect(await s.healthCheck()).toMatchObject({ pool_total_count: 4 });
      proxy!.blackhole();
      proxy!.heal();
      const first = await withinMs(settle(call()), 15_000, 'a call on a dead connection');
      expect(first.ok).toBe(false);
      expect((first as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
      // Each connects anew: 4.5 s leaves a loaded machine room, under the 6 s (query_timeout) a
      // call on another dead idle connection would take.
      for (const id of ids)
        expect(await withinMs(s.loadConversation(id), 4_500, 'a next call')).toEqual({ v: 1 });
    }
    const health = await s.healthCheck();
    expect(health.status).toBe('healthy');
    // The connections closed after the timeout are not reported as pool errors.
    expect(health).not.toHaveProperty('last_pool_error');
  }, 40_000);
});
