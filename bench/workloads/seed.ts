/** Untimed seeding: many writes at a time, inside one transaction where the subject offers it. */
import { throughput } from '../method.js';
import type { BenchStore } from '../types.js';

/** Calls `write(n)` for n = 0..count-1, `concurrency` at a time. */
export async function seed(
  store: BenchStore,
  count: number,
  concurrency: number,
  write: (n: number) => Promise<unknown>,
): Promise<void> {
  const all = async (): Promise<void> => {
    await throughput(count, concurrency, write);
  };
  if (count <= 0) return;
  await (store.inTransaction ? store.inTransaction(all) : all());
}
