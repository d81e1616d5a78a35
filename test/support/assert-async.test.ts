/** `assertAsync` waits for a run its time limit interrupted (plain `fc.assert` does not). */
import fc from 'fast-check';
import { assertAsync } from './assert-async.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A 1 s cap: the quick first run always ends inside it, even on a loaded machine. */
const LIMITED = { seed: 1, numRuns: 5, interruptAfterTimeLimit: 1000 } as const;

/** A predicate whose first run is quick and whose later runs wait for `gate` (an interrupted property with no success counts as failed). */
function gated(finished: number[], gate: Promise<void>) {
  let runs = 0;
  return async (n: number) => {
    runs += 1;
    if (runs > 1) await gate;
    finished.push(n);
  };
}

describe('assertAsync', () => {
  it('resolves only after the run the time limit interrupted has finished', async () => {
    // Through fast-check alone the assert returns while the interrupted run still waits.
    let open = (): void => undefined;
    const alone: number[] = [];
    await fc.assert(
      fc.asyncProperty(fc.nat(), gated(alone, new Promise<void>((resolve) => (open = resolve)))),
      LIMITED,
    );
    expect(alone).toHaveLength(1);
    open();
    await sleep(10);
    expect(alone).toHaveLength(2);
    // assertAsync waits for it: the gate opens only after the cap, and the run ends after that.
    const waited: number[] = [];
    await assertAsync(
      [fc.nat()],
      gated(
        waited,
        sleep(1300).then(() => undefined),
      ),
      LIMITED,
    );
    expect(waited).toHaveLength(2);
  });

  it('still reports a failing run (a throw or false), and skips values fc.pre rejects', async () => {
    const seen: number[] = [];
    await assertAsync(
      [fc.integer({ min: 0, max: 9 })],
      async (n) => {
        fc.pre(n % 2 === 0);
        seen.push(n);
      },
      { seed: 2, numRuns: 10 },
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((n) => n % 2 === 0)).toBe(true);
    await expect(
      assertAsync(
        [fc.integer({ min: 0, max: 9 })],
        async (n) => {
          if (n > 4) throw new Error(`too big: ${n}`);
        },
        { seed: 3, numRuns: 50 },
      ),
    ).rejects.toThrow(/Counterexample: \[5\]/);
    await expect(
      assertAsync([fc.integer({ min: 0, max: 9 })], async (n) => n < 7, { seed: 4, numRuns: 50 }),
    ).rejects.toThrow(/Counterexample: \[7\]/);
  });
});
