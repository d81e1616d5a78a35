/**
 * `npm run bench:vectors`: query latency of the vector stores (memory, file, sqlite-vec) with
 * 10,000 random 256-dimension vectors, or 100,000 with `BENCH_FULL=1`. Prints a Markdown
 * table; not part of `npm run bench`. Scoped queries ask for one agent's records (5 % of the data).
 * "1 upsert" is one single-record upsert (a new id) into the full index, as the storage's
 * per-record writes do. The load average is printed, since the figures depend on it.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileVectorStore, type VectorItem, type VectorStore } from '../src/index.js';
import { MemoryVectorStore } from '../src/semantic/vector-stores/memory.js';
import { SqliteVecStore } from '../src/semantic/vector-stores/sqlite-vec/sqlite-vec-store.js';
import { randomVector, seededRandom } from './random.js';

const COUNT = process.env.BENCH_FULL === '1' ? 100_000 : 10_000;
const DIMENSIONS = 256;
const BATCH = 10_000;
const QUERIES = 30;

function vectorOf(random: () => number): Float32Array {
  return randomVector(random, DIMENSIONS);
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function timeQueries(store: VectorStore, k: number, filter?: { agentId: string }): Promise<string> {
  const random = seededRandom(42);
  const samples: number[] = [];
  const cpuStarted = process.cpuUsage();
  for (let i = 0; i < QUERIES; i += 1) {
    const vector = vectorOf(random);
    const started = performance.now();
    const matches = await store.query({ vector, k, ...(filter ? { filter } : {}) });
    samples.push(performance.now() - started);
    if (matches.length !== k) throw new Error(`expected ${k} matches, got ${matches.length}`);
  }
  // CPU time of the whole process (sqlite3 runs on libuv's threads, also counted), per query:
  // on a loaded machine wall time mostly measures waiting for a core.
  const cpu = process.cpuUsage(cpuStarted);
  const cpuMs = (cpu.user + cpu.system) / 1000 / QUERIES;
  return `${percentile(samples, 50).toFixed(1)} / ${percentile(samples, 95).toFixed(1)} (cpu ${cpuMs.toFixed(1)})`;
}

/** Latency of single-record upserts of new ids into the full index. */
async function timeSingleUpserts(store: VectorStore): Promise<string> {
  const random = seededRandom(7);
  const samples: number[] = [];
  for (let i = 0; i < QUERIES; i += 1) {
    const item = { id: `single:${i}`, vector: vectorOf(random), kind: 'memory', agentId: 'agent_1' };
    const started = performance.now();
    await store.upsert([item]);
    samples.push(performance.now() - started);
  }
  return `${percentile(samples, 50).toFixed(1)} / ${percentile(samples, 95).toFixed(1)}`;
}

/** The data every store gets, made once so its generation is not timed. */
function makeBatches(): VectorItem[][] {
  const random = seededRandom(1);
  const batches: VectorItem[][] = [];
  for (let start = 0; start < COUNT; start += BATCH) {
    const items: VectorItem[] = [];
    for (let i = start; i < Math.min(COUNT, start + BATCH); i += 1) {
      const agentId = i % 20 === 0 ? 'agent_small' : `agent_${i % 7}`;
      items.push({ id: `memory:${i}`, vector: vectorOf(random), kind: 'memory', agentId });
    }
    batches.push(items);
  }
  return batches;
}

async function bench(name: string, batches: VectorItem[][], open: () => VectorStore): Promise<string> {
  const store = open();
  await store.ensureIndex({ embedderId: 'bench:random', dimensions: DIMENSIONS, metric: 'cosine' });
  const insertStarted = performance.now();
  for (const items of batches) await store.upsert(items);
  const insertSeconds = (performance.now() - insertStarted) / 1000;
  // The memory store has nothing to reopen; the others are timed loading what they wrote.
  let reopened = store;
  let reopenMs = 0;
  if (name !== 'memory') {
    await store.close();
    const reopenStarted = performance.now();
    reopened = open();
    await reopened.ensureIndex({ embedderId: 'bench:random', dimensions: DIMENSIONS, metric: 'cosine' });
    reopenMs = performance.now() - reopenStarted;
  }
  const row = [
    name,
    insertSeconds.toFixed(1),
    name === 'memory' ? '—' : reopenMs.toFixed(0),
    await timeQueries(reopened, 10),
    await timeQueries(reopened, 100),
    await timeQueries(reopened, 10, { agentId: 'agent_small' }),
    await timeSingleUpserts(reopened),
  ];
  await reopened.close();
  return `| ${row.join(' | ')} |`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'connectome-vector-bench-'));
  try {
    const batches = makeBatches();
    const rows = [
      await bench('memory', batches, () => new MemoryVectorStore()),
      await bench('file', batches, () => new FileVectorStore({ baseDir: join(dir, 'file') })),
      await bench('sqlite-vec', batches, () => new SqliteVecStore({ path: join(dir, 'vectors.db') })),
    ];
    console.log(
      `${COUNT.toLocaleString('en-US')} vectors × ${DIMENSIONS} dims, cosine, ${QUERIES} queries each; ms p50 / p95 wall (mean CPU ms per query); ` +
        `load average ${loadavg()
          .map((n) => n.toFixed(1))
          .join(' ')}\n`,
    );
    console.log('| store | insert (s) | reopen (ms) | k=10 | k=100 | k=10, 5 % scope | 1 upsert |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const row of rows) console.log(row);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
