/** W3: 1,000 chain appends to one agent, then `loadReasoningChains(agent, 10)`. */
import { config } from '../config.js';
import { sustainedThroughput } from '../method.js';
import { toRows, type Row } from '../rows.js';
import type { Backend, StoreLocation } from '../types.js';
import { perCallSpecs, runSeries, timeAppends } from './appends.js';
import { chain } from './data.js';

/** Runs W3 on `backend`. */
export function runW3(backend: Backend, location: StoreLocation): Promise<Row[]> {
  return runSeries(
    backend,
    location,
    config.appendCalls,
    async (store, subject, round, count) => {
      const agent = `w3-r${round}`;
      const metrics = await timeAppends(count, (k) => store.storeReasoningChain(agent, chain(k)));
      metrics.last10 = await sustainedThroughput(config.chainLoads, config.minRoundMs, async () => {
        const chains = await store.loadReasoningChains(agent, 10);
        if (chains.length !== 10) throw new Error(`${subject}: ${chains.length} chains loaded, expected 10`);
      });
      return metrics;
    },
    (medians) =>
      toRows('W3', backend, medians, [
        { metric: 'appends', label: `storeReasoningChain x${config.appendCalls}`, unit: 'ops/s' },
        ...perCallSpecs('storeReasoningChain'),
        { metric: 'last10', label: 'loadReasoningChains(agent, 10)', unit: 'ops/s' },
      ]),
  );
}
