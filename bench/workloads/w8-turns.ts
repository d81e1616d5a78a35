/**
 * W8: an agent's turns. `storeRawMessages` of one conversation's whole list, one message longer
 * at each call (the list is replaced as a whole, as agents store it after every turn), up to
 * `turnCalls` messages; per-call time at each reporting point. Reported, no target: raw and
 * Keyv store the list as one value, the library one row or entry per message with its index.
 */
import { config } from '../config.js';
import { toRows, type Row } from '../rows.js';
import type { Backend, JsonValue, StoreLocation } from '../types.js';
import { perCallSpecs, runSeries, timeAppends } from './appends.js';
import { rawMessage } from './data.js';

/** Runs W8 on `backend`. */
export function runW8(backend: Backend, location: StoreLocation): Promise<Row[]> {
  return runSeries(
    backend,
    location,
    config.turnCalls,
    async (store, subject, round, count) => {
      const id = `w8-r${round}`;
      const list: JsonValue[] = [];
      const metrics = await timeAppends(
        count,
        (k) => {
          list.push(rawMessage(round, k - 1));
          return store.storeRawMessages(id, [...list]);
        },
        config.turnPoints,
      );
      const stored = (await store.loadRawMessages(id)).length;
      if (stored !== count) throw new Error(`${subject}: ${stored} raw messages stored, expected ${count}`);
      return metrics;
    },
    (medians) =>
      toRows('W8', backend, medians, [
        {
          metric: 'appends',
          label: `storeRawMessages, list of 1..${config.turnCalls}`,
          unit: 'ops/s',
          headline: false,
        },
        ...perCallSpecs('storeRawMessages', config.turnPoints),
      ]),
  );
}
