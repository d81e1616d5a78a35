/** `mapConcurrent`, which runs the per-entry checks of listing, stats and purge. */
import { mapConcurrent } from '../../src/backends/redis/index-sets.js';

describe('redis mapConcurrent', () => {
  it('keeps the order of the items', async () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    const out = await mapConcurrent(items, async (i) => {
      await new Promise((resolve) => setTimeout(resolve, i % 3));
      return i * 2;
    });
    expect(out).toEqual(items.map((i) => i * 2));
  });

  it('starts no further item after one failed', async () => {
    let started = 0;
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    const run = mapConcurrent(items, async (i) => {
      started += 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (i === 0) throw new Error('server gone');
      return i;
    });
    await expect(run).rejects.toThrow('server gone');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The first batch (128 calls in flight) was already running; nothing after it started.
    expect(started).toBe(128);
  });
});
