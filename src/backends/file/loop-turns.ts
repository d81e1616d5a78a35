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
    if (this.steps >= this.maxSteps || performance.now() - this.started > this.maxMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.steps = 0;
      this.started = performance.now();
    }
    this.steps += 1;
  }
}
