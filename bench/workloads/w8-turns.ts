/**
 * W8: an agent's turns. `storeRawMessages` of one conversation's whole list, one message longer
 * at each call (the list is replaced as a whole, as agents store it after every turn), up to
 * `turnCalls` messages; per-call time at each reporting point. Reported, no target: raw and
 * Keyv store the list as one value, the library one row or entry per message with its index.
 */
import { config } from '../config.js';
import { alternate } from '../method.js';
import { toRows, type Row } from '../rows.js';
import { withStores, writeSubjectsFor } from '../subjects.js';
import type { Backend, JsonValue, StoreLocation } from '../types.js';
import { perCallSpecs, timeAppends } from './appends.js';
import { rawMessage } from './data.js';

/** Runs W8 on `backend`. */
export async function runW8(backend: Backend, location: StoreLocation): Promise<Row[]> {
  const subjects = writeSubjectsFor(backend);
  return withStores(backend, subjects, location, async (stores) => {
    const medians = await alternate(subjects, async (subject, round, warmup) => {
      const store = stores.get(subject)!.store;
      const count = warmup ? Math.ceil(config.turnCalls / 10) : config.turnCalls;
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
    });
    return toRows('W8', backend, medians, [
      {
        metric: 'appends',
        label: `storeRawMessages, list of 1..${config.turnCalls}`,
        unit: 'ops/s',
        headline: false,
      },
      ...perCallSpecs('storeRawMessages', config.turnPoints),
    ]);
  });
}
