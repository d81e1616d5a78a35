/** `mapIndexEntries`, which runs the per-entry checks of listing, stats and purge. */
import { mapIndexEntries } from '../../src/backends/redis/index-sets.js';

describe('redis mapIndexEntries', () => {
  it('keeps the order of the items', async () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    const out = await mapIndexEntries(items, async (i) => {
      await new Promise((resolve) => setTimeout(resolve, i % 3));
      return i * 2;
    });
    expect(out).toEqual(items.map((i) => i * 2));
  });

  it('runs 128 checks at a time and starts no further item after one failed', async () => {
    let started = 0;
    let finished = 0;
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    const run = mapIndexEntries(items, async (i) => {
      started += 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
      finished += 1;
      if (i === 0) throw new Error('server gone');
      return i;
    });
    await expect(run).rejects.toThrow('server gone');
    expect(finished).toBe(128);
    // The first batch of 128 was already running (item 0's timer fires first); nothing after it
    // started, and the run settled only once that batch had finished.
    expect(started).toBe(128);
  });
});
