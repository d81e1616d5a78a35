/**
 * A server that stops answering, or refuses connections, still fails a burst of calls in
 * bounded time: the calls waiting in the storage's own queue (core/call-gate.ts) reject together,
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

/** Runs `step` until it succeeds, up to 10 times (a set-up step under a short timeout). */
async function eventually<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof BackendUnavailableError) || attempt === 10) throw error;
    }
  }
}

/**
 * The bound on the calls rejected at the stall (300 ms, or twice that for a call of pg-pool's
 * queue): under the 6 s the calls holding the dead connections wait (statement timeout and pg's
 * 5 s margin), which every call would wait without the stall watch, yet 7x the stall: the 1.5 s
 * it was could be overrun by a loaded machine's lag.
 */
const NOT_WAITED_OUT_MS = 4500;

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
    // The schema made with the default timeouts first. The set-up below runs under the 300 ms
    // (connects, and the stall watch) on a shared server a loaded machine can hold up that long:
    // it is tried again, as it is not what the test is about.
    await ctx.open();
    const s = await eventually(() =>
      ctx.open({
        url: through(proxy!.port),
        max: 2,
        connectionTimeoutMillis: 300,
        statementTimeoutMillis: 1000,
      }),
    );
    await eventually(() => Promise.all([s.loadConversation('c'), s.loadConversation('c')]));
    expect((await s.healthCheck()).pool_total_count).toBe(2);
    proxy!.blackhole();
    const start = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () => timed(s.loadConversation('c'), start)),
    );
    // Two calls held the two (dead) connections and waited out their client timeout. Up to 64
    // more (POOL_QUEUE_ALLOWANCE) waited in pg-pool's queue and rejected with its timeout; the
    // others rejected together at the first stall check, none waiting out a timeout of its own.
    const waited = outcomes.filter((o) => o.error?.message.includes('no call got an answer'));
    const pooled = outcomes.filter((o) => o.error?.message.includes('no pooled connection came free'));
    expect(waited.length).toBeGreaterThanOrEqual(198 - 2 * 64);
    expect(waited.length + pooled.length).toBe(198);
    for (const o of waited) {
      expect(o.error).toBeInstanceOf(BackendUnavailableError);
      expect(o.error!.message).toMatch(
        /^postgres storage \(postgres:\/\/postgres:\*+@127\.0\.0\.1:\d+\/test\): load conversation "c" failed: no call got an answer from the server for 300 ms while \d+ calls waited \(\d+ calls holding or queued for a connection of the pool\)/,
      );
      expect(o.ms).toBeLessThan(NOT_WAITED_OUT_MS);
    }
    // A call of pg-pool's queue waits once more in the storage's only before the stall.
    for (const o of pooled) expect(o.ms).toBeLessThan(NOT_WAITED_OUT_MS);
    expect(outcomes.every((o) => !o.ok && o.error instanceof BackendUnavailableError)).toBe(true);
    // Once the path is back, the same store works.
    proxy!.heal();
    await expect(s.loadConversation('c')).resolves.toBeNull();
  }, 20_000);

  it('rejects the waiting calls at once when a connect fails, naming why', async () => {
    // A connect timeout far above the bound below, which then leaves a loaded machine its margin.
    const s = await ctx.open({ url: through(proxy!.port), max: 2, connectionTimeoutMillis: 30_000 });
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
    // All but the calls that held a checkout or went on into pg-pool's queue (2 + 64), each of
    // which connected itself.
    expect(together.length).toBeGreaterThanOrEqual(1000 - 2 - 64);
    expect(together[0]!.error!.message).toMatch(
      /load conversation "c" failed: a connection to the server failed just before: (Error: )?connect ECONNREFUSED/,
    );
    // None waited out a connect timeout of its own (30 s); 400 ms here on a quiet machine.
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(10_000);
  });

  it('a closed connection refuses the calls still waiting in its queue as after a shutdown', async () => {
    const connection = await PostgresConnection.open(
      parsePostgresConfig({ url: POSTGRES_TEST_URL, max: 1, connectionTimeoutMillis: 300 }),
    );
    const first = connection.rows('sleep', 'SELECT pg_sleep(0.2)');
    // 64 go on into pg-pool's queue, which an ended pool leaves to their timeout: then they
    // would wait once more in the storage's queue, which refuses them as closed.
    const waiting = Array.from({ length: 64 + 5 }, () =>
      connection.rows('wait', 'SELECT 1').catch((e: unknown) => e),
    );
    expect(connection.queued).toBe(5);
    const closed = connection.close();
    for (const error of await Promise.all(waiting)) expect(error).toBeInstanceOf(NotInitializedError);
    await expect(first).resolves.toHaveLength(1);
    await closed;
    await expect(connection.rows('later', 'SELECT 1')).rejects.toBeInstanceOf(NotInitializedError);
  });

  it('up to max + 64 calls go on into the pool as they come; only the ones past that wait in the storage queue', async () => {
    const connection = await PostgresConnection.open(parsePostgresConfig({ url: POSTGRES_TEST_URL, max: 2 }));
    try {
      const calls = Array.from({ length: 2 + 64 }, () => connection.rows('call', 'SELECT 1'));
      expect(connection.queued).toBe(0);
      calls.push(connection.rows('one more', 'SELECT 1'));
      expect(connection.queued).toBe(1);
      expect(await Promise.all(calls)).toHaveLength(67);
    } finally {
      await connection.close();
    }
  });
});
