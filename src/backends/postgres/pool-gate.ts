/**
 * The library's own FIFO in front of a `pg` pool. pg-pool starts `connectionTimeoutMillis` the
 * moment a call joins its queue, so a burst larger than the pool drains in that time had its
 * tail rejected on a healthy server (10,000 calls at once on the default pool: 9.4 s, at the
 * edge; with 2 s ~86% rejected). Here calls wait with no timer per call, holding at most
 * `capacity` checkouts: the pool's `max` plus a few dozen calls let on into pg-pool's queue
 * (`POOL_QUEUE_ALLOWANCE` in driver-errors.ts says why), which drains in a few statements'
 * time. What bounds a wait instead is progress: while calls wait, one stall timer runs, and
 * when no call got an answer for `stallMillis` every waiting call is rejected at once (a stuck
 * or dead server must not be drained one timeout at a time). A server with no connection slot
 * left caps the checkouts at the pool's live connections ({@link PoolGate.capAt}) for a while.
 */

/** Why a wait ended without a checkout: the gate stalled or failed (`reason` says), or closed. */
export class PoolWaitEnded extends Error {
  constructor(
    message: string,
    /** `closed`: the store shut down; `unavailable`: the server stopped answering or refused. */
    readonly kind: 'closed' | 'unavailable',
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'PoolWaitEnded';
  }
}

/** One waiting call. */
interface Waiter {
  resolve(): void;
  reject(error: PoolWaitEnded): void;
}

/**
 * At most `capacity` checkouts at once, the other calls waiting in arrival order. Taking a free
 * checkout is synchronous ({@link tryTake}); only a call that must wait makes a promise.
 */
export class PoolGate {
  private held = 0;
  /** Checkouts allowed now: `capacity`, or fewer while capped ({@link capAt}). */
  private limit: number;
  /** While capped: the timer raising {@link limit} by one. */
  private probe: NodeJS.Timeout | undefined;
  /** The waiting calls from index {@link head} on (a queue without `shift()`'s O(n) copy). */
  private waiters: Waiter[] = [];
  private head = 0;
  /** The stall watch: its timer, or the confirmation after a turn's I/O (one at a time). */
  private timer: NodeJS.Timeout | undefined;
  private confirm: NodeJS.Immediate | undefined;
  private watching = false;
  /** When a call last got an answer (or the first call began to wait), `Date.now()`. */
  private lastProgressMs = 0;
  private closedMessage: string | undefined;
  /** Whether the waiting calls were rejected for a stall and no call got an answer since. */
  private quiet = false;

  /**
   * @param capacity checkouts at once (the pool's `max`, plus calls let on into its queue).
   * @param stallMillis how long waiting calls wait without any call getting an answer before
   *   they all reject; `undefined`: no bound (a given pool without a connect timeout).
   * @param poolMax the pool's `max`: a cap raised to it is lifted ({@link capAt}).
   */
  constructor(
    readonly capacity: number,
    private readonly stallMillis: number | undefined,
    private readonly poolMax: number = capacity,
  ) {
    this.limit = capacity;
  }

  /** Checkouts allowed now: {@link capacity}, or the cap of {@link capAt}. */
  get allowed(): number {
    return this.limit;
  }

  /** Calls waiting now. */
  get waiting(): number {
    return this.waiters.length - this.head;
  }

  /** Whether the last stall check rejected the waiting calls and no call got an answer since. */
  get stalledSinceAnswer(): boolean {
    return this.quiet;
  }

  /** Checkouts held now. */
  get busy(): number {
    return this.held;
  }

  /** Takes a checkout when one is free and nobody waits (FIFO): true; false when the call must {@link take}. */
  tryTake(): boolean {
    if (this.held >= this.limit || this.head < this.waiters.length || this.closedMessage !== undefined)
      return false;
    this.held += 1;
    return true;
  }

  /** Waits for a checkout in arrival order; rejects with {@link PoolWaitEnded} on a stall, failure or close. */
  take(): Promise<void> {
    if (this.closedMessage !== undefined)
      return Promise.reject(new PoolWaitEnded(this.closedMessage, 'closed'));
    if (this.tryTake()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (this.waiting === 0) this.lastProgressMs = Date.now();
      this.waiters.push({ resolve, reject });
      this.arm();
    });
  }

  /**
   * As {@link take}, but ahead of the calls waiting: for a call that had its turn and must wait
   * again although none of its statements ran (a new connection refused, {@link capAt}).
   */
  takeFirst(): Promise<void> {
    if (this.closedMessage !== undefined)
      return Promise.reject(new PoolWaitEnded(this.closedMessage, 'closed'));
    if (this.held < this.limit) {
      this.held += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      if (this.waiting === 0) this.lastProgressMs = Date.now();
      if (this.head > 0) this.waiters[--this.head] = { resolve, reject };
      else this.waiters.unshift({ resolve, reject });
      this.arm();
    });
  }

  /**
   * Caps the checkouts at `live` (the pool's live connections; at least one): the server refused
   * a new connection for want of slots, so a call let on when all of them are busy would only
   * make the pool open another, refused again. The calls holding checkouts keep them; the cap
   * rises by one every `probeMillis` (a call let on then may open one more connection, a probe
   * of the server's slots), and is lifted once it reaches the pool's `max`. A refusal while
   * capped caps again, from its live connections, and restarts the delay.
   */
  capAt(live: number, probeMillis: number): void {
    this.limit = Math.max(1, Math.min(live, this.poolMax));
    if (this.probe !== undefined) clearTimeout(this.probe);
    this.scheduleProbe(probeMillis);
  }

  private scheduleProbe(probeMillis: number): void {
    this.probe = setTimeout(() => this.raise(probeMillis), probeMillis);
    // A cap must not keep a process alive that has nothing else to do.
    this.probe.unref();
  }

  /** The probe's turn: raises the cap by one (lifted at the pool's `max`) and lets waiting calls on. */
  private raise(probeMillis: number): void {
    this.probe = undefined;
    this.limit += 1;
    if (this.limit >= this.poolMax) this.limit = this.capacity;
    else this.scheduleProbe(probeMillis);
    while (this.held < this.limit) {
      const next = this.next();
      if (next === undefined) break;
      this.held += 1;
      next.resolve();
    }
  }

  /**
   * Gives a checkout back, straight to the next waiting call if any. `answered`: the call got
   * an answer from the server (rows, or a server error), which counts as progress.
   */
  give(answered: boolean): void {
    if (answered) {
      this.quiet = false;
      if (this.watching) this.lastProgressMs = Date.now();
    }
    // Handed on only below the cap ({@link capAt}): a capped gate lets the checkouts drain to it.
    const next = this.held <= this.limit ? this.next() : undefined;
    if (next === undefined) this.held -= 1;
    else next.resolve();
  }

  /** Rejects every waiting call with `message` (the checkouts held stay held). */
  failWaiting(message: string, cause?: unknown): void {
    this.rejectAll(() => new PoolWaitEnded(message, 'unavailable', cause));
  }

  /** Rejects the waiting calls and every later {@link take} with `message` (a closed store). */
  close(message: string): void {
    this.closedMessage = message;
    if (this.probe !== undefined) clearTimeout(this.probe);
    this.probe = undefined;
    this.rejectAll(() => new PoolWaitEnded(message, 'closed'));
  }

  private rejectAll(error: () => PoolWaitEnded): void {
    const waiters = this.waiters.slice(this.head);
    this.waiters = [];
    this.head = 0;
    this.disarm();
    for (const waiter of waiters) waiter.reject(error());
  }

  private next(): Waiter | undefined {
    if (this.head >= this.waiters.length) return undefined;
    const waiter = this.waiters[this.head] as Waiter;
    this.head += 1;
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
      this.disarm();
    } else if (this.head >= 1024 && this.head * 2 >= this.waiters.length) {
      // Drop the served front now and then, so a long burst does not keep them all.
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
    return waiter;
  }

  /** Starts the one stall timer (if there is a bound and none runs). */
  private arm(): void {
    if (this.stallMillis === undefined || this.watching) return;
    this.watching = true;
    this.schedule(this.stallMillis);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.checkStall(), ms);
  }

  private disarm(): void {
    if (!this.watching) return;
    this.watching = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.confirm !== undefined) clearImmediate(this.confirm);
    this.timer = undefined;
    this.confirm = undefined;
  }

  /** The timer's turn: rejects the waiting calls when no call got an answer for `stallMillis`, else waits on. */
  private checkStall(): void {
    this.timer = undefined;
    const stall = this.stallMillis as number;
    const quiet = Date.now() - this.lastProgressMs;
    if (quiet < stall) {
      this.schedule(stall - quiet);
      return;
    }
    // A timer fires before the I/O of its loop turn is read: after a long synchronous stretch
    // of our own (a burst of 10,000 calls made in one loop), answers may be waiting unread.
    // The confirmation runs after them, so only a server that really went quiet counts.
    const seen = this.lastProgressMs;
    this.confirm = setImmediate(() => {
      this.confirm = undefined;
      if (this.lastProgressMs === seen) this.stalled(stall);
      else this.checkStall();
    });
  }

  /** Rejects the waiting calls: none got an answer for `stall` ms. */
  private stalled(stall: number): void {
    const message =
      `no call got an answer from the server for ${stall} ms while ${this.waiting} calls waited` +
      ` (${this.held} calls holding or queued for a connection of the pool): the server stopped answering, or statements` +
      ` hold every connection that long`;
    this.quiet = true;
    this.failWaiting(message);
  }
}
