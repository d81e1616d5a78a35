/**
 * Redis cost breakdown per operation (not part of `npm run bench`): for the library, raw ioredis
 * and Keyv, the Redis commands each call sends (MONITOR, counted on a short run), and CPU per
 * operation on the client (`process.cpuUsage()`) and on the server (`/proc/<pid>/stat` of
 * `redis-server`), over rounds where the subjects alternate; medians. Run:
 * `npx tsx bench/redis-profile.ts [op ...]`, `PROFILE_SUBJECTS=library,raw` to leave Keyv out (ops: cache, cache64, conversation, memory, memory-noindex, chain, chain-noindex).
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { createStorage } from '../src/index.js';
import { deleteRedisPrefix } from './cleanup.js';
import { config } from './config.js';
import { openKeyv } from './keyv/adapter.js';
import { median } from './method.js';
import { openRawRedis } from './raw/redis.js';
import { cpuSecondsOf, redisServerPid } from './server-cpu.js';
import type { BenchStore, OpenedStore } from './types.js';
import { cacheValue, chain, conversation, memory } from './workloads/data.js';

const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 5);
const CALLS = Number(process.env.PROFILE_CALLS ?? 2000);
/** Which of library, raw and keyv run (Keyv's chain append rewrites the agent's whole list: slow at thousands). */
const SUBJECTS = process.env.PROFILE_SUBJECTS?.split(',') ?? ['library', 'raw', 'keyv'];
const serverPid = redisServerPid(config.redisUrl);
const serverCpu = (): number => cpuSecondsOf([serverPid]);

type Op = (store: BenchStore, n: number, tag: string) => Promise<unknown>;
const ops: Record<string, { op: Op; concurrency: number; index?: boolean }> = {
  cache: {
    concurrency: 1,
    op: async (s, n, tag) => {
      await s.storeCacheEntry(`${tag}${n}`, cacheValue(n % 16), 3600);
      await s.loadCacheEntry(`${tag}${n}`);
    },
  },
  cache64: {
    concurrency: 64,
    op: async (s, n, tag) => {
      await s.storeCacheEntry(`${tag}${n}`, cacheValue(n % 16), 3600);
      await s.loadCacheEntry(`${tag}${n}`);
    },
  },
  conversation: {
    concurrency: 1,
    op: async (s, n, tag) => {
      await s.storeConversation(`${tag}${n}`, conversation(n % 10));
      await s.loadConversation(`${tag}${n}`);
    },
  },
  memory: { concurrency: 1, op: (s, n, tag) => s.storeMemory(`${tag}c${n % 50}`, `m${n}`, memory(n)) },
  'memory-noindex': {
    concurrency: 1,
    index: false,
    op: (s, n, tag) => s.storeMemory(`${tag}c${n % 50}`, `m${n}`, memory(n)),
  },
  chain: { concurrency: 1, op: (s, n, tag) => s.storeReasoningChain(`${tag}agent`, chain(n)) },
  'chain-noindex': {
    concurrency: 1,
    index: false,
    op: (s, n, tag) => s.storeReasoningChain(`${tag}agent`, chain(n)),
  },
};

async function openLib(prefix: string, searchIndex: boolean): Promise<OpenedStore> {
  const s = createStorage('redis', { url: config.redisUrl, keyPrefix: prefix, searchIndex });
  await s.initialize();
  const store = {
    storeConversation: (id: string, d: never) => s.storeConversation(id, d),
    loadConversation: (id: string) => s.loadConversation(id),
    storeMemory: (id: string, m: string, d: never) => s.storeMemory(id, m, d),
    storeReasoningChain: (id: string, d: never) => s.storeReasoningChain(id, d),
    storeCacheEntry: (k: string, d: never, t: number) => s.storeCacheEntry(k, d, t),
    loadCacheEntry: (k: string) => s.loadCacheEntry(k),
    close: () => s.shutdown(),
  } as unknown as BenchStore;
  return {
    store,
    drop: async () => {
      await s.shutdown();
      await deleteRedisPrefix(prefix);
    },
  };
}

async function run(store: BenchStore, op: Op, concurrency: number, count: number, tag: string) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await op(store, next++, tag);
  };
  const cpu0 = process.cpuUsage();
  const server0 = serverCpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    opsPerSec: (count * 1000) / ms,
    clientUs: (cpu.user + cpu.system) / count,
    serverUs: ((serverCpu() - server0) * 1e6) / count,
  };
}

/** Commands per call, from MONITOR lines naming this run's tag or prefix (Lua calls included). */
async function commandsPerCall(store: BenchStore, op: Op, marker: string, tag: string): Promise<string> {
  const monitor = await new Redis(config.redisUrl).monitor();
  const counts = new Map<string, number>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!args.some((a) => a.includes(marker))) return;
    const name = `${source.includes('lua') ? 'lua:' : ''}${args[0]!.toUpperCase()}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  await new Promise((r) => setTimeout(r, 100));
  const calls = 20;
  for (let n = 0; n < calls; n += 1) await op(store, n, tag);
  await new Promise((r) => setTimeout(r, 300));
  monitor.disconnect();
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([name, c]) => `${name} ${(c / calls).toFixed(1)}`)
    .join(', ');
}

async function main(): Promise<void> {
  const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(ops);
  const location = { dir: '/tmp', name: `prof${process.pid}` };
  for (const name of chosen) {
    const { op, concurrency, index } = ops[name]!;
    const subjects: Record<string, OpenedStore> = {};
    for (const subject of SUBJECTS) {
      if (subject === 'library')
        subjects[subject] = await openLib(`prof${process.pid}:lib:`, index !== false);
      if (subject === 'raw') subjects[subject] = await openRawRedis(location);
      if (subject === 'keyv') subjects[subject] = await openKeyv('redis', location);
    }
    const markers: Record<string, string> = {
      library: `prof${process.pid}:lib:`,
      raw: 'raw:',
      keyv: 'bench-',
    };
    const samples = new Map<string, Array<Awaited<ReturnType<typeof run>>>>();
    for (let round = 0; round < ROUNDS + 1; round += 1) {
      const order = Object.keys(subjects);
      for (let i = 0; i < round % order.length; i += 1) order.push(order.shift()!);
      for (const subject of order) {
        const result = await run(
          subjects[subject]!.store,
          op,
          concurrency,
          round === 0 ? 200 : CALLS,
          `${name}r${round}-`,
        );
        if (round > 0) samples.set(subject, [...(samples.get(subject) ?? []), result]);
      }
    }
    console.log(
      `\n## ${name} (${CALLS} calls x ${ROUNDS} rounds, concurrency ${concurrency}, load ${loadavg()[0]!.toFixed(2)})`,
    );
    for (const [subject, list] of samples) {
      const med = (f: (r: (typeof list)[number]) => number) => median(list.map(f));
      const commands = await commandsPerCall(subjects[subject]!.store, op, markers[subject]!, `${name}mon-`);
      console.log(
        `${subject.padEnd(8)} ${med((r) => r.opsPerSec)
          .toFixed(0)
          .padStart(
            6,
          )} ops/s  client ${med((r) => r.clientUs).toFixed(1)} us/op  server ${med((r) => r.serverUs).toFixed(1)} us/op  | ${commands}`,
      );
    }
    for (const opened of Object.values(subjects)) await opened.drop();
  }
}

void main();
