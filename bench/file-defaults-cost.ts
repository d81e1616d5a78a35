/**
 * What each file-backend default costs in time (not part of `npm run bench`): the library with
 * its defaults, with `searchIndex: false`, with `searchIndex: false, createBackups: false`, with
 * `searchIndex: false, prettyPrintJson: false`, and the raw writer (`bench/raw/file.ts`), in one
 * process on the built package (`node scripts/build.mjs` first; `BENCH_SOURCE=src` runs the
 * sources): `npx tsx bench/file-defaults-cost.ts [rounds]`. `AB_OTHER=<checkout>[,<checkout>...]`
 * adds those checkouts' builds with `searchIndex: false`, each named after its folder (a
 * before/after of a change); `AB_ONLY=w2@10,w3@10` runs only those workloads,
 * `AB_CONFIGS=noidx,nobackup` only those of the library's configurations (raw always runs).
 *
 * Each subject writes into its own store in a temp folder under `os.tmpdir()` (where the
 * benchmark puts its file stores), removed at the end. Per round (after a warm-up round), each
 * workload runs every subject in turn, the order rotating every round, with a 200 ms pause
 * after each subject's part (the index writes its segments 100 ms after a write; they must not
 * land in the next subject's time). Workloads: `w1` store + load of a new 4 KB conversation;
 * `w2@10` / `w3@10` `storeMemory` / `storeReasoningChain` into a conversation / agent holding
 * ~10 records (10 new ones per round, each seeded with 5 records untimed, then 10 timed calls);
 * `w2@1000` / `w3@1000` 20 calls per round into one that holds ~1,000 (seeded with 900 in
 * batches before the first round, so 900 → 1,220 over 15 rounds); `cache` set + get of new 1 KB keys with a TTL, one after another, and
 * `cache64`, 64 at a time;
 * `w2@10x64` (not in the README's table) 64 conversations at ~10 memories written at once. Printed per workload and subject: medians over the rounds of wall ms
 * and process CPU µs (`process.cpuUsage()`: the main thread and the thread pool) per call, and
 * the median of the per-round ratios of raw's time to the subject's (`x raw`: above 1 is faster
 * than raw; drift between rounds cancels), with the spread of those ratios; and the load average.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type * as Library from '../src/index.js';
import { benchStoreOf } from './library.js';
import { builtEntry, library } from './library-module.js';
import { median, runCalls } from './method.js';
import { openRawFile } from './raw/file.js';
import type { BenchStore, OpenedStore } from './types.js';
import { cacheValue, chain, conversation, memory } from './workloads/data.js';

const rounds = Number(process.argv[2] ?? 9);
const only = process.env.AB_ONLY?.split(',');
const configs = process.env.AB_CONFIGS?.split(',');
const CONFIGS: Record<string, Library.FileStorageConfig> = {
  default: {},
  noidx: { searchIndex: false },
  nobackup: { searchIndex: false, createBackups: false },
  compact: { searchIndex: false, prettyPrintJson: false },
};
const convs = Array.from({ length: 10 }, (_, n) => conversation(n));
const values = Array.from({ length: 16 }, (_, n) => cacheValue(n));
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** One workload: `seed` (untimed, once per store) and `run` (timed), which returns its call count. */
interface Workload {
  seed?: (s: BenchStore, subject: string) => Promise<void>;
  run: (s: BenchStore, round: number) => Promise<number>;
}

/** `count` calls of `op`, `concurrency` at a time; resolves with `count`. */
async function calls(
  count: number,
  concurrency: number,
  op: (n: number) => Promise<unknown>,
): Promise<number> {
  await runCalls(count, concurrency, op);
  return count;
}

/** Appends at ~10 records: 10 new lists per round, 5 records seeded untimed, then 10 timed. */
function small(append: (s: BenchStore, list: string, k: number) => Promise<unknown>): Workload {
  return {
    run: async (s, round) => {
      const lists = Array.from({ length: 10 }, (_, i) => `s${round}-${i}`);
      for (const list of lists) for (let k = 0; k < 5; k += 1) await append(s, list, k);
      const started = performance.now();
      const cpu = process.cpuUsage();
      for (const list of lists) for (let k = 5; k < 15; k += 1) await append(s, list, k);
      timed.ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      timed.cpu = used.user + used.system;
      return lists.length * 10;
    },
  };
}

/** The timed span of a workload that seeds inside its round (`small`); `null`: the whole run. */
const timed: { ms: number | null; cpu: number } = { ms: null, cpu: 0 };
/** Records seeded into the ~1,000 lists; each round adds {@link bigCalls} (to ~1,200 after 15 rounds). */
const big = 900;
const bigCalls = 20;
const workloads: Record<string, Workload> = {
  w1: {
    run: (s, round) =>
      calls(100, 1, async (n) => {
        await s.storeConversation(`w1-${round}-${n}`, convs[n % 10]!);
        if ((await s.loadConversation(`w1-${round}-${n}`)) === null) throw new Error('w1: not loaded back');
      }),
  },
  'w2@10': small((s, list, k) => s.storeMemory(`w2-${list}`, `mem-${k}`, memory(k))),
  'w2@1000': {
    seed: async (s) => {
      const items = Array.from({ length: big }, (_, k) => ({ memoryId: `mem-${k}`, data: memory(k) }));
      for (let at = 0; at < big; at += 100) await s.storeMemories('w2-big', items.slice(at, at + 100));
    },
    run: (s, round) => calls(bigCalls, 1, (n) => s.storeMemory('w2-big', `mem-r${round}-${n}`, memory(n))),
  },
  'w3@10': small((s, list, k) => s.storeReasoningChain(`w3-${list}`, chain(k))),
  'w2@10x64': {
    // 64 conversations written at once, each from 5 memories (seeded untimed) to 15.
    run: async (s, round) => {
      const lists = Array.from({ length: 64 }, (_, i) => `w2x-${round}-${i}`);
      await Promise.all(
        lists.map(async (list) => {
          for (let k = 0; k < 5; k += 1) await s.storeMemory(list, `mem-${k}`, memory(k));
        }),
      );
      const started = performance.now();
      const cpu = process.cpuUsage();
      await Promise.all(
        lists.map(async (list) => {
          for (let k = 5; k < 15; k += 1) await s.storeMemory(list, `mem-${k}`, memory(k));
        }),
      );
      timed.ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      timed.cpu = used.user + used.system;
      return lists.length * 10;
    },
  },
  'w3@1000': {
    seed: async (s) => {
      for (let at = 0; at < big; at += 100)
        await s.appendReasoningChains(
          'w3-big',
          Array.from({ length: 100 }, (_, k) => chain(at + k)),
        );
    },
    run: (s) => calls(bigCalls, 1, (n) => s.storeReasoningChain('w3-big', chain(n))),
  },
  cache: {
    run: (s, round) =>
      calls(200, 1, async (n) => {
        await s.storeCacheEntry(`c${round}-${n}`, values[n % 16]!, 3600);
        if ((await s.loadCacheEntry(`c${round}-${n}`)) === null) throw new Error('cache: not loaded back');
      }),
  },
  cache64: {
    run: (s, round) =>
      calls(640, 64, async (n) => {
        await s.storeCacheEntry(`q${round}-${n}`, values[n % 16]!, 3600);
        if ((await s.loadCacheEntry(`q${round}-${n}`)) === null) throw new Error('cache64: not loaded back');
      }),
  },
};

/** A sample: wall ms and CPU µs per call. */
type Sample = { ms: number; cpu: number };

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'connectome-file-defaults-'));
  const stores: Record<string, BenchStore> = {};
  const closers: Array<() => Promise<unknown>> = [];
  const subjects: Array<[string, typeof Library, Library.FileStorageConfig]> = Object.entries(CONFIGS)
    .filter(([name]) => !configs || configs.includes(name))
    .map(([name, config]) => [name, library, config]);
  // Other builds, each with `searchIndex: false`, named after their folder.
  for (const root of process.env.AB_OTHER?.split(',') ?? []) {
    const other = createRequire(import.meta.url)(builtEntry(resolve(root))) as typeof Library;
    subjects.push([basename(resolve(root)), other, { searchIndex: false }]);
  }
  const uptime = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`load before ${uptime()}; ${rounds} rounds; folder ${dir}`);
  try {
    for (const [name, lib, config] of subjects) {
      const storage = lib.createStorage('file', { baseDir: join(dir, name), ...config });
      await storage.initialize();
      closers.push(() => storage.shutdown());
      stores[name] = benchStoreOf(storage);
    }
    const raw: OpenedStore = await openRawFile({ dir, name: 'raw' });
    closers.push(() => raw.drop());
    stores.raw = raw.store;
    const names = Object.keys(stores);
    const chosen = Object.keys(workloads).filter((w) => !only || only.includes(w));
    for (const w of chosen) for (const name of names) await workloads[w]!.seed?.(stores[name]!, name);
    const samples: Record<string, Sample[]> = {};
    const loads: number[] = [];
    for (let round = 0; round <= rounds; round += 1) {
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const w of chosen) {
        for (const name of order) {
          timed.ms = null;
          const started = performance.now();
          const cpu = process.cpuUsage();
          const count = await workloads[w]!.run(stores[name]!, round);
          const used = process.cpuUsage(cpu);
          const ms = timed.ms ?? performance.now() - started;
          const cpuUs = timed.ms === null ? used.user + used.system : timed.cpu;
          await sleep(200);
          if (round > 0) (samples[`${w} ${name}`] ??= []).push({ ms: ms / count, cpu: cpuUs / count });
        }
      }
      loads.push(loadavg()[0]!);
    }
    console.log(
      `load after ${uptime()}; 1-min load during the rounds ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`,
    );
    for (const w of chosen) {
      const raws = samples[`${w} raw`]!;
      for (const name of names) {
        const s = samples[`${w} ${name}`]!;
        const ratios = s.map((x, i) => raws[i]!.ms / x.ms).sort((a, b) => a - b);
        console.log(
          `${w.padEnd(8)} ${name.padEnd(9)} ${median(s.map((x) => x.ms))
            .toFixed(3)
            .padStart(7)} ms/call ` +
            `${median(s.map((x) => x.cpu))
              .toFixed(0)
              .padStart(6)} µs CPU/call  ` +
            `${median(ratios).toFixed(2)}x raw (${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)})`,
        );
      }
    }
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
