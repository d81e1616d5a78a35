/**
 * Client CPU of the library from its built package against its sources through tsx, in one
 * process (not part of `npm run bench`; `npm run build` first): `npx tsx bench/source-cpu-ab.ts
 * [postgres|sqlite|redis|file]` (default postgres). Each copy opens its own store
 * (`searchIndex: false`) and runs W4's sequential cache set + get and W9's 100-key
 * `loadCacheEntries` and 100-memory `storeMemories`; the copies alternate every round, the
 * order reversing, and each figure is the median over `BENCH_ROUNDS` rounds (default 15) of
 * `process.cpuUsage()` per call. The two copies are separate module instances: nothing passes
 * from one to the other.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Library from '../src/index.js';
import { deleteRedisPrefix, dropSchema } from './cleanup.js';
import { config } from './config.js';
import { builtEntry } from './library-module.js';
import { median } from './method.js';

type Source = 'dist' | 'src';
const load = createRequire(import.meta.url);
const copies: Record<Source, typeof Library> = {
  dist: load(builtEntry(process.cwd())) as typeof Library,
  src: load('../src/index.ts') as typeof Library,
};
const backend = process.argv[2] ?? 'postgres';
const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const value = { text: 'x'.repeat(1000) };

/** Client CPU in µs per call of `calls` calls of `fn`. */
async function cpuPerCall(calls: number, fn: (n: number) => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  for (let n = 0; n < calls; n += 1) await fn(n);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'connectome-srcab-'));
  const tag = `srcab${process.pid}`;
  const stores = Object.fromEntries(
    (['dist', 'src'] as const).map((source) => {
      const options: Record<string, Record<string, unknown>> = {
        file: { baseDir: join(dir, source) },
        sqlite: { dbPath: join(dir, `${source}.db`) },
        redis: { url: config.redisUrl, keyPrefix: `${tag}:${source}:` },
        postgres: { url: config.postgresUrl, schema: `${tag}_${source}` },
      };
      const store = copies[source].createStorage(backend, { ...options[backend], searchIndex: false });
      return [source, store];
    }),
  ) as Record<Source, Library.StorageInterface>;
  const samples: Record<string, number[]> = {};
  const add = (key: string, us: number): void => void (samples[key] ??= []).push(us);
  const keys = Array.from({ length: 100 }, (_, n) => `k${n}`);
  try {
    for (const store of Object.values(stores)) {
      await store.initialize();
      await store.storeCacheEntries(keys.map((key) => ({ key, data: value, ttlSeconds: 3600 })));
    }
    for (let round = 0; round <= rounds; round += 1) {
      const order: Source[] = round % 2 === 0 ? ['dist', 'src'] : ['src', 'dist'];
      for (const source of order) {
        const s = stores[source];
        const w4 = await cpuPerCall(200, async (n) => {
          await s.storeCacheEntry(`w4-${n}`, value, 3600);
          await s.loadCacheEntry(`w4-${n}`);
        });
        const load9 = await cpuPerCall(20, () => s.loadCacheEntries(keys));
        const store9 = await cpuPerCall(20, (n) =>
          s.storeMemories(
            `c${round}-${n}`,
            keys.map((key) => ({ memoryId: key, data: { content: `memory ${key} of ${n}` } })),
          ),
        );
        if (round === 0) continue; // warm-up
        add(`${source} W4 set+get`, w4);
        add(`${source} W9 loadCacheEntries(100)`, load9);
        add(`${source} W9 storeMemories(100)`, store9);
      }
    }
  } finally {
    for (const store of Object.values(stores)) await store.shutdown();
    if (backend === 'redis') await deleteRedisPrefix(`${tag}:`);
    if (backend === 'postgres') for (const source of ['dist', 'src']) await dropSchema(`${tag}_${source}`);
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    `${backend}, ${rounds} rounds, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const [key, values] of Object.entries(samples).sort())
    console.log(`${key}: ${median(values).toFixed(0)} us client CPU per call`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
