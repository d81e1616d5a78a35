/**
 * `fc.assert` of an async property that waits, before it returns, for a run its time limit
 * interrupted. At `interruptAfterTimeLimit` fast-check stops waiting for the run still going but
 * cannot stop it, so the run keeps writing while the test goes on: a check made after the assert
 * (or the next test, or the clean-up) would race its writes. A CI run saw exactly that: a
 * whole-store comparison after the assert counted one memory more in the store the interrupted
 * run had written last.
 */
import fc from 'fast-check';

/** Asserts `predicate` over values of `arbitraries` with `params`; resolves once no run is left going. */
export async function assertAsync<Ts extends [unknown, ...unknown[]]>(
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...values: Ts) => Promise<boolean | void>,
  params: fc.Parameters<Ts>,
): Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const tracked = (...values: Ts): Promise<boolean | void> => {
    const run = predicate(...values);
    running = run.catch(() => undefined);
    return run; // as given: `false` still fails the run
  };
  // asyncProperty's overloads take a fixed number of arbitraries; the tuple is spread as they expect.
  const property = (fc.asyncProperty as (...args: unknown[]) => fc.IAsyncPropertyWithHooks<Ts>)(
    ...arbitraries,
    tracked,
  );
  try {
    await fc.assert(property, params);
  } finally {
    await running;
  }
}
