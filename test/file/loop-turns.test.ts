/** `LoopTurns`: the file backend's synchronous passes hand the event loop a turn by count or by time. */
import { LoopTurns } from '../../src/backends/file/loop-turns.js';

/** Runs `steps` steps of `work`, counting the steps taken before a callback queued first gets to run. */
async function stepsBeforeOtherWork(turns: LoopTurns, steps: number, work: () => void): Promise<number> {
  let ranAt: number | undefined;
  let done = 0;
  setImmediate(() => (ranAt = done));
  for (let i = 0; i < steps; i += 1) {
    await turns.step();
    work();
    done += 1;
  }
  return ranAt ?? steps;
}

const busy = (ms: number) => () => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('LoopTurns', () => {
  it('gives the event loop a turn after maxSteps steps', async () => {
    expect(await stepsBeforeOtherWork(new LoopTurns(10, 60_000), 50, () => undefined)).toBe(10);
  });

  it('gives it a turn once maxMs of synchronous work passed, before maxSteps', async () => {
    expect(await stepsBeforeOtherWork(new LoopTurns(1000, 5), 20, busy(2))).toBeLessThanOrEqual(4);
  });

  it('stepSoon hands out a promise only when a turn is due, then counts afresh', async () => {
    const turns = new LoopTurns(3, 60_000);
    const due = () => Array.from({ length: 3 }, () => turns.stepSoon() !== undefined);
    expect(due()).toEqual([false, false, false]);
    const turn = turns.stepSoon();
    expect(turn).toBeInstanceOf(Promise);
    await turn;
    expect(due()).toEqual([false, false, true]);
  });
});
