/**
 * In-process mutual exclusion by key: callers with the same key run one after another (first
 * come, first served), callers with different keys run concurrently. Protects nothing across
 * processes.
 */
export class KeyedMutex {
  /** Per held key, the callers waiting for it, in arrival order. */
  private readonly waiting = new Map<string, Array<() => void>>();

  /**
   * Runs `task` once every earlier task for `key` has settled. Hot paths (every SQLite
   * statement, every file write) take a free key, so a free key costs no promise: the task
   * starts at once, and the key passes straight to the next waiter, so nobody slips in between.
   */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const queue = this.waiting.get(key);
    if (queue === undefined) this.waiting.set(key, []);
    else await new Promise<void>((resolve) => queue.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.get(key)?.shift();
      // Forget the key once nobody is queued behind us, so the map does not grow forever.
      if (next === undefined) this.waiting.delete(key);
      else next();
    }
  }
}
