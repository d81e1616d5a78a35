/**
 * The server CPU of W7's write script alone, A/B (not part of `npm run bench`): stores of N
 * memories (W7's data) written by this checkout (indexed and `searchIndex: false`) and by
 * `PROFILE_BASE`'s checkout (indexed), then rounds of CALLS memory upserts into each, sent as
 * raw `EVALSHA`s of each checkout's own `UPSERT_MEMORY` script in pipelines of 100 (no client
 * library cost, few socket reads), subjects alternating; per subject the median of the
 * server main thread's CPU per call (`INFO cpu`, microseconds) and of the script time per call
 * (`INFO commandstats`). Best on a private server: `PROFILE_REDIS_URL=redis://127.0.0.1:64NN`.
 * Run: `PROFILE_BASE=../main PROFILE_RECORDS=100000 npx tsx bench/redis-w7-script-ab.ts`.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { median } from './method.js';
import { deleteRedisPrefix } from './cleanup.js';
import { CommandBreakdown, redisCommandStats } from './server-cpu.js';
import { seededRandom, seedW7Memories, w7Text } from './random.js';
import { loadRedisCheckout as load, type RedisCheckout as Checkout } from './redis-checkout.js';

const URL = process.env.PROFILE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RECORDS = Number(process.env.PROFILE_RECORDS ?? 10_000);
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 7);
const CALLS = Number(process.env.PROFILE_CALLS ?? 2000);
const BASE = process.env.PROFILE_BASE;
const QUERIES = Number(process.env.PROFILE_QUERIES ?? 200);

function sentences(seed: number): () => string {
  const text = w7Text(seededRandom(seed));
  return () => text.sentence(20);
}

async function serverCpu(admin: Redis): Promise<number> {
  const text = await admin.info('cpu');
  return [...text.matchAll(/used_cpu_(?:user|sys)_main_thread:([\d.]+)/g)].reduce(
    (s, m) => s + Number(m[1]),
    0,
  );
}

async function main(): Promise<void> {
  const admin = new Redis(URL);
  const own = await load('..');
  const subjects: Array<[string, Checkout, boolean]> = [
    ['branch indexed', own, true],
    ['branch plain', own, false],
  ];
  if (BASE !== undefined) subjects.push(['base indexed', await load(BASE), true]);
  const prefixes = new Map<string, string>();
  for (const [name, checkout, index] of subjects) {
    const prefix = `w7ab${process.pid}:${name.replace(' ', '-')}:`;
    prefixes.set(name, prefix);
    const store = checkout.createStorage('redis', { url: URL, keyPrefix: prefix, searchIndex: index });
    await store.initialize();
    await seedW7Memories(store, RECORDS);
    await store.shutdown();
    await admin.script('LOAD', checkout.UPSERT_MEMORY.lua);
  }
  const samples = new Map<string, Array<{ cpu: number; script: number }>>();
  const breakdown = new CommandBreakdown();
  const data = sentences(11);
  for (let round = 0; round <= ROUNDS; round += 1) {
    const order = subjects.slice();
    for (let i = 0; i < round % order.length; i += 1) order.push(order.shift()!);
    for (const [name, checkout, index] of order) {
      const keys = new checkout.KeyLayout(prefixes.get(name)!);
      const extractor = new checkout.TextExtractor({});
      const calls = Array.from({ length: CALLS }, (_, i) => {
        const conversationId = `ab-r${round}-${i % 50}`;
        const record = { summary: data(), created_at: '2026-01-01T00:00:00.000Z' };
        const k = keys.conversation(conversationId);
        return [
          checkout.UPSERT_MEMORY.sha,
          5,
          k.memories,
          k.memoryData,
          k.memoryCreated,
          k.bucket.conversationIds,
          k.bucket.counters,
          `w${i}`,
          JSON.stringify(record),
          JSON.stringify(record.created_at),
          '1',
          conversationId,
          index ? '1' : '0',
          checkout.searchOwner(conversationId),
          index ? checkout.searchSpec(extractor, 'memories', record) : '',
        ];
      });
      const before = await redisCommandStats(admin);
      const stats0 = before.get('evalsha')?.[1] ?? 0;
      const cpu0 = await serverCpu(admin);
      for (let i = 0; i < calls.length; i += 100) {
        const pipeline = admin.pipeline();
        for (const args of calls.slice(i, i + 100)) pipeline.call('EVALSHA', ...args);
        const replies = await pipeline.exec();
        const failed = replies?.find(([error]) => error !== null);
        if (failed) throw failed[0];
      }
      const cpu = (await serverCpu(admin)) - cpu0;
      const after = await redisCommandStats(admin);
      const script = (after.get('evalsha')?.[1] ?? 0) - stats0;
      if (round === 0) continue;
      breakdown.add(name, before, after);
      samples.set(name, [...(samples.get(name) ?? []), { cpu: (cpu * 1e6) / CALLS, script: script / CALLS }]);
    }
  }
  console.log(
    `\nW7 write script at ${RECORDS} records, ${CALLS} calls x ${ROUNDS} rounds, load ${loadavg()[0]!.toFixed(2)}`,
  );
  for (const [name, list] of samples) {
    const cpu = list.map((s) => s.cpu);
    console.log(
      `${name.padEnd(15)} server CPU ${median(cpu).toFixed(1)} us/call (rounds ${cpu.map((c) => c.toFixed(0)).join(' ')}), ` +
        `script ${median(list.map((s) => s.script)).toFixed(1)} us/call`,
    );
  }
  // W7's queries (1-3 mid-frequency words), each indexed subject in turn: wall time and the
  // server main thread's CPU per query, medians.
  const queries = new Map<string, { wall: number[]; cpu: number[] }>();
  const readers = subjects
    .filter(([, , index]) => index)
    .map(([name, checkout]) => {
      const store = checkout.createStorage('redis', { url: URL, keyPrefix: prefixes.get(name)! });
      return [name, store] as const;
    });
  for (const [, store] of readers) await store.initialize();
  const queryText = w7Text(seededRandom(3));
  for (let q = 0; q < QUERIES; q += 1) {
    const text = queryText.query(1 + (q % 3));
    const match = q % 2 === 0 ? 'any' : 'all';
    for (const [name, store] of q % 4 < 2 ? readers : [...readers].reverse()) {
      const cpu0 = await serverCpu(admin);
      const t0 = performance.now();
      await store.search({ text, match });
      const wall = performance.now() - t0;
      const cpu = (await serverCpu(admin)) - cpu0;
      const key = `${name} ${match}`;
      const entry = queries.get(key) ?? { wall: [], cpu: [] };
      entry.wall.push(wall);
      entry.cpu.push(cpu * 1000);
      queries.set(key, entry);
    }
  }
  for (const [, store] of readers) await store.shutdown();
  for (const [key, { wall, cpu }] of queries) {
    const p95 = [...wall].sort((a, b) => a - b)[Math.floor(wall.length * 0.95)]!;
    console.log(
      `search ${key.padEnd(18)} p50 ${median(wall).toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, server CPU ${median(cpu).toFixed(2)} ms`,
    );
  }
  // The commands inside the scripts, per call: how many and their time (Lua's own work is the rest).
  const keep = (calls: number, _usec: number, cmd: string): boolean => cmd !== 'evalsha' && calls >= 0.5;
  for (const line of breakdown.lines(ROUNDS * CALLS, 'per call', keep)) console.log(line);
  for (const prefix of prefixes.values()) await deleteRedisPrefix(prefix, URL);
  admin.disconnect();
}

void main();
