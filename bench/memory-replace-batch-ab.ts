/**
 * `storeMemories` of `AB_SIZE` memories (default 100) that replace stored ones in place, in the
 * built package of this checkout and, with `AB_OTHER=<checkout>`, of another (its `dist`), in
 * one process (not part of `npm run bench`, whose W9 batches write new ids):
 * `BACKEND=sqlite|postgres|redis|file npx tsx bench/memory-replace-batch-ab.ts`. `AB_MODE=mixed`
 * replaces every other memory and adds a new one in place of the rest, `AB_MODE=again` replaces
 * them once more before the timed batch (a conversation's second update), `AB_MODE=new` stores
 * nothing before the timed batch (W9's batch, for comparison); `AB_INDEX=0|1` sets
 * `searchIndex` (default: both, one after the other). Every round each subject writes
 * `AB_BATCHES` conversations (default 20): `AB_SIZE` memories stored (untimed), then the timed
 * batch over the same ids. The subjects alternate every round, the order rotating; figures are
 * medians over `BENCH_ROUNDS` rounds (default 9, after a warm-up round) of ms and
 * `process.cpuUsage()` per batch (the whole process: main thread and thread pool). Each store
 * lives on its own path, schema or prefix and is removed at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type * as Library from '../src/index.js';
import type { StorageInterface } from '../src/index.js';
import { deleteRedisPrefix, dropSchema } from './cleanup.js';
import { config } from './config.js';
import { median } from './method.js';
import { memory } from './workloads/data.js';

const load = createRequire(import.meta.url);
const copies: Record<string, typeof Library> = { here: load('../dist/cjs/index.js') as typeof Library };
if (process.env.AB_OTHER) {
  copies.other = load(resolve(process.env.AB_OTHER, 'dist/cjs/index.js')) as typeof Library;
}
const BACKEND = process.env.BACKEND ?? 'sqlite';
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const batches = Number(process.env.AB_BATCHES ?? 20);
const size = Number(process.env.AB_SIZE ?? 100);
const mode = process.env.AB_MODE ?? 'replace';
const indexes = process.env.AB_INDEX === undefined ? [false, true] : [process.env.AB_INDEX === '1'];
const tag = `replab${process.pid}`;

/** A batch over `size` ids of conversation `c` (all stored ids, or every other one new). */
const batch = (c: string, round: number, fresh: boolean) =>
  Array.from({ length: size }, (_, i) => ({
    memoryId: fresh && i % 2 === 1 ? `${c}-new-${i}` : `${c}-m-${i}`,
    data: { ...memory(i + round), round },
  }));

function open(lib: typeof Library, name: string, dir: string, searchIndex: boolean): StorageInterface {
  const id = `${tag}_${name}_${searchIndex ? 'idx' : 'noidx'}`;
  switch (BACKEND) {
    case 'postgres':
      return lib.createStorage('postgres', { url: config.postgresUrl, schema: id, searchIndex });
    case 'redis':
      return lib.createStorage('redis', { url: config.redisUrl, keyPrefix: `${id}:`, searchIndex });
    case 'file':
      return lib.createStorage('file', { baseDir: join(dir, id), searchIndex });
    default:
      return lib.createStorage('sqlite', { dbPath: join(dir, `${id}.db`), searchIndex });
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'replace-ab-'));
  try {
    for (const searchIndex of indexes) {
      const stores = Object.entries(copies).map(([name, lib]) => ({
        name,
        store: open(lib, name, dir, searchIndex),
      }));
      for (const { store } of stores) await store.initialize();
      const ms: Record<string, number[]> = {};
      const cpu: Record<string, number[]> = {};
      for (let round = 0; round <= rounds; round += 1) {
        const order = stores.map((_, i) => stores[(i + round) % stores.length]!);
        for (const { name, store } of order) {
          let wall = 0;
          let used = 0;
          for (let b = 0; b < batches; b += 1) {
            const c = `r${round}-b${b}`;
            if (mode !== 'new') await store.storeMemories(c, batch(c, 0, false));
            // An agent updating its memories: the timed batch is the conversation's second update.
            if (mode === 'again') await store.storeMemories(c, batch(c, 2, false));
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            await store.storeMemories(c, batch(c, 1, mode === 'mixed'));
            wall += performance.now() - t0;
            const cu = process.cpuUsage(c0);
            used += (cu.user + cu.system) / 1000;
          }
          if (round === 0) continue;
          (ms[name] ??= []).push(wall / batches);
          (cpu[name] ??= []).push(used / batches);
        }
      }
      for (const { name, store } of stores) {
        console.log(
          `${BACKEND} index ${searchIndex ? 'on ' : 'off'} ${mode} ${name.padEnd(5)} ` +
            `${median(ms[name]!).toFixed(2)} ms, cpu ${median(cpu[name]!).toFixed(2)} ms per batch of ${size}`,
        );
        await store.shutdown();
        const id = `${tag}_${name}_${searchIndex ? 'idx' : 'noidx'}`;
        if (BACKEND === 'postgres') await dropSchema(id);
        if (BACKEND === 'redis') await deleteRedisPrefix(`${id}:`);
      }
    }
    console.log(
      `load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
