/**
 * Bounded concurrency over a list, shared by every whole-store pass (listing, stats, purge,
 * migration). Written by hand: the current `p-limit`/`p-map` releases are ES-module-only, which
 * the CommonJS build cannot load.
 */
import { ValidationError } from './errors.js';

/**
 * Calls `fn` for every item with at most `limit` calls in flight, starting the items in their
 * order, and resolves with the results in the order of `items` (`[]` for no items).
 *
 * Error rule: once a call rejects (or throws), no further item starts; the calls already in
 * flight are awaited, and the promise then rejects with the first error. So when it settles,
 * nothing it started is still running, and a failing store is not kept busy for nothing.
 *
 * @throws {ValidationError} when `limit` is not a positive integer.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new ValidationError('concurrency limit', `must be a positive integer (got ${String(limit)})`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

/**
 * At most `limit` tasks of one kind running at once; the others wait their turn in arrival
 * order, without any timer running. For operations that fan out into many requests each (a
 * Redis search is one script per bucket, three times over): unbounded, a burst of them queued
 * every request of every call at once, so each call's later requests waited behind all the
 * others' first ones and ran out of their command timeout.
 */
export class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  /** @throws {ValidationError} when `limit` is not a positive integer. */
  constructor(private readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new ValidationError('concurrency limit', `must be a positive integer (got ${String(limit)})`);
    }
  }

  /** Tasks waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` once a slot is free (at once when one is); the slot passes straight to the next waiter. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.running -= 1;
      else next();
    }
  }
}
