/**
 * A controllable clock for expiry tests: instead of sleeping through a short TTL (flaky on a
 * loaded CI machine), a test stores entries with a long TTL and moves the library's clock
 * (`Date.now`, which decides every expiry the library computes) forward.
 */

/** Moves `Date.now` forward on demand; `restore()` puts the real clock back. */
export interface ShiftedClock {
  /** Makes `Date.now()` return `ms` more from now on (cumulative). */
  advance(ms: number): void;
  /** Restores the real `Date.now`. */
  restore(): void;
}

/** Replaces `Date.now` with the real clock plus an offset that starts at 0. */
export function shiftClock(): ShiftedClock {
  const realNow = Date.now.bind(Date);
  let offsetMs = 0;
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
  return {
    advance(ms) {
      offsetMs += ms;
    },
    restore() {
      spy.mockRestore();
    },
  };
}
