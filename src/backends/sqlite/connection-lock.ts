/**
 * The lock that keeps the users of one SQLite connection apart (see connection.ts): first come,
 * first served. Every read and write of the backend takes it, so it is cheap when free: no
 * promise is made unless a caller has to wait.
 */
export class ConnectionLock {
  private held = false;
  private readonly waiting: Array<() => void> = [];

  /** Runs `task` once every earlier task has settled; the lock passes to the next in line after it. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held = true;
    try {
      return await task();
    } finally {
      // Handed straight to the next waiter (still held), so nobody can slip in between.
      const next = this.waiting.shift();
      if (next === undefined) this.held = false;
      else next();
    }
  }
}
