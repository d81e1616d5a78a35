/** W4: cache set (1 KB, TTL) + get, one after another and 64 at a time. */
import { config } from '../config.js';
import { alternate, sustainedThroughput } from '../method.js';
import { toRows, type Row } from '../rows.js';
import { subjectsFor, withStores } from '../subjects.js';
import type { Backend, BenchStore, StoreLocation } from '../types.js';
import { cacheValue } from './data.js';

const CONCURRENCY = 64;
const values = Array.from({ length: 16 }, (_, n) => cacheValue(n));

async function setGet(store: BenchStore, key: string, n: number): Promise<void> {
  await store.storeCacheEntry(key, values[n % values.length]!, 3600);
  if ((await store.loadCacheEntry(key)) === null) throw new Error(`cache entry ${key} not loaded back`);
}

/** Runs W4 on `backend`. */
export async function runW4(backend: Backend, location: StoreLocation): Promise<Row[]> {
  const subjects = subjectsFor(backend);
  return withStores(backend, subjects, location, async (stores) => {
    const medians = await alternate(
      subjects,
      async (subject, round, warmup) => {
        const store = stores.get(subject)!.store;
        const scale = warmup ? 10 : 1;
        const minMs = warmup ? 0 : config.minRoundMs;
        const sequential = await sustainedThroughput(Math.ceil(config.cacheSequential / scale), minMs, (n) =>
          setGet(store, `w4s-r${round}-${n}`, n),
        );
        const concurrent = await sustainedThroughput(
          Math.ceil(config.cacheConcurrent / scale),
          minMs,
          (n) => setGet(store, `w4c-r${round}-${n}`, n),
          CONCURRENCY,
        );
        return { sequential, concurrent };
      },
      config.warmups,
      config.shortRounds,
    );
    return toRows('W4', backend, medians, [
      { metric: 'sequential', label: 'set + get (1 KB, TTL), sequential', unit: 'ops/s' },
      { metric: 'concurrent', label: `set + get (1 KB, TTL), ${CONCURRENCY} concurrent`, unit: 'ops/s' },
    ]);
  });
}
