/**
 * The Redis bulk path's cost (not part of `npm run bench`): `storeConversationBatch` of W6's
 * conversations (1 KB conversation, 20 raw messages, 3 memories, chunk info: 25 records), 64 per
 * call as the migration sends them, indexed vs `searchIndex: false`, and with
 * `PROFILE_BASE=<checkout>` another checkout's code, alternating subjects every round. Medians
 * per record: wall, client CPU, server CPU (`/proc/<pid>/stat` of the server on
 * `PROFILE_REDIS_URL`, best a private one), time in scripts and commands (`INFO commandstats`).
 * Run: `PROFILE_REDIS_URL=redis://127.0.0.1:6391 npx tsx bench/redis-bulk-profile.ts`.
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
import { chunkInfo, conversation, memory, rawMessage } from './workloads/data.js';

const URL = process.env.PROFILE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 7);
const CONVERSATIONS = Number(process.env.PROFILE_CONVERSATIONS ?? 512);
const BATCH = 64;
const RECORDS_PER_CONVERSATION = 25;
const BASE = process.env.PROFILE_BASE;
const serverPid = redisServerPid(URL);
const serverCpu = (): number => cpuSecondsOf([serverPid]);

interface Store {
  initialize(): Promise<void>;
  shutdown(): Promise<void>;
  storeConversationBatch(items: object[]): Promise<number>;
}
type Create = (backend: 'redis', options: object) => Store;

function items(round: number, from: number): object[] {
  const body = conversation(0, 1024);
  return Array.from({ length: BATCH }, (_, k) => {
    const i = from + k;
    return {
      conversationId: `bulk-r${round}-${i}`,
      conversation: body,
      rawMessages: Array.from({ length: 20 }, (_, n) => rawMessage(i, n)),
      memories: Array.from({ length: 3 }, (_, m) => ({ memoryId: `mem-${m}`, data: memory(m) })),
      chunkInfo: chunkInfo(i),
    };
  });
}

async function main(): Promise<void> {
  const admin = new Redis(URL);
  const subjects = await profileSubjects<Create>(BASE);
  const prefixOf = (name: string): string => `bulkp${process.pid}:${name.replace(' ', '-')}:`;
  const stores = new Map<string, Store>();
  for (const [name, create, searchIndex] of subjects) {
    const store = create('redis', { url: URL, keyPrefix: prefixOf(name), searchIndex });
    await store.initialize();
    stores.set(name, store);
  }
  type Sample = { wall: number; client: number; server: number; script: number };
  const samples = new Map<string, Sample[]>();
  const breakdown = new CommandBreakdown();
  for (let round = 0; round <= ROUNDS; round += 1) {
    const order = subjects.map(([name]) => name);
    for (let i = 0; i < round % order.length; i += 1) order.push(order.shift()!);
    for (const name of order) {
      const store = stores.get(name)!;
      const batches = Array.from({ length: CONVERSATIONS / BATCH }, (_, b) => items(round, b * BATCH));
      const stats0 = await commandStats(admin);
      const cpu0 = process.cpuUsage();
      const server0 = serverCpu();
      const t0 = performance.now();
      for (const batch of batches) await store.storeConversationBatch(batch);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const server = serverCpu() - server0;
      const stats1 = await commandStats(admin);
      if (round === 0) continue;
      const records = CONVERSATIONS * RECORDS_PER_CONVERSATION;
      const script =
        (stats1.get('evalsha')?.[1] ?? 0) -
        (stats0.get('evalsha')?.[1] ?? 0) +
        (stats1.get('eval')?.[1] ?? 0) -
        (stats0.get('eval')?.[1] ?? 0);
      const list = samples.get(name) ?? [];
      list.push({
        wall: (ms * 1000) / records,
        client: (cpu.user + cpu.system) / records,
        server: (server * 1e6) / records,
        script: script / records,
      });
      samples.set(name, list);
      breakdown.add(name, stats0, stats1);
    }
  }
  const load = loadavg()[0]!.toFixed(2);
  const records = CONVERSATIONS * RECORDS_PER_CONVERSATION;
  console.log(`\nstoreConversationBatch x${BATCH}, ${records} records x ${ROUNDS} rounds, load ${load}`);
  for (const [name, list] of samples) {
    const med = (f: (r: Sample) => number): string => median(list.map(f)).toFixed(1);
    console.log(
      `${name.padEnd(15)} wall ${med((r) => r.wall)} us/record (${(1e6 / median(list.map((r) => r.wall))).toFixed(0)} records/s)  ` +
        `client ${med((r) => r.client)}  server ${med((r) => r.server)}  script ${med((r) => r.script)} us/record`,
    );
  }
  for (const line of breakdown.lines(ROUNDS * records, 'per record', (_, usec) => usec >= 0.2, 2))
    console.log(line);
  for (const [name, store] of stores) {
    await store.shutdown();
    await deleteRedisPrefix(prefixOf(name), URL);
  }
  admin.disconnect();
}

void main();
