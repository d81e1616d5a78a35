/**
 * W7, full-text search: a store of N memories (100 per conversation, ~20 words each from a
 * 5,000-word vocabulary with a Zipf-like spread), then `search` p50/p95 per `match` mode over
 * one- to three-word queries (limit 10), and `storeMemory` throughput into that store with the
 * native index against the same store opened with `searchIndex: false`, alternating rounds so
 * machine load hits both alike. Library only (raw drivers and Keyv have no search).
 */
import { join } from 'node:path';
import type { StorageInterface } from '../../src/index.js';
import { deleteRedisPrefix, dropSchema } from '../cleanup.js';
import { config } from '../config.js';
import { library } from '../library-module.js';
import { median, sustainedThroughput, timeMs } from '../method.js';
import { seededRandom, w7Text, type W7Text } from '../random.js';
import type { Row } from '../rows.js';
import type { Backend, StoreLocation } from '../types.js';

const PER_CONVERSATION = 100;

/** Records in the store: 10,000 by default, 100,000 with `BENCH_FULL=1`, 300 smoke (every backend has a native index). */
export function w7Records(): number {
  if (config.mode === 'smoke') return 300;
  if (config.mode === 'full') return 100_000;
  return 10_000;
}
const QUERIES = config.mode === 'smoke' ? 6 : 60;
const WRITES = config.mode === 'smoke' ? 20 : 200;
/** Least length of one write sample (ms), and the measured rounds of the write ratio. */
const W7_SAMPLE_MS = config.mode === 'smoke' ? 0 : 1000;
const W7_ROUNDS = config.shortRounds;

/** Sentences and queries from one seeded generator. */
const generator = (seed: number): W7Text => w7Text(seededRandom(seed));

/** One W7 store (indexed or not) and the means to remove it. */
async function openStore(
  backend: Backend,
  location: StoreLocation,
  searchIndex: boolean,
): Promise<{ store: StorageInterface; drop: () => Promise<void> }> {
  const name = `${location.name}-${searchIndex ? 'idx' : 'plain'}`;
  const schema = `bench_${name.replace(/-/g, '_')}`;
  const prefix = `bench:${name}:`;
  const options: Record<Backend, Record<string, unknown>> = {
    file: { baseDir: join(location.dir, name), createBackups: false },
    sqlite: { dbPath: join(location.dir, `${name}.db`) },
    redis: { url: config.redisUrl, keyPrefix: prefix },
    postgres: { url: config.postgresUrl, schema },
  };
  const store = library.createStorage(backend, { ...options[backend], searchIndex });
  await store.initialize();
  const drop = async (): Promise<void> => {
    await store.shutdown();
    if (backend === 'redis') await deleteRedisPrefix(prefix);
    if (backend === 'postgres') await dropSchema(schema);
  };
  return { store, drop };
}

/** Seeds `records` memories, one batch per conversation (untimed). */
async function seed(
  store: StorageInterface,
  records: number,
  sentence: (n: number) => string,
): Promise<void> {
  for (let c = 0; c * PER_CONVERSATION < records; c += 1) {
    const count = Math.min(PER_CONVERSATION, records - c * PER_CONVERSATION);
    await store.storeMemories(
      `conv-${c}`,
      Array.from({ length: count }, (_, i) => ({ memoryId: `m${i}`, data: { summary: sentence(20) } })),
    );
  }
}

/** Runs W7 on `backend`. */
export async function runW7(backend: Backend, location: StoreLocation): Promise<Row[]> {
  const records = w7Records();
  const indexed = await openStore(backend, location, true);
  const plain = await openStore(backend, location, false).catch(async (error: unknown) => {
    await indexed.drop();
    throw error;
  });
  try {
    const data = generator(7);
    await seed(indexed.store, records, data.sentence);
    await seed(plain.store, records, generator(7).sentence);
    const rows: Row[] = [];
    const row = (label: string, unit: Row['unit'], value: number): Row => ({
      workload: 'W7',
      backend,
      label,
      unit,
      higherIsBetter: unit !== 'ms',
      headline: false,
      size: records,
      values: { library: value },
    });
    for (const match of ['any', 'all'] as const) {
      const times: number[] = [];
      for (let q = 0; q < QUERIES; q += 1) {
        const text = data.query(1 + (q % 3));
        times.push(await timeMs(() => indexed.store.search({ text, match })));
      }
      times.sort((a, b) => a - b);
      const p95 = times[Math.min(times.length - 1, Math.floor(times.length * 0.95))] ?? Number.NaN;
      rows.push(row(`search match '${match}' p50 at ${records}`, 'ms', median(times)));
      rows.push(row(`search match '${match}' p95 at ${records}`, 'ms', p95));
    }
    // Alternating rounds (order rotated), one warm-up, medians. Each sample runs at least
    // WRITES calls and W7_SAMPLE_MS: a store's WAL checkpoints, FTS5 merges and Redis/PostgreSQL
    // background work come every few hundred writes, so a shorter sample caught one or none by
    // chance (SQLite's ratio swung 0.55-0.90 between runs of 200-write samples).
    const rates = { indexed: [] as number[], plain: [] as number[] };
    for (let round = 0; round < config.warmups + W7_ROUNDS; round += 1) {
      const order = round % 2 === 0 ? (['indexed', 'plain'] as const) : (['plain', 'indexed'] as const);
      for (const which of order) {
        const store = which === 'indexed' ? indexed.store : plain.store;
        const rate = await sustainedThroughput(WRITES, W7_SAMPLE_MS, (i) =>
          store.storeMemory(`w7-r${round}`, `w${i}`, { summary: data.sentence(20) }),
        );
        if (round >= config.warmups) rates[which].push(rate);
      }
    }
    const withIndex = median(rates.indexed);
    const without = median(rates.plain);
    rows.push(row('storeMemory with the index', 'ops/s', withIndex));
    rows.push(row('storeMemory with searchIndex: false', 'ops/s', without));
    rows.push(row('write ratio indexed / unindexed', 'ratio', withIndex / without));
    return rows;
  } finally {
    await plain.drop();
    await indexed.drop();
  }
}
