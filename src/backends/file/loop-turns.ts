/**
 * Turns of the event loop for the file backend's synchronous passes (reads of page-cached
 * files, `stat`s): a synchronous call of a few microseconds costs a fraction of a trip through
 * the thread pool, but a pass over thousands of files must still let timers and I/O run.
 */

/** Hands the event loop a turn after `maxSteps` steps or `maxMs` milliseconds, whichever comes first. */
export class LoopTurns {
  private steps = 0;
  private started = performance.now();

  /**
   * @param maxSteps steps per turn
   * @param maxMs longest stretch of synchronous work per turn (a step on a large file takes long)
   */
  constructor(
    private readonly maxSteps: number,
    private readonly maxMs = 10,
  ) {}

  /** Call before each step: resolves at once, or after a turn of the event loop when one is due. */
  async step(): Promise<void> {
    const turn = this.stepSoon();
    if (turn !== undefined) await turn;
  }

  /**
   * As {@link step}, for tight loops: `undefined` when no turn is due (the step may run at
   * once), else a promise to await first. Awaiting a settled promise still costs a microtask
   * turn and its garbage per step, a measurable part of a pass over 10,000 folders.
   */
  stepSoon(): Promise<void> | undefined {
    this.steps += 1;
    if (this.steps <= this.maxSteps && performance.now() - this.started <= this.maxMs) return undefined;
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.steps = 1;
      this.started = performance.now();
    });
  }
}
