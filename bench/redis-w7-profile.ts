/**
 * W7's write cost on Redis, broken down (not part of `npm run bench`): a store of N memories
 * (W7's data), then rounds of `storeMemory` x CALLS into it, indexed vs `searchIndex: false`,
 * and, with `PROFILE_BASE=<checkout>`, the same against another checkout's code (e.g. main),
 * alternating subjects every round. Per subject, medians of: ops/s, client CPU per op
 * (`process.cpuUsage()`), server CPU per op (`/proc/<pid>/stat` of the server on
 * `PROFILE_REDIS_URL`, best a private one so other clients do not count), and the server's
 * time inside the write scripts per op (`INFO commandstats` deltas of evalsha); then search
 * p50 per `match` after 1,000 more single writes spread over the buckets. The writes of a round
 * go to one conversation, or with `PROFILE_CONVERSATION_SIZE=100` to a new conversation every
 * 100 calls, as `bench/w7-search.ts` writes.
 * Run: `PROFILE_RECORDS=100000 npx tsx bench/redis-w7-profile.ts`.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { median } from './method.js';
import { profileSubjects } from './profile-subjects.js';
import { deleteRedisPrefix } from './cleanup.js';
import {
  CommandBreakdown,
  cpuSecondsOf,
  redisCommandStats as commandStats,
  redisServerPid,
} from './server-cpu.js';
import { seededRandom, seedW7Memories, w7Text } from './random.js';

const URL = process.env.PROFILE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RECORDS = Number(process.env.PROFILE_RECORDS ?? 10_000);
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 7);
const CALLS = Number(process.env.PROFILE_CALLS ?? 200);
const BASE = process.env.PROFILE_BASE;
const CONVERSATION_SIZE = Number(process.env.PROFILE_CONVERSATION_SIZE ?? Infinity);
/**
 * The server's CPU seconds so far: its main thread's from `INFO cpu` (microseconds, so a round
 * of a few hundred calls measures well), else the process's from `/proc` (10 ms ticks).
 */
async function serverCpu(admin: Redis): Promise<number> {
  const text = await admin.info('cpu');
  const main = [...text.matchAll(/used_cpu_(?:user|sys)_main_thread:([\d.]+)/g)];
  if (main.length === 2) return Number(main[0]![1]) + Number(main[1]![1]);
  return cpuSecondsOf([redisServerPid(URL)]);
}

function sentences(seed: number): () => string {
  const text = w7Text(seededRandom(seed));
  return () => text.sentence(20);
}

interface Store {
  initialize(): Promise<void>;
  shutdown(): Promise<void>;
  storeMemory(c: string, m: string, d: object): Promise<void>;
  storeMemories(c: string, ms: Array<{ memoryId: string; data: object }>): Promise<void>;
  search(query: { text: string; match: 'any' | 'all' }): Promise<unknown[]>;
}
type Create = (backend: 'redis', options: object) => Store;

async function open(create: Create, prefix: string, searchIndex: boolean): Promise<Store> {
  const store = create('redis', { url: URL, keyPrefix: prefix, searchIndex });
  await store.initialize();
  await seedW7Memories(store, RECORDS);
  return store;
}

async function scriptUsec(admin: Redis): Promise<number> {
  return (await commandStats(admin)).get('evalsha')?.[1] ?? 0;
}
const breakdown = new CommandBreakdown();

async function main(): Promise<void> {
  const admin = new Redis(URL);
  const subjects = await profileSubjects<Create>(BASE);
  const stores = new Map<string, Store>();
  for (const [name, create, index] of subjects) {
    const t0 = performance.now();
    stores.set(name, await open(create, `w7p${process.pid}:${name.replace(' ', '-')}:`, index));
    console.log(`seeded ${name} (${RECORDS}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const samples = new Map<string, Array<{ ops: number; client: number; server: number; script: number }>>();
  const data = sentences(11);
  for (let round = 0; round <= ROUNDS; round += 1) {
    const order = subjects.map(([name]) => name);
    for (let i = 0; i < round % order.length; i += 1) order.push(order.shift()!);
    for (const name of order) {
      const store = stores.get(name)!;
      const texts = Array.from({ length: CALLS }, () => ({ summary: data() }));
      const stats0 = await commandStats(admin);
      const s0 = stats0.get('evalsha')?.[1] ?? 0;
      const cpu0 = process.cpuUsage();
      const server0 = await serverCpu(admin);
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i += 1) {
        const conversation = `w7-r${round}-${Math.floor(i / CONVERSATION_SIZE)}`;
        await store.storeMemory(conversation, `w${i}`, texts[i]!);
      }
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const server = (await serverCpu(admin)) - server0;
      const script = (await scriptUsec(admin)) - s0;
      if (round === 0) continue;
      const stats1 = await commandStats(admin);
      breakdown.add(name, stats0, stats1);
      const list = samples.get(name) ?? [];
      list.push({
        ops: (CALLS * 1000) / ms,
        client: (cpu.user + cpu.system) / CALLS,
        server: (server * 1e6) / CALLS,
        script: script / CALLS,
      });
      samples.set(name, list);
    }
  }
  // Searches after 1,000 more single writes (spread over the buckets, ~16 pending docs in each
  // on this branch), W7's queries: 1-3 mid-frequency words, each subject in turn; p50 in ms.
  const queryTimes = new Map<string, number[]>();
  const indexedNames = subjects.filter(([, , index]) => index).map(([name]) => name);
  for (const name of indexedNames) {
    const store = stores.get(name)!;
    for (let i = 0; i < 1000; i += 1) await store.storeMemory(`spread-${i}`, 'm', { summary: data() });
  }
  const queries = w7Text(seededRandom(3));
  for (let q = 0; q < 120; q += 1) {
    const text = queries.query(1 + (q % 3));
    const match = q % 2 === 0 ? 'any' : 'all';
    for (const name of indexedNames) {
      const t0 = performance.now();
      await stores.get(name)!.search({ text, match });
      const key = `${name} ${match}`;
      queryTimes.set(key, [...(queryTimes.get(key) ?? []), performance.now() - t0]);
    }
  }
  const load = loadavg()[0]!.toFixed(2);
  console.log(`\nW7 writes at ${RECORDS} records, ${CALLS} calls x ${ROUNDS} rounds, load ${load}`);
  for (const [name, list] of samples) {
    const med = (f: (r: (typeof list)[number]) => number): string => median(list.map(f)).toFixed(1);
    console.log(
      `${name.padEnd(15)} ${med((r) => r.ops).padStart(7)} ops/s  client ${med((r) => r.client)} us/op  ` +
        `server ${med((r) => r.server)} us/op  script ${med((r) => r.script)} us/op`,
    );
  }
  for (const [key, times] of queryTimes) console.log(`search p50 ${key}: ${median(times).toFixed(2)} ms`);
  for (const line of breakdown.lines(ROUNDS * CALLS, 'per op', (calls) => calls >= 0.5)) console.log(line);
  for (const [name, store] of stores) {
    await store.shutdown();
    const prefix = `w7p${process.pid}:${name.replace(' ', '-')}:`;
    await deleteRedisPrefix(prefix, URL);
  }
  admin.disconnect();
}

void main();
