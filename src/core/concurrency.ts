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
