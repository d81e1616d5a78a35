/**
 * The connection pool of one storage instance: loads `pg` lazily, opens (or adopts) a pool,
 * runs statements and transactions on it, and turns driver errors into typed errors whose
 * messages carry the redacted URL, never a password.
 */
import type { Pool } from 'pg';
import { BackendUnavailableError, logEvent, redactUrl, type StorageError } from '../../core/index.js';
import {
  checkPgPortEnv,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryConfig,
  type ResolvedPostgresConfig,
} from './config.js';
import {
  describeDriverError,
  driverErrorToStorageError,
  isClientTimeout,
  isDeadlock,
  poolWaitNote,
} from './driver-errors.js';
import { ClosedAfterTimeout, IdleConnections } from './idle-connections.js';
import { PoolSockets } from './pool-sockets.js';
import { queryConfig, type SqlText } from './statements.js';

/** A bindable parameter: scalars, and arrays (nulls allowed) for `unnest($n::text[])` batches. */
export type SqlParam = string | number | boolean | null | ReadonlyArray<string | number | null>;

/**
 * Statements run on one connection (inside a transaction, or straight on the pool). A
 * {@link Statement} runs as a named prepared statement unless the store turned them off.
 */
export interface Queryable {
  /** Runs a query and returns its rows. */
  rows<R>(sql: SqlText, params?: readonly SqlParam[]): Promise<R[]>;
  /** Runs a write and returns how many rows it changed. */
  run(sql: SqlText, params?: readonly SqlParam[]): Promise<number>;
}

/** The part of the `pg` module this backend uses. */
type PgModule = { Pool: typeof Pool };

/** Loads `pg` on first use, so the library loads (and other backends work) without it. */
async function loadPg(): Promise<PgModule> {
  try {
    // pg is CommonJS: an ES import exposes it as `default`; the ES and CommonJS typings disagree.
    const mod = (await import('pg')) as unknown as PgModule & { default?: PgModule };
    return mod.default ?? mod;
  } catch (error) {
    throw new BackendUnavailableError(
      'The postgres storage backend needs the "pg" package: npm install pg',
      error,
    );
  }
}

/**
 * How many times a statement or transaction the server chose as a deadlock victim (SQLSTATE
 * 40P01) runs again. The server rolled the victim back whole, so running it again applies it
 * once; the other side of the deadlock has gone on, so a retry usually succeeds at once.
 */
const DEADLOCK_RETRIES = 5;

/** How much longer than `statementTimeoutMillis` the client waits for a reply before giving up. */
const CLIENT_TIMEOUT_MARGIN_MILLIS = 5000;

/** How long a pooled connection stays open unused. */
const IDLE_TIMEOUT_MILLIS = 10_000;

/** The server setting a read-only store's sessions carry. */
const READ_ONLY_OPTION = '-c default_transaction_read_only=on';

/**
 * The URL and session `options` of a store's own pool. pg reads a URL's `?options=` over the
 * pool's, so for a read-only store the URL's are moved into the pool's, followed by the
 * read-only setting (a later `-c` wins): a URL's options (e.g. a `search_path`) cannot drop it.
 */
function readOnlySession(config: ResolvedPostgresConfig): { url: string; options?: string } {
  if (!config.readOnly) return { url: config.url };
  if (!URL.canParse(config.url)) return { url: config.url, options: READ_ONLY_OPTION };
  const url = new URL(config.url);
  const given = url.searchParams.getAll('options');
  if (given.length === 0) return { url: config.url, options: READ_ONLY_OPTION };
  url.searchParams.delete('options');
  return { url: url.toString(), options: [...given, READ_ONLY_OPTION].join(' ') };
}

/**
 * A short random pause before retry `attempt` (from 1): 5 to 25 ms times the attempt, so two
 * victims of one cycle do not meet again in lockstep.
 */
function deadlockBackoff(attempt: number): Promise<void> {
  const ms = attempt * (5 + Math.random() * 20);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One pool plus the rules for using it. */
export class PostgresConnection {
  /** Last error the pool reported in the background (an idle connection dropped), for health. */
  lastError: string | undefined;
  /** When {@link lastError} came, in epoch milliseconds. */
  lastErrorAtMs: number | undefined;

  private constructor(
    readonly pool: PostgresPool,
    /** True when this storage created the pool (and so ends it). */
    private readonly owned: boolean,
    /** Redacted URL, or a description of the given pool, for messages. */
    readonly label: string,
    /** Whether statements run as named prepared statements (`preparedStatements`). */
    readonly prepared: boolean,
    /** Whether the store was opened read-only (`readOnly`), for reading the server's refusals. */
    private readonly readOnly: boolean,
    /** The idle connections of an owned pool, closed after a client timeout (a given pool keeps its own). */
    private readonly idle?: IdleConnections,
    /** The open sockets of an owned pool, which closing waits for. */
    private readonly sockets?: PoolSockets,
  ) {}

  /** Creates a pool for `config.url`, or adopts `config.pool`. Connects lazily. */
  static async open(config: ResolvedPostgresConfig): Promise<PostgresConnection> {
    const { preparedStatements: prepared, readOnly } = config;
    if (config.pool !== undefined)
      return new PostgresConnection(config.pool, false, 'given pg.Pool', prepared, readOnly);
    checkPgPortEnv(config.url);
    const pg = await loadPg();
    const { url, options } = readOnlySession(config);
    const pool = new pg.Pool({
      connectionString: url,
      max: config.max,
      // The driver's default, 0, waits for a connection forever.
      connectionTimeoutMillis: config.connectionTimeoutMillis,
      statement_timeout: config.statementTimeoutMillis,
      // The server's statement_timeout cannot answer over a dead network path (no FIN, no
      // RST): without a client-side bound a call waited for TCP keepalive, hours. A little
      // later than the server's, so a live server's own timeout error comes first.
      query_timeout: config.statementTimeoutMillis + CLIENT_TIMEOUT_MARGIN_MILLIS,
      // A process that dies inside a transaction would otherwise hold its locks until the
      // server notices the dead socket; ours never leave a transaction idle that long.
      idle_in_transaction_session_timeout: config.statementTimeoutMillis,
      // An idle connection whose path died silently costs the call that next takes it up to
      // query_timeout, which then closes the other idle ones (IdleConnections); closing idle
      // ones soon too (pg-pool's default, set so it cannot drift) bounds how long one lingers.
      // TCP keepalive cannot find it sooner: Node sets only its start, and Linux then waits 9
      // probes 75 s apart.
      idleTimeoutMillis: IDLE_TIMEOUT_MILLIS,
      keepAlive: true,
      application_name: 'connectome-storage',
      // Idle pooled connections alone do not keep the process running.
      allowExitOnIdle: true,
      // Read-only: the server itself refuses any write, should one ever slip past the core.
      ...(options !== undefined ? { options } : {}),
    });
    const [label, idle, sockets] = [redactUrl(config.url), new IdleConnections(pool), new PoolSockets(pool)];
    const connection = new PostgresConnection(pool, true, label, prepared, readOnly, idle, sockets);
    // Without a listener, an idle connection dropped by the server crashes the process.
    pool.on('error', (error: Error) => {
      // Closed by us after a client timeout: that call's error already tells.
      if (error instanceof ClosedAfterTimeout) return;
      connection.lastError = describeDriverError(error);
      connection.lastErrorAtMs = Date.now();
      logEvent(config.logger, 'error', `postgres storage: pooled connection to ${connection.label} failed`, {
        error: connection.lastError,
      });
    });
    return connection;
  }

  /**
   * Runs one statement on any pooled connection (atomic on its own); returns its rows. A
   * statement the server picked as a deadlock victim (two batches locking shared rows in
   * different orders) runs again, up to {@link DEADLOCK_RETRIES} times.
   */
  async rows<R>(what: string, sql: SqlText, params: readonly SqlParam[] = []): Promise<R[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.pool.query(this.config(sql, params))).rows as R[];
      } catch (error) {
        if (!isDeadlock(error) || attempt > DEADLOCK_RETRIES) throw this.toStorageError(what, error);
      }
      await deadlockBackoff(attempt);
    }
  }

  /** Runs one write statement on any pooled connection, as {@link rows}; returns how many rows it changed. */
  async run(what: string, sql: SqlText, params: readonly SqlParam[] = []): Promise<number> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.pool.query(this.config(sql, params))).rowCount ?? 0;
      } catch (error) {
        if (!isDeadlock(error) || attempt > DEADLOCK_RETRIES) throw this.toStorageError(what, error);
      }
      await deadlockBackoff(attempt);
    }
  }

  /**
   * Runs `fn` in one transaction on one checked-out connection, committed when `fn`
   * resolves and rolled back when it rejects. The connection always goes back to the pool;
   * one whose rollback failed is discarded rather than reused mid-transaction. A transaction
   * the server picked as a deadlock victim was rolled back whole and runs again, `fn` and all,
   * up to {@link DEADLOCK_RETRIES} times: `fn` must only run statements (no effect outside the
   * transaction that a second run would repeat).
   */
  async transaction<T>(what: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.transactionOnce(what, fn, attempt <= DEADLOCK_RETRIES);
      if (outcome.done) return outcome.result;
      await deadlockBackoff(attempt);
    }
  }

  /** One run of {@link transaction}; `done: false` when it was a deadlock victim and `retry` allows another run. */
  private async transactionOnce<T>(
    what: string,
    fn: (q: Queryable) => Promise<T>,
    retry: boolean,
  ): Promise<{ done: true; result: T } | { done: false }> {
    let broken: Error | undefined;
    // A checked-out client has no pool listener: without one, a connection the server
    // terminates mid-transaction (pg_terminate_backend, a restart) emits an 'error' nobody
    // hears, which crashes the process. The query in flight rejects on its own.
    const onError = (error: Error) => {
      broken = error;
    };
    let client: PostgresPoolClient;
    try {
      client = await this.checkOut(onError);
    } catch (error) {
      throw this.toStorageError(what, error);
    }
    try {
      await client.query({ text: 'BEGIN', values: [] });
      const result = await fn({
        rows: async <R>(sql: SqlText, params: readonly SqlParam[] = []) =>
          (await client.query(this.config(sql, params))).rows as R[],
        run: async (sql, params = []) => (await client.query(this.config(sql, params))).rowCount ?? 0,
      });
      await client.query({ text: 'COMMIT', values: [] });
      return { done: true, result };
    } catch (error) {
      // A connection that timed out or died cannot roll back (a ROLLBACK would wait behind the
      // unanswered statement): it is discarded, and the server rolls back when it notices.
      if (broken === undefined && isClientTimeout(error)) broken = error as Error;
      try {
        if (broken === undefined) await client.query({ text: 'ROLLBACK', values: [] });
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      if (retry && broken === undefined && isDeadlock(error)) return { done: false };
      throw this.toStorageError(what, error);
    } finally {
      client.removeListener?.('error', onError);
      client.release(broken);
    }
  }

  /**
   * Checks out a connection with `onError` listening from the turn the pool hands it over. A
   * promise would attach it a microtask later: a server that ends a new connection right after
   * its start-up (a terminate that arrives in the same socket read as the connection's
   * ReadyForQuery) emitted its 'error' in between, to no listener, and crashed the process.
   */
  private checkOut(onError: (error: Error) => void): Promise<PostgresPoolClient> {
    return new Promise((resolve, reject) => {
      this.pool.connect((error, client) => {
        if (client === undefined) {
          reject(error ?? new Error('the pool handed over no connection'));
          return;
        }
        client.on?.('error', onError);
        resolve(client);
      });
    });
  }

  /** The query `pg` runs for `sql`: named (prepared once per connection) or not, per the config. */
  private config(sql: SqlText, params: readonly SqlParam[]): PostgresQueryConfig {
    // pg only reads the values (it maps them into a new array), so no defensive copy.
    return queryConfig(sql, params as unknown[], this.prepared);
  }

  /** Connection counts of the pool, for health. */
  poolCounts(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /**
   * Ends the pool if this storage created it, resolving once its sockets are closed (bounded:
   * see `PoolSockets`); a given pool stays open.
   */
  async close(): Promise<void> {
    if (!this.owned) return;
    await this.pool.end();
    await this.sockets?.closed();
  }

  /**
   * Wraps a driver error in the library's typed errors, naming what was being done and where.
   * A client timeout also closes the owned pool's idle connections: the path they share is
   * likely dead, so the calls after this one open fresh connections instead of each waiting
   * out a timeout on one.
   */
  toStorageError(what: string, error: unknown): StorageError {
    if (isClientTimeout(error)) this.idle?.closeAll();
    const note = poolWaitNote(error, this.pool, this.owned);
    return driverErrorToStorageError(
      this.label,
      what,
      error,
      this.readOnly,
      this.owned ? 'url' : 'pool',
      note,
    );
  }
}
