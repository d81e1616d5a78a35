/**
 * `deleteCacheEntries` of `AB_SIZE` keys (default 100) against the same keys deleted with
 * `deleteCacheEntry`, one after another (`loop`) and all at once (`concurrent`), in one process
 * (not part of `npm run bench`). Runs the library's sources through tsx:
 * `BACKEND=sqlite|postgres|redis|file npx tsx bench/cache-delete-batch-ab.ts`. Every subject
 * deletes, `AB_BATCHES` times a round (default 20), keys it stored just before (one
 * `storeCacheEntries` of 1 KB values with a TTL, not measured); the subjects alternate every
 * round, the order rotating. Each figure is the median over `BENCH_ROUNDS` rounds (default 9,
 * after a warm-up round) of the round's wall time and `process.cpuUsage()` (the whole process:
 * the library's main thread and its thread pool; on the file backend the fsyncs' waits are
 * wall, not CPU) per call of 100 keys. Each store lives on its own path, schema or prefix, and
 * is removed at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage, type StorageInterface } from '../src/index.js';
import { deleteRedisPrefix, dropSchema } from './cleanup.js';
import { median } from './method.js';
import { cacheValue } from './workloads/data.js';

const BACKEND = process.env.BACKEND ?? 'sqlite';
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const batches = Number(process.env.AB_BATCHES ?? 20);
const size = Number(process.env.AB_SIZE ?? 100);
const PG_URL = 'postgres://postgres:postgres@127.0.0.1:5432/test';
const tag = `delab${process.pid}`;

type Subject = 'batch' | 'loop' | 'concurrent';
const deletes: Record<Subject, (s: StorageInterface, keys: string[]) => Promise<unknown>> = {
  batch: (s, keys) => s.deleteCacheEntries(keys),
  loop: async (s, keys) => {
    for (const key of keys) await s.deleteCacheEntry(key);
  },
  concurrent: (s, keys) => Promise.all(keys.map((key) => s.deleteCacheEntry(key))),
};

async function open(dir: string): Promise<StorageInterface> {
  const s =
    BACKEND === 'postgres'
      ? createStorage('postgres', { url: PG_URL, schema: tag })
      : BACKEND === 'redis'
        ? createStorage('redis', { url: 'redis://127.0.0.1:6379', keyPrefix: `${tag}:` })
        : BACKEND === 'file'
          ? createStorage('file', { baseDir: dir })
          : createStorage('sqlite', { dbPath: join(dir, 'bench.db') });
  await s.initialize();
  return s;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `${tag}-`));
  const s = await open(dir);
  const value = cacheValue(1);
  let next = 0;
  /** One round of `subject`: wall and CPU ms per call of `size` keys. */
  const round = async (subject: Subject): Promise<[number, number]> => {
    let wall = 0;
    let cpu = 0;
    for (let b = 0; b < batches; b += 1) {
      const keys = Array.from({ length: size }, () => `k${(next += 1)}`);
      await s.storeCacheEntries(keys.map((key) => ({ key, data: value, ttlSeconds: 3600 })));
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await deletes[subject](s, keys);
      wall += Number(process.hrtime.bigint() - t0) / 1e6;
      const used = process.cpuUsage(cpu0);
      cpu += (used.user + used.system) / 1000;
    }
    return [wall / batches, cpu / batches];
  };
  const subjects: Subject[] = ['batch', 'loop', 'concurrent'];
  const results = new Map<Subject, Array<[number, number]>>(subjects.map((x) => [x, []]));
  try {
    for (const subject of subjects) await round(subject); // warm-up
    for (let r = 0; r < rounds; r += 1) {
      const order = subjects.map((_, i) => subjects[(i + r) % subjects.length] as Subject);
      for (const subject of order) results.get(subject)!.push(await round(subject));
    }
  } finally {
    await s.shutdown();
    await rm(dir, { recursive: true, force: true });
    if (BACKEND === 'postgres') await dropSchema(tag);
    if (BACKEND === 'redis') await deleteRedisPrefix(`${tag}:`);
  }
  console.log(
    `${BACKEND}: ${size} keys per call, ${batches} calls per round, ${rounds} rounds, load ${loadavg()[0]?.toFixed(2)}`,
  );
  for (const subject of subjects) {
    const rows = results.get(subject)!;
    const wall = median(rows.map(([w]) => w));
    const cpu = median(rows.map(([, c]) => c));
    console.log(
      `${subject.padEnd(10)} wall ${wall.toFixed(2)} ms/call  client CPU ${cpu.toFixed(2)} ms/call`,
    );
  }
}

void main();
