/**
 * The calls waiting for a Redis client to be ready again (`RedisConnection` has no offline
 * queue: a call waits here, bounded by its command timeout, and sends nothing once it gave up).
 */
import type { EventEmitter } from 'node:events';

/** Wake-ups of the calls waiting for one client's `ready` (or `end`), one pair of listeners for all. */
export class ConnectionWaiters {
  private readonly waiting = new Set<() => void>();

  constructor(private readonly client: Pick<EventEmitter, 'once' | 'off'>) {}

  /** Calls waiting now. */
  get size(): number {
    return this.waiting.size;
  }

  /** Calls `wake` once the client is ready again, or has ended for good (the call then fails). */
  add(wake: () => void): void {
    if (this.waiting.size === 0) {
      this.client.once('ready', this.wakeAll);
      this.client.once('end', this.wakeAll);
    }
    this.waiting.add(wake);
  }

  /**
   * Forgets a call that gave up, and the listeners once nobody waits. (A promise shared by the
   * waiting calls kept every call that gave up, its closure and arguments, until the reconnect:
   * an outage held every call made during it.)
   */
  remove(wake: () => void): void {
    if (!this.waiting.delete(wake) || this.waiting.size > 0) return;
    this.client.off('ready', this.wakeAll);
    this.client.off('end', this.wakeAll);
  }

  private readonly wakeAll = (): void => {
    this.client.off('ready', this.wakeAll);
    this.client.off('end', this.wakeAll);
    const woken = [...this.waiting];
    this.waiting.clear();
    for (const wake of woken) wake();
  };
}
