/**
 * The open/close state machine of a store, kept apart from the storage methods:
 * `new → opening → open → closing → closed` (and `closed → opening` again).
 *
 * Rule: `initialize()` and `shutdown()` take effect in the order they were called. Each waits
 * for the transitions called before it, so an `initialize()` during a `shutdown()` waits until
 * the old connection is closed and then opens a new one (never two connections at once, never
 * a leaked one). A call of the same kind as the last pending transition joins it.
 */
import { InFlightCalls } from './in-flight.js';

/** Where a store is in its life. */
export type LifecycleState = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/** What the state machine opens and closes. */
export interface LifecycleHooks {
  /** Opens connections / creates folders and tables. */
  open(): Promise<void>;
  /** Releases connections, timers and locks. */
  close(): Promise<void>;
}

type TransitionKind = 'open' | 'close';

/** Serialises a store's opens and closes, and tracks the calls `close` must wait for. */
export class StoreLifecycle {
  private current: LifecycleState = 'new';
  /** The last transition called and not yet finished. */
  private pending: { kind: TransitionKind; done: Promise<void> } | undefined;
  /** Calls accepted and not yet settled (a count: tracking allocates nothing per call). */
  private readonly calls = new InFlightCalls();
  // One pair of handlers for every tracked call, so tracking creates no closure per call.
  private readonly settledOk = <T>(value: T): T => {
    this.calls.leave();
    return value;
  };
  private readonly settledError = (error: unknown): never => {
    this.calls.leave();
    throw error;
  };

  constructor(private readonly hooks: LifecycleHooks) {}

  /** The current state. */
  get state(): LifecycleState {
    return this.current;
  }

  /** Opens the store after the transitions called before; resolves at once when already open. */
  open(): Promise<void> {
    if (this.current === 'open' && this.pending === undefined) return Promise.resolve();
    return this.enqueue('open', () => this.openNow());
  }

  /**
   * Closes the store after the transitions called before, once the calls accepted while it was
   * open have finished. From the moment it starts, new calls are refused.
   */
  close(): Promise<void> {
    return this.enqueue('close', () => this.closeNow());
  }

  /**
   * Registers a call accepted while open, so that `close()` waits for it; returns a promise
   * that settles like `call`, once the call no longer counts as in flight.
   */
  track<T>(call: Promise<T>): Promise<T> {
    // Promise.resolve: a registered backend's primitive that returns a plain value still
    // settles (and is counted out), instead of leaving a close waiting for ever.
    const settled = Promise.resolve(call).then(this.settledOk, this.settledError);
    this.calls.enter();
    return settled;
  }

  private enqueue(kind: TransitionKind, step: () => Promise<void>): Promise<void> {
    const last = this.pending;
    if (last?.kind === kind) return last.done;
    // With nothing pending the step starts synchronously, so a shutdown() refuses the calls
    // made right after it, in the same tick.
    const done = last === undefined ? step() : last.done.then(step, step);
    const entry = { kind, done };
    this.pending = entry;
    const settle = (): void => {
      if (this.pending === entry) this.pending = undefined;
    };
    done.then(settle, settle);
    return done;
  }

  private async openNow(): Promise<void> {
    if (this.current === 'open') return;
    const before = this.current;
    this.current = 'opening';
    try {
      await this.hooks.open();
    } catch (error) {
      this.current = before;
      throw error;
    }
    this.current = 'open';
  }

  private async closeNow(): Promise<void> {
    if (this.current !== 'open') {
      // A store never opened (or whose every open failed) stays 'new': its calls keep saying
      // "before initialize()", not "after shutdown()", which would point at the wrong cause.
      if (this.current !== 'new') this.current = 'closed';
      return;
    }
    this.current = 'closing';
    try {
      // Calls accepted before the close finish (and release their locks) first; no new
      // ones are accepted while closing.
      await this.calls.whenIdle();
      await this.hooks.close();
    } finally {
      this.current = 'closed';
    }
  }
}
