/**
 * A server that stops answering, or refuses connections, still fails a burst of calls in
 * bounded time: the calls waiting in the storage's own queue (pool-gate.ts) reject together,
 * typed and naming the call and the store, once no call got an answer for
 * `connectionTimeoutMillis`, or at once when a connect fails, instead of one timeout at a
 * time. A proxy in front of the shared server plays the dead path; a closed store's queue
 * refuses as after a shutdown.
 */
import { PostgresConnection } from '../../src/backends/postgres/connection.js';
import { parsePostgresConfig } from '../../src/backends/postgres/config.js';
import { BackendUnavailableError, NotInitializedError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { BlackholeProxy } from './blackhole-proxy.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

/** The test server's URL through a proxy on `port`. */
function through(port: number): string {
  const url = new URL(POSTGRES_TEST_URL);
  url.port = String(port);
  return url.toString();
}

/** How a promise settled, and when (ms after `start`). */
async function timed<T>(
  promise: Promise<T>,
  start: number,
): Promise<{ ok: boolean; error?: Error; ms: number }> {
  try {
    await promise;
    return { ok: true, ms: performance.now() - start };
  } catch (error) {
    return { ok: false, error: error as Error, ms: performance.now() - start };
  }
}

describeWithService('postgres')('postgres pool stalls', () => {
  const ctx = usePostgresStore();
  let proxy: BlackholeProxy | undefined;

  beforeEach(async () => {
    proxy = await BlackholeProxy.start(Number(new URL(POSTGRES_TEST_URL).port || 5432));
  });
  afterEach(async () => {
    // Before the stores' shutdown (the helper's afterEach): its sockets' close ends the calls in flight.
    await proxy?.close();
  });

  it('rejects the waiting calls together once the server answered none for connectionTimeoutMillis', async () => {
    const s = await ctx.open({
      url: through(proxy!.port),
      max: 2,
      connectionTimeoutMillis: 300,
      statementTimeoutMillis: 1000,
    });
    await Promise.all([s.loadConversation('c'), s.loadConversation('c')]);
    proxy!.blackhole();
    const start = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () => timed(s.loadConversation('c'), start)),
    );
    // Two calls held the two (dead) connections and waited out their client timeout; the
    // other 198 rejected together at the first stall check.
    const waited = outcomes.filter((o) => o.error?.message.includes('no call got an answer'));
    expect(waited).toHaveLength(198);
    for (const o of waited) {
      expect(o.error).toBeInstanceOf(BackendUnavailableError);
      expect(o.error!.message).toMatch(
        /^postgres storage \(postgres:\/\/postgres:\*+@127\.0\.0\.1:\d+\/test\): load conversation "c" failed: no call got an answer from the server for 300 ms while 198 calls waited \(all 2 connections of the pool busy\)/,
      );
      expect(o.ms).toBeLessThan(1500);
    }
    expect(outcomes.every((o) => !o.ok && o.error instanceof BackendUnavailableError)).toBe(true);
    // Once the path is back, the same store works.
    proxy!.heal();
    await expect(s.loadConversation('c')).resolves.toBeNull();
  }, 20_000);

  it('rejects the waiting calls at once when a connect fails, naming why', async () => {
    const s = await ctx.open({ url: through(proxy!.port), max: 2, connectionTimeoutMillis: 5000 });
    // No server there any more: a new connection is refused. Idle ones close with the proxy's sockets.
    await proxy!.close();
    proxy = undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const start = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, () => timed(s.loadConversation('c'), start)),
    );
    expect(outcomes.every((o) => !o.ok && o.error instanceof BackendUnavailableError)).toBe(true);
    const together = outcomes.filter((o) =>
      o.error?.message.includes('a connection to the server failed just before'),
    );
    // All but the calls that held a checkout and connected themselves.
    expect(together.length).toBeGreaterThanOrEqual(990);
    expect(together[0]!.error!.message).toMatch(
      /load conversation "c" failed: a connection to the server failed just before: (Error: )?connect ECONNREFUSED/,
    );
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(2000);
  });

  it('a closed connection refuses the calls still waiting in its queue as after a shutdown', async () => {
    const connection = await PostgresConnection.open(parsePostgresConfig({ url: POSTGRES_TEST_URL, max: 1 }));
    const first = connection.rows('sleep', 'SELECT pg_sleep(0.2)');
    const waiting = Array.from({ length: 5 }, () =>
      connection.rows('wait', 'SELECT 1').catch((e: unknown) => e),
    );
    expect(connection.queued).toBe(5);
    const closed = connection.close();
    for (const error of await Promise.all(waiting)) expect(error).toBeInstanceOf(NotInitializedError);
    await expect(first).resolves.toHaveLength(1);
    await closed;
    await expect(connection.rows('later', 'SELECT 1')).rejects.toBeInstanceOf(NotInitializedError);
  });
});
