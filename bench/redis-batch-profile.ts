/**
 * The cost of W9's Redis batch writes (not part of `npm run bench`): `storeMemories`,
 * `appendReasoningChains` and `storeCacheEntries` (1 KB, TTL), 100 records per call on fresh
 * ids, `deleteMemories` of every other memory of a conversation of 200 (stored untimed), and
 * `deleteCacheEntries` of 100 keys stored untimed,
 * for this checkout's library (`searchIndex: false`), with `PROFILE_BASE=<checkout>` another
 * checkout's, raw ioredis and Keyv, alternating subjects every round. Medians per
 * record: wall, client CPU, server CPU (`/proc/<pid>/stat` of the server on
 * `CONNECTOME_STORAGE_REDIS_URL`, best a private one) and time in scripts (`INFO commandstats`).
 * Run: `CONNECTOME_STORAGE_REDIS_URL=redis://127.0.0.1:6391 npx tsx bench/redis-batch-profile.ts
 * [memories|chains|cache|deletes|cacheDeletes ...]`; `PROFILE_ROUNDS`, `PROFILE_BATCHES` (calls per round).
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { deleteRedisPrefix } from './cleanup.js';
import { config } from './config.js';
import { openKeyv } from './keyv/adapter.js';
import { median } from './method.js';
import { openRawRedis } from './raw/redis.js';
import { cpuSecondsOf, redisCommandStats, redisServerPid } from './server-cpu.js';
import type { BenchStore, CacheItem, MemoryItem, OpenedStore } from './types.js';
import { cacheValue, chain, memory } from './workloads/data.js';

const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 7);
const BATCHES = Number(process.env.PROFILE_BATCHES ?? 100);
const SIZE = 100;
const BASE = process.env.PROFILE_BASE;
const serverPid = redisServerPid(config.redisUrl);

type Op = (store: BenchStore, tag: string, batch: number) => Promise<unknown>;
const range = (from: number): number[] => Array.from({ length: SIZE }, (_, i) => from + i);
/** What an op needs stored before it is timed (`deletes`: each batch's conversation of 200). */
const setups: Record<string, Op> = {
  deletes: (s, tag, b) =>
    s.storeMemories(
      `${tag}d${b}`,
      Array.from({ length: 2 * SIZE }, (_, n): MemoryItem => ({ memoryId: `m${n}`, data: memory(n) })),
    ),
  cacheDeletes: (s, tag, b) =>
    s.storeCacheEntries(
      range(b * SIZE).map((n): CacheItem => ({
        key: `${tag}y${n}`,
        data: cacheValue(n % 16),
        ttlSeconds: 3600,
      })),
    ),
};
const ops: Record<string, Op> = {
  deletes: (s, tag, b) =>
    s.deleteMemories(
      `${tag}d${b}`,
      range(0).map((n) => `m${2 * n}`),
    ),
  memories: (s, tag, b) =>
    s.storeMemories(
      `${tag}c${b}`,
      range(b * SIZE).map((n): MemoryItem => ({ memoryId: `m${n}`, data: memory(n) })),
    ),
  cacheDeletes: (s, tag, b) => s.deleteCacheEntries(range(b * SIZE).map((n) => `${tag}y${n}`)),
  chains: (s, tag, b) => s.appendReasoningChains(`${tag}a${b}`, range(b * SIZE).map(chain)),
  cache: (s, tag, b) =>
    s.storeCacheEntries(
      range(b * SIZE).map((n): CacheItem => ({
        key: `${tag}x${n}`,
        data: cacheValue(n % 16),
        ttlSeconds: 3600,
      })),
    ),
};

interface Storage {
  initialize(): Promise<void>;
  shutdown(): Promise<void>;
  storeMemories(id: string, items: MemoryItem[]): Promise<number>;
  appendReasoningChains(id: string, items: unknown[]): Promise<number>;
  storeCacheEntries(items: CacheItem[]): Promise<number>;
  deleteMemories(id: string, memoryIds: string[]): Promise<number>;
  deleteCacheEntries(keys: string[]): Promise<void>;
}
type Create = (backend: 'redis', options: object) => Storage;

async function openLibrary(from: string, prefix: string): Promise<OpenedStore> {
  const { createStorage } = (await import(`${from}/src/index.js`)) as { createStorage: Create };
  const s = createStorage('redis', { url: config.redisUrl, keyPrefix: prefix, searchIndex: false });
  await s.initialize();
  const store = {
    storeMemories: (id: string, items: MemoryItem[]) => s.storeMemories(id, items),
    appendReasoningChains: (id: string, items: unknown[]) => s.appendReasoningChains(id, items),
    storeCacheEntries: (items: CacheItem[]) => s.storeCacheEntries(items),
    deleteMemories: (id: string, memoryIds: string[]) => s.deleteMemories(id, memoryIds),
    deleteCacheEntries: (keys: string[]) => s.deleteCacheEntries(keys),
  } as unknown as BenchStore;
  return {
    store,
    drop: async () => {
      await s.shutdown();
      await deleteRedisPrefix(prefix);
    },
  };
}

async function main(): Promise<void> {
  const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(ops);
  const admin = new Redis(config.redisUrl);
  const location = { dir: '/tmp', name: `bprof${process.pid}` };
  const subjects = new Map<string, OpenedStore>();
  subjects.set('branch', await openLibrary('..', `bprof${process.pid}:branch:`));
  if (BASE !== undefined) subjects.set('base', await openLibrary(BASE, `bprof${process.pid}:base:`));
  subjects.set('raw', await openRawRedis(location));
  subjects.set('keyv', await openKeyv('redis', location));
  for (const name of chosen) {
    const op = ops[name]!;
    type Sample = { wall: number; client: number; server: number; script: number };
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round <= ROUNDS; round += 1) {
      const order = [...subjects.keys()];
      for (let i = 0; i < round % order.length; i += 1) order.push(order.shift()!);
      for (const subject of order) {
        const store = subjects.get(subject)!.store;
        const tag = `r${round}${name}`;
        const batches = round === 0 ? 5 : BATCHES;
        const setup = setups[name];
        if (setup) for (let b = 0; b < batches; b += 1) await setup(store, tag, b);
        const stats0 = await redisCommandStats(admin);
        const server0 = cpuSecondsOf([serverPid]);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let b = 0; b < batches; b += 1) await op(store, tag, b);
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const server = cpuSecondsOf([serverPid]) - server0;
        const stats1 = await redisCommandStats(admin);
        if (round === 0) continue;
        const records = batches * SIZE;
        const usec = (c: string): number => (stats1.get(c)?.[1] ?? 0) - (stats0.get(c)?.[1] ?? 0);
        const list = samples.get(subject) ?? [];
        list.push({
          wall: (ms * 1000) / records,
          client: (cpu.user + cpu.system) / records,
          server: (server * 1e6) / records,
          script: (usec('evalsha') + usec('eval')) / records,
        });
        samples.set(subject, list);
      }
    }
    console.log(
      `\n${name}: ${BATCHES} x ${SIZE} records x ${ROUNDS} rounds, load ${loadavg()[0]!.toFixed(2)}`,
    );
    for (const [subject, list] of samples) {
      const med = (f: (r: Sample) => number): string => median(list.map(f)).toFixed(2);
      const rate = (1e6 / median(list.map((r) => r.wall))).toFixed(0);
      console.log(
        `${subject.padEnd(7)} ${rate.padStart(7)} records/s  wall ${med((r) => r.wall)}  client ${med((r) => r.client)}  ` +
          `server ${med((r) => r.server)}  script ${med((r) => r.script)} us/record`,
      );
    }
  }
  for (const opened of subjects.values()) await opened.drop();
  admin.disconnect();
}

void main();
