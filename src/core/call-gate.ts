/**
 * A store's own FIFO in front of its driver: at most `capacity` calls out at once, the others
 * waiting in arrival order with no timer per call. A driver's timers start when a call joins
 * its own queue (pg-pool's `connectionTimeoutMillis`, ioredis's `commandTimeout`), so a burst
 * larger than the server drains in that time had its tail rejected on a healthy server (10,000
 * PostgreSQL calls at once on the default pool: 9.4 s, at the edge; with 2 s ~86% rejected;
 * 20,000 Redis writes at once with a 2 s `commandTimeout`: every one, though all were written).
 * PostgreSQL lets out its pool's `max` plus a few dozen calls into pg-pool's queue
 * (`POOL_QUEUE_ALLOWANCE` in postgres/driver-errors.ts says why), Redis a few hundred commands
 * (`REDIS_CALLS_IN_FLIGHT`). What bounds a wait instead is progress: while calls wait, one
 * stall timer runs, and when no call got an answer for `stallMillis` every waiting call is
 * rejected at once (a stuck or dead server must not be drained one timeout at a time). A
 * PostgreSQL server with no connection slot left caps the calls out at the pool's live
 * connections ({@link CallGate.capAt}) for a while.
 */

/** Why a wait ended without a turn: the gate stalled or failed (`reason` says), or closed. */
export class GateWaitEnded extends Error {
  constructor(
    message: string,
    /** `closed`: the store shut down; `unavailable`: the server stopped answering or refused. */
    readonly kind: 'closed' | 'unavailable',
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'GateWaitEnded';
  }
}

/** The stall message's words for a `pg` pool (the default). */
const POOL_WORDING = {
  out: 'calls holding or queued for a connection of the pool',
  cause: 'the server stopped answering, or statements hold every connection that long',
};

/** One waiting call. */
interface Waiter {
  resolve(): void;
  reject(error: GateWaitEnded): void;
}

/**
 * At most `capacity` turns at once, the other calls waiting in arrival order. Taking a free
 * turn is synchronous ({@link tryTake}); only a call that must wait makes a promise.
 */
export class CallGate {
  private held = 0;
  /** Turns allowed now: `capacity`, or fewer while capped ({@link capAt}). */
  private limit: number;
  /** While capped: the timer raising {@link limit} by one, every {@link probeMillis}. */
  private probe: NodeJS.Timeout | undefined;
  private probeMillis = 0;
  /** The waiting calls from index {@link head} on (a queue without `shift()`'s O(n) copy). */
  private waiters: Waiter[] = [];
  private head = 0;
  /** The stall watch: its timer, or the confirmation after a turn's I/O (one at a time). */
  private timer: NodeJS.Timeout | undefined;
  private confirm: NodeJS.Immediate | undefined;
  private watching = false;
  /** When a call last got an answer (or the first call began to wait, or was sent since), `Date.now()`. */
  private lastProgressMs = 0;
  /** Whether a call was sent since the last answer ({@link noteSent}). */
  private sentSinceAnswer = false;
  private closedMessage: string | undefined;
  /** Whether the waiting calls were rejected for a stall and no call got an answer since. */
  private quiet = false;
  /** The stall message's words (see the constructor). */
  private readonly outNoun: string;
  private readonly stallCause: string;

  /**
   * @param capacity turns at once (a pool's `max` plus calls let on into its queue; the commands a Redis store may have in flight).
   * @param stallMillis how long waiting calls wait without any call getting an answer before
   *   they all reject; `undefined`: no bound (a given pool without a connect timeout).
   * @param poolMax the pool's `max`: a cap raised to it is lifted ({@link capAt}).
   * @param wording what the stall message calls the calls out, and its likely cause.
   */
  constructor(
    readonly capacity: number,
    private readonly stallMillis: number | undefined,
    private readonly poolMax: number = capacity,
    wording: { out: string; cause: string } = POOL_WORDING,
  ) {
    this.outNoun = wording.out;
    this.stallCause = wording.cause;
    this.limit = capacity;
  }

  /** Turns allowed now: {@link capacity}, or the cap of {@link capAt}. */
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

  /** Takes a turn when one is free and nobody waits (FIFO): true; false when the call must {@link take}. */
  tryTake(): boolean {
    if (this.held >= this.limit || this.head < this.waiters.length || this.closedMessage !== undefined)
      return false;
    this.held += 1;
    return true;
  }

  /** Waits for a turn in arrival order; rejects with {@link GateWaitEnded} on a stall, failure or close. */
  take(): Promise<void> {
    if (this.closedMessage !== undefined)
      return Promise.reject(new GateWaitEnded(this.closedMessage, 'closed'));
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
      return Promise.reject(new GateWaitEnded(this.closedMessage, 'closed'));
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
   * Caps the turns at `live` (the pool's live connections; at least one): the server refused
   * a new connection for want of slots, so a call let on when all of them are busy would only
   * make the pool open another, refused again. The calls holding turns keep them; the cap
   * rises by one every `probeMillis` (a call let on then may open one more connection, a probe
   * of the server's slots), and is lifted once it reaches the pool's `max`. A refusal while
   * capped caps again, from its live connections, and restarts the delay; a connection that
   * opens while capped raises it at once ({@link connectionOpened}).
   */
  capAt(live: number, probeMillis: number): void {
    this.limit = Math.max(1, Math.min(live, this.poolMax));
    this.probeMillis = probeMillis;
    if (this.probe !== undefined) clearTimeout(this.probe);
    this.scheduleProbe(probeMillis);
  }

  private scheduleProbe(probeMillis: number): void {
    this.probe = setTimeout(() => this.raise(probeMillis), probeMillis);
    // A cap must not keep a process alive that has nothing else to do.
    this.probe.unref();
  }

  /**
   * A new connection of the pool opened. While capped, the server had a slot for it: the cap
   * rises by one now instead of at the probe (whose delay restarts), so a server that freed
   * its slots has the pool back at `max` after as many connects, not as many seconds (a
   * refusal caps again). Once per new connection, never per call.
   */
  connectionOpened(): void {
    if (this.probe === undefined) return;
    clearTimeout(this.probe);
    this.raise(this.probeMillis);
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
   * Gives a turn back, straight to the next waiting call if any. `answered`: the call got
   * an answer from the server (rows, or a server error), which counts as progress.
   */
  give(answered: boolean): void {
    if (answered) {
      this.quiet = false;
      this.sentSinceAnswer = false;
      if (this.watching) this.lastProgressMs = Date.now();
    }
    // Handed on only below the cap ({@link capAt}): a capped gate lets the turns drain to it.
    const next = this.held <= this.limit ? this.next() : undefined;
    if (next === undefined) this.held -= 1;
    else next.resolve();
  }

  /**
   * Notes that calls holding turns went to the server now (for a driver that sends them later
   * than it took their turns: Redis sends a tick's commands at its end). The first sending since
   * the last answer starts the stall watch's quiet time anew: no answer can come before it, and
   * the store's own synchronous stretch before it (a burst of calls made in one loop) is not
   * the server's silence.
   */
  noteSent(): void {
    if (this.sentSinceAnswer) return;
    this.sentSinceAnswer = true;
    if (this.watching) this.lastProgressMs = Date.now();
  }

  /** Rejects every waiting call with `message` (the turns held stay held). */
  failWaiting(message: string, cause?: unknown): void {
    this.rejectAll(() => new GateWaitEnded(message, 'unavailable', cause));
  }

  /** Rejects the waiting calls and every later {@link take} with `message` (a closed store). */
  close(message: string): void {
    this.closedMessage = message;
    if (this.probe !== undefined) clearTimeout(this.probe);
    this.probe = undefined;
    this.rejectAll(() => new GateWaitEnded(message, 'closed'));
  }

  private rejectAll(error: () => GateWaitEnded): void {
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
      ` (${this.held} ${this.outNoun}): ${this.stallCause}`;
    this.quiet = true;
    this.failWaiting(message);
  }
}
