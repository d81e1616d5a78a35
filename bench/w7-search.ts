/**
 * W7, full-text search (`npx tsx bench/w7-search.ts [sqlite|file|redis|postgres]`, default
 * sqlite): a store of N memories (100 per conversation, ~20 words each from a 5,000-word
 * vocabulary with a Zipf-like spread), then query p50/p95 for one-, two- and three-word
 * queries (`any` and `all`, limit 10), and write throughput with the index against the same
 * store without it (1,000 sequential `storeMemory` calls into the seeded store). N is 10,000
 * by default, 100,000 with `BENCH_FULL=1`, 500 with `BENCH_SMOKE=1`. Writes
 * `bench/results/w7-<backend>.json`. Runs the built package (`npm run build` first) or, with
 * `BENCH_SOURCE=src`, the sources (see `library-module.ts`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StorageInterface } from '../src/index.js';
import { deleteRedisPrefix } from './cleanup.js';
import { config } from './config.js';
import { library } from './library-module.js';
import { median, timeMs } from './method.js';
import { seededRandom, w7Text } from './random.js';

const records = config.mode === 'smoke' ? 500 : config.mode === 'full' ? 100_000 : 10_000;
const queries = config.mode === 'smoke' ? 20 : 200;
const writes = config.mode === 'smoke' ? 100 : 1000;
const SEED_CONCURRENCY = 16;

const words = w7Text(seededRandom(7));
const sentence = (n: number): string => words.sentence(n);

async function open(
  backend: string,
  dir: string,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<StorageInterface> {
  const options: Record<string, Record<string, unknown>> = {
    sqlite: { dbPath: join(dir, `${name}.db`) },
    file: { baseDir: join(dir, name), createBackups: false },
    redis: { url: config.redisUrl, keyPrefix: `bench-w7-${process.pid}-${name}:` },
    postgres: { url: config.postgresUrl, schema: `bench_w7_${process.pid}_${name}` },
  };
  const store = library.createStorage(backend, { ...options[backend], ...extra });
  await store.initialize();
  return store;
}

/** Drops the schemas this run created (PostgreSQL keeps them otherwise). */
async function dropPostgresSchemas(): Promise<void> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: config.postgresUrl, max: 1 });
  for (const name of ['indexed', 'plain'])
    await pool.query(`DROP SCHEMA IF EXISTS bench_w7_${process.pid}_${name} CASCADE`);
  await pool.end();
}

async function seed(store: StorageInterface, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      await store.storeMemory(`conv-${Math.floor(i / 100)}`, `m${i}`, { summary: sentence(20) });
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}

async function writeRate(store: StorageInterface, round: number): Promise<number> {
  const ms = await timeMs(async () => {
    for (let i = 0; i < writes; i += 1) {
      await store.storeMemory(`conv-writes-${round}-${Math.floor(i / 100)}`, `w${i}`, {
        summary: sentence(20),
      });
    }
  });
  return (writes * 1000) / ms;
}

async function main(): Promise<void> {
  const backend = process.argv[2] ?? 'sqlite';
  const dir = await mkdtemp(join(tmpdir(), 'bench-w7-'));
  const result: Record<string, unknown> = { backend, mode: config.mode, records, queries, writes };
  try {
    const indexed = await open(backend, dir, 'indexed');
    const seedMs = await timeMs(() => seed(indexed, records));
    result.seed_records_per_s = Math.round((records * 1000) / seedMs);
    const stats = await indexed.getStorageStats();
    result.search_index_entries = stats.search_index_entries ?? null;
    for (const match of ['any', 'all'] as const) {
      for (const terms of [1, 2, 3]) {
        const times: number[] = [];
        let hits = 0;
        for (let q = 0; q < queries; q += 1) {
          const text = words.query(terms);
          times.push(await timeMs(async () => (hits += (await indexed.search({ text, match })).length)));
        }
        times.sort((a, b) => a - b);
        result[`query_${match}_${terms}_p50_ms`] = Number(median(times).toFixed(2));
        result[`query_${match}_${terms}_p95_ms`] = Number(
          (times[Math.floor(times.length * 0.95)] ?? 0).toFixed(2),
        );
        result[`query_${match}_${terms}_mean_hits`] = Number((hits / queries).toFixed(1));
      }
    }
    {
      // The same store without index maintenance (`searchIndex: false`), seeded alike; the two
      // alternate, 3 rounds each.
      const plain = await open(backend, dir, 'plain', { searchIndex: false });
      await seed(plain, records);
      const rates = { indexed: [] as number[], plain: [] as number[] };
      for (let round = 0; round < 3; round += 1) {
        rates.indexed.push(await writeRate(indexed, round));
        rates.plain.push(await writeRate(plain, round));
      }
      result.writes_indexed_per_s = Math.round(median(rates.indexed));
      result.writes_unindexed_per_s = Math.round(median(rates.plain));
      result.write_ratio = Number((median(rates.indexed) / median(rates.plain)).toFixed(2));
      await plain.shutdown();
    }
    await indexed.shutdown();
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (backend === 'postgres') await dropPostgresSchemas();
    if (backend === 'redis') {
      for (const name of ['indexed', 'plain']) await deleteRedisPrefix(`bench-w7-${process.pid}-${name}:`);
    }
  }
  console.log(JSON.stringify(result, null, 2));
  const out = resolve(
    config.resultsDir,
    `${config.mode === 'default' ? '' : `${config.mode}.`}w7-${backend}.json`,
  );
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
}

void main();
