/**
 * The glue between a store's calls (connection.ts) and the {@link PoolGate} in front of its
 * pool: taking a turn (at once when one is free, else in the gate's FIFO, a wait that ends
 * without a checkout rejecting typed), giving it back after the call, and whether a call that
 * timed out in pg-pool's own queue waits once more in the gate's.
 */
import { BackendUnavailableError, NotInitializedError } from '../../core/index.js';
import {
  describeDriverError,
  isConnectFailure,
  isConnectionTrouble,
  isPoolWaitTimeout,
} from './driver-errors.js';
import { PoolWaitEnded, type PoolGate } from './pool-gate.js';

/** The turns of one store's calls at its pool's gate. */
export class GateTurns {
  constructor(
    /** The calls' own FIFO in front of the pool (pool-gate.ts). */
    private readonly gate: PoolGate,
    /** Redacted URL, or a description of the given pool, for messages. */
    private readonly label: string,
    /** True when the store created the pool (see {@link requeues}). */
    private readonly owned: boolean,
  ) {}

  /**
   * Takes a free checkout synchronously (an uncontended call makes no promise for it): true;
   * false when nobody may go ahead of the calls waiting, and the call must {@link waitTurn}.
   */
  tryTake(): boolean {
    return this.gate.tryTake();
  }

  /** Waits in the gate's FIFO; a wait that ends without a checkout rejects typed, naming `what`. */
  async waitTurn(what: string): Promise<void> {
    try {
      await this.gate.take();
    } catch (error) {
      if (!(error instanceof PoolWaitEnded)) throw error;
      // As the store's other calls after a shutdown (`db` in postgres-base.ts).
      if (error.kind === 'closed') throw new NotInitializedError('postgres', 'a call', 'closed');
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
   * connection is no answer; a connect that failed rejects the calls waiting behind it at once, with its reason.
   */
  giveBack(error?: unknown): void {
    if (error !== undefined && isConnectFailure(error)) {
      this.gate.failWaiting(
        `a connection to the server failed just before: ${describeDriverError(error)}`,
        error,
      );
    }
    this.gate.give(!isConnectionTrouble(error));
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
