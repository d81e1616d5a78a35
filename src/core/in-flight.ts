/**
 * A count of calls in flight and a promise of the moment it reaches zero: what a store's close
 * (and the Redis connection's drain) waits for. Entering and leaving allocate nothing; the
 * promise is made only while something waits for it.
 */

/** Calls started and not yet settled, and a shared waiter for none. */
export class InFlightCalls {
  private active = 0;
  /** Resolves when {@link active} reaches 0; made only while someone waits. */
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;

  /** Calls in flight. */
  get count(): number {
    return this.active;
  }

  /** Counts a call in. */
  enter(): void {
    this.active += 1;
  }

  /** Counts a call out, waking the waiters when it was the last. */
  leave(): void {
    this.active -= 1;
    if (this.active === 0 && this.idle !== undefined) {
      this.idle.resolve();
      this.idle = undefined;
    }
  }

  /** Resolves once no call is in flight (one shared waiter, however many wait). */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    if (this.idle === undefined) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((done) => (resolve = done));
      this.idle = { promise, resolve };
    }
    return this.idle.promise;
  }
}
