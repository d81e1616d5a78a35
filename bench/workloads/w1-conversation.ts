/** W1: store a 4 KB conversation, then load it back. */
import { config } from '../config.js';
import { alternate, sustainedThroughput } from '../method.js';
import { toRows, type Row } from '../rows.js';
import { withStores, writeSubjectsFor } from '../subjects.js';
import type { Backend, StoreLocation } from '../types.js';
import { conversation } from './data.js';

/** Runs W1 on `backend`. */
export async function runW1(backend: Backend, location: StoreLocation): Promise<Row[]> {
  const subjects = writeSubjectsFor(backend);
  const data = Array.from({ length: 10 }, (_, i) => conversation(i));
  return withStores(backend, subjects, location, async (stores) => {
    const medians = await alternate(
      subjects,
      async (subject, round, warmup) => {
        const store = stores.get(subject)!.store;
        const pairs = warmup ? Math.ceil(config.w1Pairs / 10) : config.w1Pairs;
        const rate = await sustainedThroughput(pairs, warmup ? 0 : config.minRoundMs, async (i) => {
          const id = `w1-r${round}-${i}`;
          await store.storeConversation(id, data[i % data.length]!);
          if ((await store.loadConversation(id)) === null)
            throw new Error(`${subject}: ${id} not loaded back`);
        });
        return { pairs: rate };
      },
      config.warmups,
      config.shortRounds,
    );
    return toRows('W1', backend, medians, [{ metric: 'pairs', label: 'store + load (4 KB)', unit: 'ops/s' }]);
  });
}
