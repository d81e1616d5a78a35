/**
 * Client CPU per single call on Redis, two built packages against each other and raw ioredis
 * (not part of `npm run bench`): `OLD=<dir with dist/cjs> npx tsx bench/built-single-calls-ab.ts
 * [rounds] [ops]`, `npm run build` first (the new package is this checkout's `dist`; OLD's
 * folder needs a `node_modules`, a symlink to this one's will do). Subjects alternate every
 * round, the order reversing; medians of client CPU (`process.cpuUsage()`) per op and ops/s.
 * Ops: `conv` (W1: 4 KB storeConversation + loadConversation), `cache` (W4: 1 KB
 * storeCacheEntry with a TTL + loadCacheEntry, sequential), `cache64` (the same, 64 at a
 * time), `memory` (W9's single `storeMemory` into new conversations); stores open with
 * `searchIndex: false`, the rows the raw and Keyv targets are checked on. `REDIS_URL` picks the
 * server (a private one keeps other clients' load out of the figures). With `STUB=1` every
 * subject's driver calls are answered from memory after the open (the library's `evalsha` and
 * `get`, raw's `set`, `get` and `hset`; a read gets the last value written): the CPU left is
 * each subject's own JavaScript, a few µs, which the server round trips hide under their noise.
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type * as Library from '../src/index.js';
import { deleteRedisPrefix } from './cleanup.js';
import { median } from './method.js';
import { cacheValue, conversation, memory } from './workloads/data.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const oldDir = process.env.OLD;
if (oldDir === undefined) throw new Error('set OLD to a folder holding the other build (dist/cjs)');
const rounds = Number(process.argv[2] ?? 9);
const opNames = (process.argv[3] ?? 'conv,cache,cache64,memory').split(',');
const load = createRequire(import.meta.url);
const tag = `rsab${process.pid}`;
const stub = process.env.STUB === '1';

/** Answers `names` of `client` from memory: writes keep their value argument, reads get the last one. */
function answerFromMemory(client: object, writes: Record<string, number>, reads: string[]): void {
  let last: unknown = null;
  const methods = client as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const [name, valueAt] of Object.entries(writes)) {
    methods[name] = (...args) => {
      const at = valueAt < 0 ? Number(args[1]) + 1 : valueAt; // evalsha: after its keys
      last = (name === 'evalsha' ? (args[2] as unknown[]) : args)[at];
      return Promise.resolve(null);
    };
  }
  for (const name of reads) methods[name] = () => Promise.resolve(last);
}

interface Subject {
  sc(id: string, v: Library.JsonObject): Promise<unknown>;
  lc(id: string): Promise<unknown>;
  set(key: string, v: Library.JsonObject): Promise<unknown>;
  get(key: string): Promise<unknown>;
  sm(c: string, m: string, v: Library.JsonObject): Promise<unknown>;
  close(): Promise<unknown>;
}

async function library(dir: string, name: string): Promise<Subject> {
  const lib = load(join(resolve(dir), 'dist', 'cjs', 'index.js')) as typeof Library;
  const s = lib.createStorage('redis', { url, keyPrefix: `${tag}:${name}:`, searchIndex: false });
  await s.initialize();
  if (stub)
    answerFromMemory((s as unknown as { redis: { client: object } }).redis.client, { evalsha: -1 }, ['get']);
  return {
    sc: (id, v) => s.storeConversation(id, v),
    lc: (id) => s.loadConversation(id),
    set: (k, v) => s.storeCacheEntry(k, v, 3600),
    get: (k) => s.loadCacheEntry(k),
    sm: (c, m, v) => s.storeMemory(c, m, v),
    close: () => s.shutdown(),
  };
}

function raw(): Subject {
  const r = new Redis(url, { enableAutoPipelining: true });
  if (stub) answerFromMemory(r, { set: 1, hset: 2 }, ['get']);
  const p = `${tag}:raw:`;
  const parse = (t: string | null): unknown => (t === null ? null : JSON.parse(t));
  return {
    sc: (id, v) => r.set(`${p}c:${id}`, JSON.stringify(v)),
    lc: async (id) => parse(await r.get(`${p}c:${id}`)),
    set: (k, v) => r.set(`${p}x:${k}`, JSON.stringify(v), 'PX', 3_600_000),
    get: async (k) => parse(await r.get(`${p}x:${k}`)),
    sm: (c, m, v) => r.hset(`${p}m:${c}`, m, JSON.stringify({ memory_id: m, ...v })),
    close: () => r.quit(),
  };
}

const convs = Array.from({ length: 10 }, (_, n) => conversation(n));
const values = Array.from({ length: 16 }, (_, n) => cacheValue(n));
const memories = Array.from({ length: 16 }, (_, n) => memory(n));
type Op = { calls: number; concurrency: number; run: (s: Subject, n: number, r: number) => Promise<void> };
const ops: Record<string, Op> = {
  conv: {
    calls: 1500,
    concurrency: 1,
    run: async (s, n) => {
      await s.sc(`c${n % 100}`, convs[n % 10]!);
      if ((await s.lc(`c${n % 100}`)) === null) throw new Error('miss');
    },
  },
  cache: {
    calls: 2000,
    concurrency: 1,
    run: async (s, n, r) => {
      await s.set(`k${r}-${n}`, values[n % 16]!);
      if ((await s.get(`k${r}-${n}`)) === null) throw new Error('miss');
    },
  },
  cache64: {
    calls: 6400,
    concurrency: 64,
    run: async (s, n, r) => {
      await s.set(`q${r}-${n}`, values[n % 16]!);
      if ((await s.get(`q${r}-${n}`)) === null) throw new Error('miss');
    },
  },
  memory: {
    calls: 2000,
    concurrency: 1,
    run: async (s, n, r) => {
      await s.sm(`m${r}-${n % 200}`, `mem${n}`, memories[n % 16]!);
    },
  },
};

/** Client CPU µs per op and ops/s of `op` on `s`. */
async function measure(s: Subject, op: Op, round: number): Promise<[number, number]> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < op.calls) await op.run(s, next++, round);
  };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: op.concurrency }, worker));
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / op.calls, (op.calls * 1000) / ms];
}

async function main(): Promise<void> {
  const subjects: Record<string, Subject> = {
    old: await library(oldDir!, 'old'),
    new: await library(process.cwd(), 'new'),
    raw: raw(),
  };
  const names = Object.keys(subjects);
  const cpu: Record<string, number[]> = {};
  const rate: Record<string, number[]> = {};
  try {
    for (let round = 0; round <= rounds; round += 1) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const opName of opNames) {
        for (const name of order) {
          const [us, perSecond] = await measure(subjects[name]!, ops[opName]!, round);
          if (round === 0) continue; // warm-up
          (cpu[`${opName} ${name}`] ??= []).push(us);
          (rate[`${opName} ${name}`] ??= []).push(perSecond);
        }
      }
    }
  } finally {
    for (const s of Object.values(subjects)) await s.close();
    await deleteRedisPrefix(`${tag}:`, url);
  }
  console.log(
    `${rounds} rounds, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const key of Object.keys(cpu)) {
    const c = cpu[key]!;
    console.log(
      `${key.padEnd(14)} cpu/op ${median(c).toFixed(1).padStart(6)} us (${Math.min(...c).toFixed(1)}-${Math.max(...c).toFixed(1)})  ops/s ${median(rate[key]!).toFixed(0).padStart(6)}`,
    );
  }
  // Paired by round (old and new ran next to each other): drift between rounds cancels out.
  for (const opName of opNames) {
    const [o, n] = [cpu[`${opName} old`]!, cpu[`${opName} new`]!];
    const diffs = n.map((us, i) => us - o[i]!);
    const ratios = n.map((us, i) => us / o[i]!);
    const fewer = diffs.filter((d) => d < 0).length;
    console.log(
      `${opName.padEnd(8)} new - old: median ${median(diffs).toFixed(1)} us per op, new/old ${median(ratios).toFixed(3)}, new lower in ${fewer} of ${diffs.length} rounds`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
