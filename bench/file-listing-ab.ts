/**
 * Client CPU of the file backend's W5 calls (`listConversations`, `listAllConversationIds`,
 * `getStorageStats`) in this checkout's sources against another copy of the sources, in one
 * process (not part of `npm run bench`): `AB_OTHER=<dir>/src/index.ts npx tsx
 * bench/file-listing-ab.ts` (without `AB_OTHER`, this checkout alone). The store is seeded as W5
 * seeds it (`w5-…` conversations of 300 bytes, 32 writes at a time, the default index) in
 * `AB_DIR` (default a folder in the temp dir, kept between runs, so a second run does not seed
 * again), one store per size of `AB_SIZES` (default 1000,10000); both copies then open it `readOnly`
 * (nothing they do writes) and alternate every round, the order reversing, each round making
 * `AB_CALLS` calls of each (default 20, stats 5). Each figure is the median over `BENCH_ROUNDS`
 * rounds (default 9, after a warm-up round) of `process.cpuUsage()` per call; the load average
 * is printed with them. `AB_UNSETTLED=1` sets the clock an hour back, so that every folder looks
 * just changed and nothing is kept between calls (the state right after seeding).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Library from '../src/index.js';
import { median } from './method.js';
import { conversation } from './workloads/data.js';

const load = createRequire(import.meta.url);
const copies: Record<string, typeof Library> = { here: load('../src/index.ts') as typeof Library };
if (process.env.AB_OTHER) copies.other = load(process.env.AB_OTHER) as typeof Library;
const dir = process.env.AB_DIR ?? join(tmpdir(), 'connectome-file-listing-ab');
const sizes = (process.env.AB_SIZES ?? '1000,10000').split(',').map(Number);
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const calls = Number(process.env.AB_CALLS ?? 20);
if (process.env.AB_UNSETTLED === '1') {
  // Every folder then looks changed within the last 2 s, as right after W5's seeding: no folder
  // listing or cache entry is kept, and every walk reads every folder.
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() - 3_600_000;
}

/** Client CPU and wall time in µs per call of `n` calls of `fn`. */
async function perCall(n: number, fn: () => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const started = performance.now();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i += 1) await fn();
  const used = process.cpuUsage(start);
  return { cpu: (used.user + used.system) / n, wall: ((performance.now() - started) * 1000) / n };
}

/** Seeds the store to `size` conversations as W5 does (only those missing). */
async function seedTo(baseDir: string, size: number): Promise<void> {
  const have = existsSync(join(baseDir, 'conversations'))
    ? (await readdir(join(baseDir, 'conversations'))).length
    : 0;
  if (have >= size) return;
  const store = copies.here!.createStorage('file', { baseDir });
  await store.initialize();
  const small = conversation(0, 300);
  let next = have;
  const worker = async (): Promise<void> => {
    while (next < size) {
      const n = next++;
      await store.storeConversation(`w5-${String(n).padStart(7, '0')}`, small);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  await store.close();
}

/** Throws unless every copy lists the same ids and reports the same stats (the timestamp aside). */
async function sameResults(stores: Record<string, Library.StorageInterface>): Promise<void> {
  const seen = new Set<string>();
  for (const store of Object.values(stores)) {
    const stats: Record<string, unknown> = { ...(await store.getStorageStats()) };
    delete stats.timestamp;
    const results = [await store.listConversations(), await store.listAllConversationIds(), stats];
    seen.add(JSON.stringify(results));
  }
  if (seen.size > 1) throw new Error('the copies disagree');
}

async function main(): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const size of sizes) {
    const baseDir = join(dir, `store-${size}`);
    await seedTo(baseDir, size);
    const stores = Object.fromEntries(
      Object.entries(copies).map(([name, lib]) => [
        name,
        lib.createStorage('file', { baseDir, readOnly: true }),
      ]),
    ) as Record<string, Library.StorageInterface>;
    for (const store of Object.values(stores)) await store.initialize();
    await sameResults(stores);
    const samples: Record<string, number[]> = {};
    const add = (key: string, us: number): void => void (samples[key] ??= []).push(us);
    const names = Object.keys(stores);
    const loads: number[] = [];
    for (let round = 0; round <= rounds; round += 1) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const s = stores[name]!;
        const list = await perCall(calls, async () => {
          const ids = await s.listConversations();
          if (ids.length !== size) throw new Error(`${name}: listed ${ids.length}, expected ${size}`);
        });
        const listAll = await perCall(calls, () => s.listAllConversationIds());
        const stats = await perCall(Math.max(1, Math.floor(calls / 4)), () => s.getStorageStats());
        if (round === 0) continue; // warm-up: the first calls fill each copy's kept listings and counts
        add(`${name} listConversations cpu`, list.cpu);
        add(`${name} listConversations wall`, list.wall);
        add(`${name} listAllConversationIds cpu`, listAll.cpu);
        add(`${name} listAllConversationIds wall`, listAll.wall);
        add(`${name} getStorageStats cpu`, stats.cpu);
        add(`${name} getStorageStats wall`, stats.wall);
      }
      loads.push(loadavg()[0]!);
    }
    for (const store of Object.values(stores)) await store.close();
    console.log(
      `size ${size}, ${rounds} rounds, load ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)}`,
    );
    for (const [key, values] of Object.entries(samples)) {
      console.log(`  ${key.padEnd(40)} ${(median(values) / 1000).toFixed(2)} ms`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
