/**
 * A server at its connection limit (SQLSTATE 53300) caps the store's gate at the pool's live
 * connections (server-full.test.ts); here those connections die under the cap, mid-burst
 * (`pg_terminate_backend` from an admin session). While the server stays full, the calls fail
 * fast, typed and named, and none hangs; once the other holders free slots, the calls complete
 * again and the store uses up to `max` connections, never more; a shutdown in the middle of it
 * resolves. With all of them dead, a burst whose pool opens several connections at once on a
 * server with room for some is served (the refusals of the others can come back first), and
 * once the server frees its slots the pool is back at `max` in well under a second (each
 * connection that opens raises the cap). A private server with `max_connections` 12 and no
 * reserved slots; the store connects as a role of its own, whose connection limit is set to 0
 * while its backends are terminated and the slots they free are taken by others (else the
 * pool reconnects first).
 */
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { BackendUnavailableError, NotInitializedError } from '../../src/core/index.js';
import { watchUnhandled, withinMs } from './fault-helpers.js';
import { FullServer } from './full-server.js';
import { describeWithPrivatePostgres, usePrivatePostgres } from './private-server.js';

const MAX_CONNECTIONS = 12;
const APP = 'die-store';
const ROLE = 'die_store';
/** The store's pool `max` and `connectionTimeoutMillis`. */
const MAX = 4;
const TIMEOUT = 1500;
/** Callers running calls one after another, many more than the store has connections. */
const CALLERS = 24;

/** One call of the load: when it began and ended (ms since the test's start), and how. */
interface Call {
  start: number;
  end?: number;
  error?: Error;
}

/** What the calls of a failed burst say: the call named, then why. */
const NAMED = /(load conversation "c"|store cache entry "k\d+"|delete conversation "gone-\d+") failed: /;

describeWithPrivatePostgres()('postgres server at its connection limit, the live connections dying', () => {
  const stores: PostgresStorage[] = [];
  const closeStores = async (): Promise<void> => {
    for (const store of stores.splice(0)) await store.shutdown();
  };
  const server = usePrivatePostgres(closeStores, {
    max_connections: MAX_CONNECTIONS,
    superuser_reserved_connections: 0,
  });
  const full = new FullServer(server, MAX_CONNECTIONS, APP);
  let unhandled: ReturnType<typeof watchUnhandled> | undefined;
  /** Loops a test started (load, sampling), stopped after it even when it failed midway. */
  const loops: (() => Promise<unknown>)[] = [];
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    // A role of its own (no superuser: a role's connection limit does not bind one).
    await server().query(`CREATE ROLE ${ROLE} LOGIN; GRANT CREATE ON DATABASE postgres TO ${ROLE}`);
  });
  beforeEach(async () => {
    unhandled = watchUnhandled();
    await full.open();
  });
  afterEach(async () => {
    for (const stop of loops.splice(0)) await stop().catch(() => undefined);
    await closeStores();
    await full.query(`ALTER ROLE ${ROLE} CONNECTION LIMIT -1`);
    await full.close();
    expect(unhandled?.stop()).toEqual([]);
  });

  const openStore = async (schema: string, max = MAX): Promise<PostgresStorage> => {
    const s = new PostgresStorage({
      url: `postgres://${ROLE}@127.0.0.1:${server().port}/postgres?application_name=${APP}`,
      schema,
      max,
      connectionTimeoutMillis: TIMEOUT,
    });
    stores.push(s);
    await s.initialize();
    await s.storeConversation('c', { title: 'x' });
    return s;
  };

  /**
   * {@link CALLERS} callers each running reads, cache writes and transactions (a delete) one
   * after another until `stop()`, which resolves once every call settled; a caller pauses
   * 10 ms after a failure, as one retrying would.
   */
  const load = (s: PostgresStorage) => {
    const calls: Call[] = [];
    let stopped = false;
    const caller = async (c: number): Promise<void> => {
      for (let i = 0; !stopped; i += 1) {
        const call: Call = { start: now() };
        calls.push(call);
        try {
          if (i % 3 === 0) await s.loadConversation('c');
          else if (i % 3 === 1) await s.storeCacheEntry(`k${c}`, { i });
          else await s.deleteConversation(`gone-${c}`);
        } catch (error) {
          call.error = error as Error;
          await sleep(10);
        }
        call.end = now();
      }
    };
    const callers = Array.from({ length: CALLERS }, (_, c) => caller(c));
    const stop = () => {
      stopped = true;
      return withinMs(Promise.all(callers), 2 * TIMEOUT + 2000, 'the calls under way');
    };
    loops.push(stop);
    return { calls, stop };
  };

  /** The store's backends, sampled every 10 ms until `stop()`, which returns the most seen after `from` ms. */
  const sampleStore = () => {
    const samples: { at: number; store: number }[] = [];
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        samples.push({ at: now(), store: (await full.counts()).store });
        await sleep(10);
      }
    })();
    // A sampling that failed (a test failing midway closed the monitor) throws in stop().
    loop.catch(() => undefined);
    const most = (from: number, to = Infinity): number =>
      Math.max(0, ...samples.filter((p) => p.at >= from && p.at < to).map((p) => p.store));
    const stop = async () => ((stopped = true), await loop);
    loops.push(stop);
    return { most, stop };
  };

  /** Waits until `check` holds (polled every 20 ms), failing after `ms`. */
  const until = async (what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> => {
    for (const deadline = now() + ms; !(await check());) {
      if (now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
      await sleep(20);
    }
  };

  /**
   * Fills the server to leave the store two slots, and waits until a burst holds them both
   * (capped). The connections the store opened so far go first (initialize() may have had
   * more than two), and two calls at once open the two before the burst: a burst on a pool
   * with none open may have a refusal arrive before any of its connections opened, which
   * fails the calls as a server refusing the store entirely would (gate-turns.ts).
   */
  const capAtTwo = async (s: PostgresStorage) => {
    await terminateStore();
    await until('the store without backends', 5000, async () => (await full.counts()).store === 0);
    await sleep(100);
    await full.fill(2);
    await Promise.all([s.loadConversation('c'), s.loadConversation('c')]);
    expect((await full.counts()).store).toBe(2);
    const running = load(s);
    await until('the store at two connections', 5000, async () => (await full.counts()).store === 2);
    // Long enough for many refusals of a third connection, each of which failed the queue once.
    await sleep(500);
    return running;
  };

  const terminateStore = async (): Promise<void> => {
    await full.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      APP,
    ]);
  };

  /**
   * Terminates the store's backends. The slots they free go to other clients (`refill`), the
   * role kept out meanwhile: then the server is full and the store has no live connection.
   */
  const killLive = async (refill: boolean): Promise<void> => {
    await full.query(`ALTER ROLE ${ROLE} CONNECTION LIMIT 0`);
    await terminateStore();
    if (!refill) return;
    await until('the store without backends', 5000, async () => (await full.counts()).store === 0);
    await full.fill(0);
    await full.query(`ALTER ROLE ${ROLE} CONNECTION LIMIT -1`);
  };

  it('fails the calls typed while the server stays full, then serves them on up to max connections', async () => {
    const s = await openStore('die_burst');
    const store = sampleStore();
    const running = await capAtTwo(s);
    const killedAt = now();
    const before = running.calls.filter((c) => c.end !== undefined);
    expect(before.length).toBeGreaterThan(50);
    expect(before.filter((c) => c.error !== undefined)).toEqual([]);

    // (a) The live connections die and the server stays full: no connection to be had.
    await killLive(true);
    const fullAt = now();
    await sleep(TIMEOUT + 500);
    const freeingAt = now();
    expect(store.most(fullAt, freeingAt)).toBe(0);
    const refused = running.calls.filter(
      (c) => c.start >= fullAt && c.end !== undefined && c.end < freeingAt,
    );
    expect(refused.length).toBeGreaterThan(CALLERS);
    for (const { error } of refused) {
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error!.message).toMatch(new RegExp(`${NAMED.source}.*sorry, too many clients already`));
    }

    // (b) The other holders free their slots: the calls complete again, on up to max connections.
    await full.free();
    const freedAt = now();
    await until('the store at max connections', 8000, () => store.most(freedAt) === MAX);
    await sleep(200);
    const doneAt = now();
    await running.stop();
    await store.stop();
    const after = running.calls.filter((c) => c.start >= freedAt && c.start < doneAt);
    expect(after.length).toBeGreaterThan(50);
    expect(after.filter((c) => c.error !== undefined)).toEqual([]);

    // Throughout: typed errors naming the call, none waiting past the stall bound, never more than max.
    const failed = running.calls.filter((c) => c.error !== undefined && c.start >= killedAt - 1);
    for (const { error } of failed) {
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error!.message).toMatch(NAMED);
    }
    const longest = Math.max(...running.calls.map((c) => c.end! - c.start));
    expect(longest).toBeLessThan(2 * TIMEOUT);
    expect(store.most(0)).toBeLessThanOrEqual(MAX);
  }, 30_000);

  it('shuts down while the live connections die mid-burst, leaving no connection behind', async () => {
    const s = await openStore('die_shutdown');
    const running = await capAtTwo(s);
    await killLive(false);
    await withinMs(s.shutdown(), 5000, 'shutdown()');
    await running.stop();
    for (const { error } of running.calls.filter((c) => c.error !== undefined)) {
      if (error instanceof NotInitializedError) continue;
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error!.message).toMatch(NAMED);
    }
    await until('the store without backends', 3000, async () => (await full.counts()).store === 0);
  }, 30_000);

  it('serves a burst on a pool whose connections all died once the server has room for some', async () => {
    const s = await openStore('die_partial');
    // Rounds, as the refusals come back before the first connections open only most times.
    for (let round = 0; round < 5; round += 1) {
      await terminateStore();
      await until('the store without backends', 5000, async () => (await full.counts()).store === 0);
      await sleep(100);
      await full.fill(2);
      const calls = Promise.allSettled(
        Array.from({ length: 300 }, (_, i) =>
          i % 2 === 0 ? s.loadConversation('c') : s.storeCacheEntry(`k${i}`, { i }),
        ),
      );
      const most = await full.watch(calls);
      const failed = (await calls).flatMap((r) =>
        r.status === 'rejected' ? [(r.reason as Error).message] : [],
      );
      // Before: a refusal that came back while the pool's other connections were still
      // opening, none open yet, failed the waiting calls as if the server refused the store
      // (298 of 300).
      expect({ round, failed: failed.length, first: failed.slice(0, 1) }).toEqual({
        round,
        failed: 0,
        first: [],
      });
      expect(most.store).toBeLessThanOrEqual(2);
      await full.free();
    }
  }, 30_000);

  it('grows back to max within a second once the server frees its slots (a connection opened raises the cap)', async () => {
    const s = await openStore('die_regrow', 8);
    const store = sampleStore();
    const running = await capAtTwo(s);
    await full.free();
    const freedAt = now();
    // Before: the cap rose by one a second, six seconds from two to eight.
    await until('the store at max connections', 8000, () => store.most(freedAt) === 8);
    const regrowMs = now() - freedAt;
    await running.stop();
    await store.stop();
    expect(running.calls.filter((c) => c.error !== undefined)).toEqual([]);
    expect(regrowMs).toBeLessThan(1500);
    expect(store.most(0)).toBeLessThanOrEqual(8);
  }, 30_000);
});
