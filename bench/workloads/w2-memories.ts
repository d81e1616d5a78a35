/** W2: 1,000 `storeMemory` calls into one conversation; per-call time at 10, 100, 1,000. */
import { config } from '../config.js';
import { toRows, type Row } from '../rows.js';
import type { Backend, StoreLocation } from '../types.js';
import { perCallSpecs, runSeries, timeAppends } from './appends.js';
import { memory } from './data.js';

/** Runs W2 on `backend`. */
export function runW2(backend: Backend, location: StoreLocation): Promise<Row[]> {
  return runSeries(
    backend,
    location,
    config.appendCalls,
    async (store, subject, round, count) => {
      const id = `w2-r${round}`;
      const metrics = await timeAppends(count, (k) => store.storeMemory(id, `mem-${k}`, memory(k)));
      const stored = (await store.loadMemories(id)).length;
      if (stored !== count) throw new Error(`${subject}: ${stored} memories stored, expected ${count}`);
      return metrics;
    },
    (medians) =>
      toRows('W2', backend, medians, [
        { metric: 'appends', label: `storeMemory x${config.appendCalls}`, unit: 'ops/s' },
        ...perCallSpecs('storeMemory'),
      ]),
  );
}
