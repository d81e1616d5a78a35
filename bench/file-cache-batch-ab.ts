/**
 * W9's file cache batches (`storeCacheEntries`, 100 new 1 KB keys with a TTL per call) in this
 * checkout's sources, another copy of the sources and the raw writer (`bench/raw/file.ts`), in
 * one process (not part of `npm run bench`). Runs the library's sources through tsx:
 * `AB_OTHER=<dir>/src/index.ts npx tsx bench/file-cache-batch-ab.ts` (without `AB_OTHER`, this
 * checkout and raw alone). Each subject writes into its own store in a temp folder (removed at
 * the end); they alternate every round, the order rotating, each round writing `AB_BATCHES`
 * batches (default 20) of `AB_SIZE` new keys (default 100). Each figure is the median over
 * `BENCH_ROUNDS` rounds (default 9, after a warm-up round): records/s, and `process.cpuUsage()`
 * per record (the whole process: the library's main thread and its thread pool); the load
 * average is printed with them. `AB_SINGLE=1` writes the same records one `storeCacheEntry`
 * call each, one after another, instead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Library from '../src/index.js';
import { median } from './method.js';
import { openRawFile } from './raw/file.js';
import type { OpenedStore } from './types.js';
import { cacheValue } from './workloads/data.js';

const load = createRequire(import.meta.url);
const copies: Record<string, typeof Library> = { here: load('../src/index.ts') as typeof Library };
if (process.env.AB_OTHER) copies.before = load(process.env.AB_OTHER) as typeof Library;
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const batches = Number(process.env.AB_BATCHES ?? 20);
const size = Number(process.env.AB_SIZE ?? 100);
const single = process.env.AB_SINGLE === '1';

/** One batch's entries: `size` new keys `{prefix}{n}` with W9's values. */
const entries = (prefix: string, from: number) =>
  Array.from({ length: size }, (_, i) => ({
    key: `${prefix}${from + i}`,
    data: cacheValue((from + i) % 16),
    ttlSeconds: 3600,
  }));

type Write = (items: ReturnType<typeof entries>) => Promise<unknown>;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'connectome-cache-batch-ab-'));
  const writers: Record<string, Write> = {};
  const closers: Array<() => Promise<unknown>> = [];
  try {
    for (const [name, lib] of Object.entries(copies)) {
      const store = lib.createStorage('file', { baseDir: join(dir, name), searchIndex: false });
      await store.initialize();
      closers.push(() => store.shutdown());
      writers[name] = single
        ? async (items) => {
            for (const { key, data, ttlSeconds } of items) await store.storeCacheEntry(key, data, ttlSeconds);
          }
        : (items) => store.storeCacheEntries(items);
    }
    const raw: OpenedStore = await openRawFile({ dir, name: 'raw' });
    closers.push(() => raw.drop());
    writers.raw = single
      ? async (items) => {
          for (const { key, data, ttlSeconds } of items)
            await raw.store.storeCacheEntry(key, data, ttlSeconds);
        }
      : (items) => raw.store.storeCacheEntries(items);
    const names = Object.keys(writers);
    const samples: Record<string, { rate: number[]; cpu: number[] }> = {};
    const loads: number[] = [];
    for (let round = 0; round <= rounds; round += 1) {
      const order = names.map((_, i) => names[(i + round) % names.length] as string);
      for (const name of order) {
        const write = writers[name] as Write;
        const started = performance.now();
        const start = process.cpuUsage();
        for (let b = 0; b < batches; b += 1) await write(entries(`r${round}-`, b * size));
        const used = process.cpuUsage(start);
        const ms = performance.now() - started;
        if (round === 0) continue; // warm-up
        const s = (samples[name] ??= { rate: [], cpu: [] });
        s.rate.push((batches * size * 1000) / ms);
        s.cpu.push((used.user + used.system) / (batches * size));
      }
      loads.push(loadavg()[0] as number);
    }
    const rawRate = median(samples.raw!.rate);
    for (const name of names) {
      const s = samples[name]!;
      const rate = median(s.rate);
      console.log(
        `${name.padEnd(6)} ${rate.toFixed(0).padStart(6)} records/s (${(rate / rawRate).toFixed(2)}x raw), ` +
          `CPU ${median(s.cpu).toFixed(1)} µs/record`,
      );
    }
    console.log(`load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
