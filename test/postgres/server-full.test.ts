/**
 * A server at its connection limit (another service took the slots: SQLSTATE 53300, "sorry,
 * too many clients already") while the store's pool holds working connections: a new
 * connection the pool tries to open is refused, and no call fails for it. The call that hit the
 * refusal waits again, the storage's queue lets only as many calls on as the pool has live
 * connections (core/call-gate.ts), and the pool grows back once the server has slots. Until
 * 2026-12-05 the refusal rejected every call waiting in the storage's queue at once. With no
 * live connection the refusal still fails the waiting calls at once (the server refuses us),
 * and live connections that answer nothing still fail the waits after `connectionTimeoutMillis`.
 * A private server with `max_connections` 12 and no reserved slots; `pg` clients hold the rest.
 */
import { parsePostgresConfig } from '../../src/backends/postgres/config.js';
import { PostgresConnection } from '../../src/backends/postgres/connection.js';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { FullServer } from './full-server.js';
import { describeWithPrivatePostgres, usePrivatePostgres } from './private-server.js';

const MAX_CONNECTIONS = 12;
const APP = 'full-store';

describeWithPrivatePostgres()('postgres server at its connection limit', () => {
  const stores: PostgresStorage[] = [];
  const server = usePrivatePostgres(
    async () => {
      for (const store of stores.splice(0)) await store.shutdown();
    },
    // No reserved slots: the superuser the tests connect as meets the limit itself.
    { max_connections: MAX_CONNECTIONS, superuser_reserved_connections: 0 },
  );
  const full = new FullServer(server, MAX_CONNECTIONS, APP);
  const counts = () => full.counts();
  const fillServer = (free: number) => full.fill(free);
  const freeServer = () => full.free();
  const connect = () => full.connect();
  const watch = (done: Promise<unknown>) => full.watch(done);

  beforeEach(() => full.open());
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.shutdown();
    await full.close();
  });

  /** A burst of reads, cache writes and transactions (a delete locks and deletes in one). */
  const burst = (s: PostgresStorage, n: number): Promise<PromiseSettledResult<unknown>[]> =>
    Promise.allSettled(
      Array.from({ length: n }, (_, i) => {
        if (i % 3 === 0) return s.loadConversation('c');
        if (i % 3 === 1) return s.storeCacheEntry(`k${i % 50}`, { i });
        return s.deleteConversation(`gone-${i}`);
      }),
    );

  /** How many calls failed, and the first two messages. */
  const failuresOf = (results: PromiseSettledResult<unknown>[]): { failed: number; first: string[] } => {
    const messages = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    return { failed: messages.length, first: messages.slice(0, 2) };
  };
  const NONE = { failed: 0, first: [] };

  it('answers a whole burst on the live connections while new ones are refused, then grows back', async () => {
    const s = new PostgresStorage({
      url: `${server().url}?application_name=${APP}`,
      schema: 'full_burst',
      max: 10,
      connectionTimeoutMillis: 3000,
    });
    stores.push(s);
    await s.initialize();
    await s.storeConversation('c', { title: 'x' });
    const before = await counts();
    expect(before.store).toBeGreaterThanOrEqual(1);
    // Two slots for the store in all, at least one of them already its own.
    await fillServer(2 - before.store);
    expect((await counts()).all).toBe(MAX_CONNECTIONS - 2 + before.store);

    const calls = burst(s, 300);
    const most = await watch(calls);
    const results = await calls;
    expect(failuresOf(results)).toEqual(NONE);
    expect(results[0]).toEqual({ status: 'fulfilled', value: { title: 'x' } });
    expect(most.store).toBeLessThanOrEqual(2);
    expect(most.all).toBeLessThanOrEqual(MAX_CONNECTIONS);

    // The other service lets its slots go: the pool opens more connections again.
    await freeServer();
    let grown = 0;
    for (const deadline = Date.now() + 10_000; grown <= 2 && Date.now() < deadline;) {
      const again = burst(s, 300);
      grown = Math.max(grown, (await watch(again)).store);
      expect(failuresOf(await again)).toEqual(NONE);
    }
    expect(grown).toBeGreaterThan(2);
  }, 30_000);

  it('still bounds the waits when the live connections answer nothing (refused connects are no answer)', async () => {
    const s = new PostgresStorage({
      url: `${server().url}?application_name=${APP}`,
      schema: 'full_stall',
      max: 10,
      connectionTimeoutMillis: 1500,
    });
    stores.push(s);
    await s.initialize();
    await fillServer(2 - (await counts()).store);
    // The two connections the store can have will wait on this lock.
    const locker = full.holders[0]!;
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE full_stall.cache_entries IN ACCESS EXCLUSIVE MODE');
    const start = performance.now();
    const timed = Array.from({ length: 50 }, (_, i) =>
      s.storeCacheEntry(`k${i}`, { i }).then(
        () => ({ error: undefined, ms: performance.now() - start }),
        (error: Error) => ({ error, ms: performance.now() - start }),
      ),
    );
    // The calls that hold the two connections are not known in advance: wait for all but two.
    let settled = 0;
    for (const call of timed) void call.then(() => (settled += 1));
    for (const deadline = Date.now() + 10_000; settled < 48 && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const early = settled;
    await locker.query('COMMIT');
    const outcomes = await Promise.all(timed);
    expect(early).toBe(48);
    // Two calls held the two connections and succeed once the lock goes; the others rejected
    // together when no call had an answer for connectionTimeoutMillis, not one by one.
    expect(outcomes.filter((o) => o.error === undefined)).toHaveLength(2);
    const rejected = outcomes.filter((o) => o.error !== undefined);
    for (const { error, ms } of rejected) {
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error!.message).toMatch(
        /store cache entry "k\d+" failed: no call got an answer from the server for 1500 ms/,
      );
      expect(ms).toBeGreaterThan(1400);
      // Before the lock went (10 s): a loaded machine's lag left room, not waited out.
      expect(ms).toBeLessThan(8000);
    }
  }, 30_000);

  it('still rejects the waiting calls at once when the pool has no live connection', async () => {
    await fillServer(0);
    await expect(connect()).rejects.toMatchObject({ code: '53300' });
    const connection = await PostgresConnection.open(
      // A connect timeout far above the bound below: none of the calls waited one out.
      parsePostgresConfig({ url: server().url, max: 10, connectionTimeoutMillis: 20_000 }),
    );
    try {
      const start = performance.now();
      const results = await Promise.allSettled(
        Array.from({ length: 300 }, () => connection.rows('call', 'SELECT 1')),
      );
      const errors = results.map((r) => (r.status === 'rejected' ? (r.reason as Error) : undefined));
      expect(errors.every((e) => e instanceof BackendUnavailableError)).toBe(true);
      const together = errors.filter((e) =>
        e?.message.includes('a connection to the server failed just before'),
      );
      // All but the calls that went on into the pool (max + 64), each of which connected itself.
      expect(together.length).toBeGreaterThanOrEqual(300 - 10 - 64);
      expect(together[0]!.message).toMatch(
        /call failed: a connection to the server failed just before: sorry, too many clients already/,
      );
      expect(performance.now() - start).toBeLessThan(8000);
    } finally {
      await connection.close();
    }
  });
});
