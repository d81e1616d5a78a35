/**
 * W5: `listConversations`, `listAllConversationIds`, `getStorageStats` on growing stores; each
 * call repeated for `listMinMs` per round (see `config.ts`), its median per round.
 */
import { config } from '../config.js';
import { alternate, median, timeMs } from '../method.js';
import { toRows, type Row } from '../rows.js';
import { subjectsFor, withStores } from '../subjects.js';
import type { Backend, StoreLocation } from '../types.js';
import { conversation } from './data.js';
import { seed } from './seed.js';

const SEED_CONCURRENCY = 32;

/** Runs W5 on `backend`: each subject's store grows through the sizes (seeding is not timed). */
export async function runW5(backend: Backend, location: StoreLocation): Promise<Row[]> {
  const subjects = subjectsFor(backend);
  const small = conversation(0, 300);
  return withStores(backend, subjects, location, async (stores) => {
    const rows: Row[] = [];
    let seeded = 0;
    for (const size of config.listSizes) {
      for (const subject of subjects) {
        const store = stores.get(subject)!.store;
        await seed(store, size - seeded, SEED_CONCURRENCY, (n) =>
          store.storeConversation(`w5-${String(seeded + n).padStart(7, '0')}`, small),
        );
      }
      seeded = size;
      const medians = await alternate(subjects, async (subject, _round, warmup) => {
        const store = stores.get(subject)!.store;
        // One call is a millisecond or less on most backends: a single timing is mostly noise.
        const repeat = async (op: () => Promise<unknown>): Promise<number> => {
          const times: number[] = [];
          const started = performance.now();
          do times.push(await timeMs(op));
          while (
            !warmup &&
            times.length < config.listMaxCalls &&
            performance.now() - started < config.listMinMs
          );
          return median(times);
        };
        return {
          list: await repeat(async () => {
            const ids = await store.listConversations();
            if (ids.length !== size) throw new Error(`${subject}: listed ${ids.length}, expected ${size}`);
          }),
          listAll: await repeat(() => store.listAllConversationIds()),
          stats: await repeat(() => store.getStorageStats()),
        };
      });
      rows.push(
        ...toRows('W5', backend, medians, [
          { metric: 'list', label: `listConversations at ${size}`, unit: 'ms', size },
          { metric: 'listAll', label: `listAllConversationIds at ${size}`, unit: 'ms', size },
          { metric: 'stats', label: `getStorageStats at ${size}`, unit: 'ms', size },
        ]),
      );
    }
    return rows;
  });
}
