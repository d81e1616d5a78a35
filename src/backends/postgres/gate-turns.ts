/**
 * The glue between a store's calls (connection.ts) and the {@link CallGate} in front of its
 * pool: taking a turn (at once when one is free, else in the gate's FIFO, a wait that ends
 * without a checkout rejecting typed), giving it back after the call, and whether a call that
 * timed out in pg-pool's own queue, or was refused a new connection by a server with no slot
 * left, waits once more in the gate's.
 */
import { BackendUnavailableError, NotInitializedError } from '../../core/index.js';
import {
  describeDriverError,
  isConnectFailure,
  isConnectionTrouble,
  isPoolWaitTimeout,
  isTooManyConnections,
} from './driver-errors.js';
import { GateWaitEnded, type CallGate } from '../../core/call-gate.js';

/**
 * How long a gate capped after a refusal for want of slots waits before letting one more call
 * on, which may open one more connection ({@link CallGate.capAt}): a server at its limit pays
 * at most one refused connect a second for this store.
 */
export const SLOT_PROBE_MILLIS = 1000;

/** The turns of one store's calls at its pool's gate. */
export class GateTurns {
  constructor(
    /** The calls' own FIFO in front of the pool (core/call-gate.ts). */
    private readonly gate: CallGate,
    /** Redacted URL, or a description of the given pool, for messages. */
    private readonly label: string,
    /** True when the store created the pool (see {@link requeues}). */
    private readonly owned: boolean,
    /**
     * The pool's open connections, and those plus the ones opening (an owned pool's; see
     * {@link giveBack}); none: a given pool, whose connections may be the application's,
     * which the store cannot count on.
     */
    private readonly live: { readonly count: number; readonly openOrOpening: number } | undefined,
    /** The store as errors name it: {@link label} and the schema (see `describePostgresStore`). */
    private readonly store: string,
  ) {}

  /**
   * Takes a free checkout synchronously (an uncontended call makes no promise for it): true;
   * false when nobody may go ahead of the calls waiting, and the call must {@link waitTurn}.
   */
  tryTake(): boolean {
    return this.gate.tryTake();
  }

  /**
   * Waits in the gate's FIFO (`first`: ahead of it, a call {@link giveBack} sent back); a wait
   * that ends without a checkout rejects typed, naming `what`.
   */
  async waitTurn(what: string, first = false): Promise<void> {
    try {
      await (first ? this.gate.takeFirst() : this.gate.take());
    } catch (error) {
      if (!(error instanceof GateWaitEnded)) throw error;
      // As the store's other calls after a shutdown (`db` in postgres-base.ts).
      if (error.kind === 'closed') throw new NotInitializedError('postgres', 'a call', 'closed', this.store);
      throw new BackendUnavailableError(
        `postgres storage (${this.label}): ${what} failed: ${error.message}`,
        error.cause ?? error,
      );
    }
  }

  /** Gives a checkout back after a call that got its answer: {@link giveBack} with no error to read. */
  answered(): void {
    this.gate.give(true);
  }

  /**
   * Gives a checkout back after `error` (none: the call got its answer). Only trouble with the
   * connection is no answer; a connect that failed rejects the calls waiting behind it at once,
   * with its reason. Except a new connection refused for want of slots (53300) while the owned
   * pool has open ones: they can serve the calls, so the gate is capped at them (a call let on
   * with all of them busy would make the pool open another), and this call, none of whose
   * statements ran, must wait again ahead of the others (`waitTurn(what, true)`): true. The
   * refusal is no answer either: the stall watch still bounds the waits. Connections still
   * opening count too (the cap is at least one): a burst on a pool with none open makes it
   * open several at once, and the server's refusal of the last ones can come back before the
   * first ones it let in finish opening (which failed 298 of a 300-call burst). With none open
   * or opening the server refuses the store entirely, and everything fails at once as before.
   */
  giveBack(error?: unknown): boolean {
    if (error !== undefined && isConnectFailure(error)) {
      const live = this.live;
      if (live !== undefined && live.openOrOpening > 0 && isTooManyConnections(error)) {
        this.gate.capAt(live.count, SLOT_PROBE_MILLIS);
        this.gate.give(false);
        return true;
      }
      this.gate.failWaiting(
        `a connection to the server failed just before: ${describeDriverError(error)}`,
        error,
      );
    }
    this.gate.give(!isConnectionTrouble(error));
    return false;
  }

  /**
   * Whether a call that timed out in pg-pool's queue (one of the `POOL_QUEUE_ALLOWANCE` calls
   * let past `max`, driver-errors.ts) waits once more, in the gate's queue: no statement of it
   * ran, and a long synchronous stretch (a burst made in one loop turn) can outlast pg-pool's
   * timer on a healthy server. Once only, so with nobody waiting in the gate (no stall watch)
   * a stuck server still rejects it, after at most twice `connectionTimeoutMillis`. A given
   * pool's timeout is the application's rule (it may hold the connections): not waited out.
   * Nor after the gate found the server quiet (a stall, no answer since): that call fails too.
   */
  requeues(error: unknown): boolean {
    return this.owned && isPoolWaitTimeout(error) && !this.gate.stalledSinceAnswer;
  }

  /** Calls waiting in the gate now. */
  get waiting(): number {
    return this.gate.waiting;
  }

  /** Rejects the waiting calls and every later turn as after a shutdown ({@link waitTurn}). */
  close(): void {
    this.gate.close('closed');
  }
}
