/**
 * `npm run bench`: every backend (file, SQLite, Redis, PostgreSQL) on workloads W1-W9, this
 * library (on the write workloads also with `searchIndex: false`) next to the raw driver and
 * Keyv 5, written to `bench/results/latest.{md,json}`.
 * `BENCH_SMOKE=1`: tiny counts (CI), written to `smoke.*`. `BENCH_FULL=1`: adds the largest
 * sizes. `BENCH_ONLY=W1,W4`: only those workloads; `BENCH_BACKENDS=file,sqlite`: only those
 * backends. Exits 1 when any subject threw. The library runs from its built package (`npm run
 * bench` builds it first; a missing or stale `dist` is refused), or with `BENCH_SOURCE=src` from
 * its sources through tsx (see `library-module.ts`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { config } from './config.js';
import { librarySource } from './library-module.js';
import { driverVersions, machineInfo, writeResults } from './report.js';
import type { Row } from './rows.js';
import { ensureServices, serverVersions } from './services.js';
import { BACKENDS, type Backend, type StoreLocation } from './types.js';
import { runW1 } from './workloads/w1-conversation.js';
import { runW2 } from './workloads/w2-memories.js';
import { runW3 } from './workloads/w3-chains.js';
import { runW4 } from './workloads/w4-cache.js';
import { runW5 } from './workloads/w5-listing.js';
import { runW6 } from './workloads/w6-migration.js';
import { runW7 } from './workloads/w7-search.js';
import { runW8 } from './workloads/w8-turns.js';
import { runW9 } from './workloads/w9-batches.js';

type WorkloadRun = (backend: Backend, location: StoreLocation) => Promise<Row[]>;
/** The workloads in report order; W6 runs once per source backend. */
const WORKLOADS: Array<[string, WorkloadRun]> = [
  ['W1', runW1],
  ['W2', runW2],
  ['W3', runW3],
  ['W4', runW4],
  ['W5', runW5],
  ['W6', runW6],
  ['W7', runW7],
  ['W8', runW8],
  ['W9', runW9],
];

async function main(): Promise<number> {
  const started = performance.now();
  const only = process.env.BENCH_ONLY?.split(',');
  const backends = process.env.BENCH_BACKENDS?.split(',');
  await ensureServices();
  const dir = await mkdtemp(join(tmpdir(), 'connectome-bench-'));
  // A run-unique prefix keeps parallel runs (and their keys and schemas) apart.
  const run = `b${process.pid}`;
  const rows: Row[] = [];
  const errors: string[] = [];
  try {
    for (const [id, workload] of WORKLOADS) {
      if (only && !only.includes(id)) continue;
      for (const backend of BACKENDS) {
        if (backends && !backends.includes(backend)) continue;
        const t0 = performance.now();
        try {
          rows.push(...(await workload(backend, { dir, name: `${run}_${id.toLowerCase()}_${backend}` })));
          console.log(`${id} ${backend}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        } catch (error) {
          const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
          errors.push(`${id} ${backend}: ${message.split('\n').slice(0, 3).join(' ')}`);
          console.error(`${id} ${backend} FAILED:`, error);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const md = await writeResults({
    date: new Date().toISOString(),
    mode: config.mode,
    ...machineInfo(),
    versions: {
      library: librarySource === 'dist' ? 'dist (built)' : 'src (tsx)',
      ...driverVersions(),
      ...(await serverVersions()),
    },
    counts: { ...config, redisUrl: undefined, postgresUrl: undefined, resultsDir: undefined },
    durationSeconds: (performance.now() - started) / 1000,
    note: process.env.BENCH_NOTE ?? '',
    rows,
    errors,
  });
  console.log(`bench: results in ${md}${errors.length > 0 ? `; ${errors.length} subject(s) FAILED` : ''}`);
  return errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
