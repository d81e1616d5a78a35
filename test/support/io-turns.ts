/**
 * Waiting on I/O alone, for tests that run the library on Jest's fake timers (so that a loaded
 * machine's lag cannot overrun a bound) while real sockets still carry the traffic. Install the
 * fake timers with {@link onIoOnlyTimers} (or `doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask']`)
 * for these to work.
 */

// Kept at load, before any test fakes them.
const realSetTimeout = globalThis.setTimeout;
const realNow = performance.now.bind(performance);

/** Lets `n` turns of the event loop run (I/O callbacks included), firing no timer. */
export async function ioTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Polls `done` on the real clock (not the faked one) for up to `ms`, firing no faked timer: what
 * `done` waits for must come by I/O. Returns `done()`'s last value.
 */
export async function waitForIo(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = realNow() + ms;
  while (!done() && realNow() < deadline) {
    await ioTurns(1);
    await new Promise((resolve) => realSetTimeout(resolve, 10));
  }
  return done();
}

/**
 * Runs `fn` on Jest's fake timers, I/O turns left real. After it (passed or failed) the faked
 * timers are run out, so a close left waiting on one does not hang the test's cleanup.
 */
export async function onIoOnlyTimers<T>(fn: () => Promise<T>): Promise<T> {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    return await fn();
  } finally {
    jest.advanceTimersByTime(60_000);
    jest.useRealTimers();
  }
}
