/**
 * The connection pool of one storage instance: loads `pg` lazily, opens (or adopts) a pool,
 * runs statements and transactions on it, and turns driver errors into typed errors whose
 * messages carry the redacted URL, never a password.
 */
import { logEvent, redactUrl, type StorageError } from '../../core/index.js';
import {
  checkPgPortEnv,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryConfig,
  type PostgresQueryResult,
  type ResolvedPostgresConfig,
} from './config.js';
import {
  describeDriverError,
  driverErrorToStorageError,
  isClientTimeout,
  deadlockBackoff,
  DEADLOCK_RETRIES,
  isDeadlock,
  POOL_QUEUE_ALLOWANCE,
  poolWaitNote,
} from './driver-errors.js';
import { GateTurns } from './gate-turns.js';
import { describePostgresStore } from './schema.js';
import { ClosedAfterTimeout, IdleConnections } from './idle-connections.js';
import { LiveConnections } from './live-connections.js';
import { createPool, pgOptionsEnvOverride } from './pg-module.js';
import { CallGate } from '../../core/call-gate.js';
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

/** The rows of a result ({@link PostgresConnection.rows}). */
const rowsOf = (result: PostgresQueryResult): unknown[] => result.rows;
/** How many rows a statement changed ({@link PostgresConnection.run}). */
const rowCountOf = (result: PostgresQueryResult): number => result.rowCount ?? 0;

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
    /** The calls' turns at their own FIFO in front of the pool (gate-turns.ts). */
    private readonly turns: GateTurns,
    /** The idle connections of an owned pool, closed after a client timeout (a given pool keeps its own). */
    private readonly idle?: IdleConnections,
    /** The open sockets of an owned pool, which closing waits for. */
    private readonly sockets?: PoolSockets,
  ) {}

  /** Creates a pool for `config.url`, or adopts `config.pool`. Connects lazily. */
  static async open(config: ResolvedPostgresConfig): Promise<PostgresConnection> {
    const { preparedStatements: prepared, readOnly } = config;
    if (config.pool !== undefined) {
      // A given pool may serve the application too: the gate counts only this store's
      // checkouts, so a call may still queue in the pool, bounded by the pool's own timeout.
      // No allowance past `max`: a call timed out in a given pool's queue is not queued again
      // (its timeout is the application's rule), so only calls holding a checkout go there.
      const { max, connectionTimeoutMillis: wait } = config.pool.options ?? {};
      const gate = new CallGate(max ?? 10, wait !== undefined && wait > 0 ? wait : undefined);
      const label = 'given pg.Pool';
      const turns = new GateTurns(gate, label, false, undefined, describePostgresStore(label, config.schema));
      return new PostgresConnection(config.pool, false, label, prepared, readOnly, turns);
    }
    checkPgPortEnv(config.url);
    const overridden = pgOptionsEnvOverride(config.url);
    if (overridden !== null) logEvent(config.logger, 'warn', overridden, { variable: 'PGOPTIONS' });
    const pool = await createPool(config);
    const [idle, sockets] = [new IdleConnections(pool), new PoolSockets(pool)];
    const gate = new CallGate(config.max + POOL_QUEUE_ALLOWANCE, config.connectionTimeoutMillis, config.max);
    const live = new LiveConnections(pool, () => gate.connectionOpened());
    const label = redactUrl(config.url);
    const turns = new GateTurns(gate, label, true, live, describePostgresStore(label, config.schema));
    const connection = new PostgresConnection(pool, true, label, prepared, readOnly, turns, idle, sockets);
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
  rows<R>(what: string, sql: SqlText, params: readonly SqlParam[] = []): Promise<R[]> {
    return this.query(what, sql, params, rowsOf as (result: PostgresQueryResult) => R[]);
  }

  /** Runs one write statement on any pooled connection, as {@link rows}; returns how many rows it changed. */
  run(what: string, sql: SqlText, params: readonly SqlParam[] = []): Promise<number> {
    return this.query(what, sql, params, rowCountOf);
  }

  /**
   * {@link rows} and {@link run}: one statement through the gate, run again as a deadlock
   * victim; `pick` takes what the caller wants of the result (one async frame per call, not two).
   */
  private async query<T>(
    what: string,
    sql: SqlText,
    params: readonly SqlParam[],
    pick: (result: PostgresQueryResult) => T,
  ): Promise<T> {
    let requeued = false;
    let refused = false;
    for (let attempt = 1; ; attempt += 1) {
      // A free checkout is taken synchronously: an uncontended call makes no promise for it.
      if (refused || !this.turns.tryTake()) await this.turns.waitTurn(what, refused);
      try {
        const result = await this.pool.query(this.config(sql, params));
        this.turns.answered();
        return pick(result);
      } catch (error) {
        refused = this.turns.giveBack(error);
        // Refused a new connection by a full server (none of it ran): waits again, ahead of the others.
        if (refused || (!requeued && this.turns.requeues(error))) {
          [requeued, attempt] = [requeued || !refused, attempt - 1];
          continue;
        }
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
    const client = await this.takeClient(what, onError);
    let failure: unknown;
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
      failure = error;
      if (retry && broken === undefined && isDeadlock(error)) return { done: false };
      throw this.toStorageError(what, error);
    } finally {
      client.removeListener?.('error', onError);
      client.release(broken);
      this.turns.giveBack(broken ?? failure);
    }
  }

  /** A turn in the gate, then a connection from the pool ({@link checkOut}), waiting again as {@link GateTurns.giveBack} and {@link GateTurns.requeues} say. */
  private async takeClient(what: string, onError: (error: Error) => void): Promise<PostgresPoolClient> {
    for (let requeued = false, refused = false; ;) {
      if (refused || !this.turns.tryTake()) await this.turns.waitTurn(what, refused);
      try {
        return await this.checkOut(onError);
      } catch (error) {
        refused = this.turns.giveBack(error);
        if (!refused && (requeued || !this.turns.requeues(error))) throw this.toStorageError(what, error);
        requeued ||= !refused;
      }
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
    // Waiting: in the storage's own queue, and (a given pool shared with others) in the pool's.
    const waiting = this.turns.waiting + this.pool.waitingCount;
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting };
  }

  /** Calls waiting in the storage's own queue for a connection, for health. */
  get queued(): number {
    return this.turns.waiting;
  }

  /**
   * Ends the pool if this storage created it, resolving once its sockets are closed (bounded:
   * see `PoolSockets`); a given pool stays open. Calls still waiting for a connection (none
   * after a shutdown, which waits for its calls) reject as after a shutdown.
   */
  async close(): Promise<void> {
    this.turns.close();
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
