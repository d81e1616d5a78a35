/** Bounded concurrency for whole-store jobs (listing, stats) that touch thousands of files. */

/**
 * Maps `items` with `fn`, at most `limit` calls in flight at a time, and returns the results in
 * the order of `items`. Bounded so that a large store neither floods the I/O thread pool nor
 * holds every file in memory at once; rejects with the first error (calls already started finish).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
