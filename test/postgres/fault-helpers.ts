/**
 * Shared pieces of the private-server fault tests: stores on their own schema of the private
 * server, a watch for unhandled rejections, and the termination of a store's backend once it
 * waits on a lock another session holds.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStorage, type PostgresStorageConfig } from '../../src/backends/postgres/index.js';
import { type PrivatePostgres, usePrivatePostgres } from './private-server.js';

/** A schema name of its own for one test. */
export const freshSchema = (): string => `faults_${randomBytes(5).toString('hex')}`;

/** Quotes an identifier. */
export const ident = (name: string): string => pg.escapeIdentifier(name);

/** Stores opened by a test file, shut down (errors ignored) by {@link closeAll}. */
export class StoreTracker {
  private readonly open: PostgresStorage[] = [];

  /** Opens and initializes a store on `server`, on a fresh schema unless one is given. */
  async store(server: PrivatePostgres, config: PostgresStorageConfig = {}): Promise<PostgresStorage> {
    const storage = new PostgresStorage({
      url: server.url,
      schema: freshSchema(),
      connectionTimeoutMillis: 2000,
      statementTimeoutMillis: 8000,
      ...config,
    });
    this.open.push(storage);
    await storage.initialize();
    return storage;
  }

  /** Registers a store the test opens itself, to shut it down with the others. */
  adopt(storage: PostgresStorage): PostgresStorage {
    this.open.push(storage);
    return storage;
  }

  /** Shuts every store down. */
  async closeAll(): Promise<void> {
    for (const storage of this.open.splice(0)) await storage.shutdown().catch(() => undefined);
  }
}

/**
 * Records every unhandled rejection and uncaught exception while installed; `stop()` removes
 * the listeners and returns what was seen.
 */
export function watchUnhandled(): { seen: unknown[]; stop(): unknown[] } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  const onException = (error: unknown) => seen.push(error);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    seen,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      return seen;
    },
  };
}

/** A connection holding `BEGIN` + `sql` (row or advisory locks) until `release()`. */
export async function holdLocks(server: PrivatePostgres, sql: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: server.url, application_name: 'fault-locker' });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query(sql);
  return {
    async release() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * Waits until one of the store's connections (`application_name` connectome-storage unless
 * given) waits on a lock, then terminates that backend with `pg_terminate_backend`; returns its query text.
 */
export async function terminateWaitingBackend(
  server: PrivatePostgres,
  applicationName = 'connectome-storage',
): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await server.query<{ pid: number; query: string }>(
      `SELECT pid, query FROM pg_stat_activity
        WHERE application_name = $1 AND wait_event_type = 'Lock'`,
      [applicationName],
    );
    const row = rows[0];
    if (row !== undefined) {
      await server.query('SELECT pg_terminate_backend($1)', [row.pid]);
      return row.query;
    }
    if (Date.now() > deadline) throw new Error('no store connection came to wait on the lock');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Settles `promise` into `{ ok, value | error }` without throwing. */
export async function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Waits until `count` of the store's connections wait on a lock. */
export async function waitForLockWaiters(server: PrivatePostgres, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await server.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = 'connectome-storage' AND wait_event_type = 'Lock'`,
    );
    if ((row?.n ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} store connections wait on a lock`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rejects when `promise` has not settled after `ms` (a hang, not a slow call). */
export function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

/** What {@link useFaultSuite} gives a suite: its stores and its private server. */
export interface FaultSuite {
  stores: StoreTracker;
  server: () => PrivatePostgres;
}

/**
 * The set-up every fault suite shares: a private server for the file, the stores each test
 * opens (shut down after it) and a check that nothing went unhandled meanwhile. `before` runs
 * at the start of each test, `after` at its end before the stores close; with `restart`, a
 * server a test left down is started again.
 */
export function useFaultSuite(
  hooks: { before?: () => Promise<void>; after?: () => Promise<void>; restart?: boolean } = {},
): FaultSuite {
  const stores = new StoreTracker();
  const server = usePrivatePostgres(() => stores.closeAll());
  let watch: ReturnType<typeof watchUnhandled> | undefined;
  beforeEach(async () => {
    watch = watchUnhandled();
    await hooks.before?.();
  });
  afterEach(async () => {
    await hooks.after?.();
    await stores.closeAll();
    if (hooks.restart === true && !server().running) await server().start();
    expect(watch?.stop()).toEqual([]);
  });
  return { stores, server };
}

/**
 * Sets the server-wide `default_transaction_read_only` (ALTER SYSTEM + reload, as a DBA
 * would), which live sessions pick up too; waits until a new session sees it.
 */
export async function serverReadOnly(server: PrivatePostgres, on: boolean): Promise<void> {
  await server.query(
    on
      ? 'ALTER SYSTEM SET default_transaction_read_only = on'
      : 'ALTER SYSTEM RESET default_transaction_read_only',
  );
  await server.query('SELECT pg_reload_conf()');
  // The reload is signalled: wait until a new session sees the setting.
  const want = on ? 'on' : 'off';
  for (let i = 0; i < 200; i += 1) {
    const [row] = await server.query<{ v: string }>(
      "SELECT current_setting('default_transaction_read_only') AS v",
    );
    if (row?.v === want) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`default_transaction_read_only never became ${want}`);
}
