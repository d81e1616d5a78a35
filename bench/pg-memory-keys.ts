/**
 * What the `memories` table's primary key on `id` costs a write (#11, twenty-first session):
 * server CPU per W2 `storeMemory` call and per W9 `storeMemories` batch of 100 new memories,
 * through the library (`searchIndex: false`, each store on a pool of one connection, the backend's
 * CPU from `/proc/<pid>/schedstat`), and the WAL of one such statement (`EXPLAIN (ANALYZE, WAL)`,
 * the library's statement and parameters sent by the script), on copies of the schema:
 *
 * - `full`: the schema as the library creates it (primary key on `id`, `UNIQUE (conversation_id,
 *   memory_id)`, the `(conversation_id, id)` order index, the GIN and partial search indexes);
 * - `nopk`: without the primary key on `id`;
 * - `pkorder`: the primary key on `(conversation_id, id)` in place of both the key on `id` and the
 *   order index (one index serving the rows' identity and their order).
 *
 * Variants alternate within each round, their order reversing every round (the first round only
 * warms up), each round on new connections (warmed up by 50 calls and a batch); medians are
 * printed, and the median of each variant's per-round ratio to `full`. `SYNC=off` runs the stores' sessions with `synchronous_commit`
 * off (the CPU of the statement without the commit's WAL flush).
 *
 * `npx tsx bench/pg-memory-keys.ts [w2 calls per round] [w9 batches per round] [rounds]`; Linux
 * only, the server on this machine. Drops its `mk_*` schemas at the end.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { buildMemoryBatchSql, MemoryBulkRows } from '../src/backends/postgres/memory-rows.js';
import { buildSql, conversationRowsLock } from '../src/backends/postgres/sql.js';
import { createStorage, type StorageInterface } from '../src/index.js';
import { config } from './config.js';
import { median } from './method.js';
import { memory } from './workloads/data.js';

const VARIANTS: Record<string, string[]> = {
  full: [],
  nopk: ['ALTER TABLE %s.memories DROP CONSTRAINT memories_pkey'],
  pkorder: [
    'ALTER TABLE %s.memories DROP CONSTRAINT memories_pkey',
    'DROP INDEX %s.memories_conversation_order',
    'ALTER TABLE %s.memories ADD PRIMARY KEY (conversation_id, id)',
  ],
};

const nanosOnCpu = (pid: number): number =>
  Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

interface Subject {
  store: StorageInterface;
  pool: pg.Pool;
  pid: number;
}

async function open(schema: string): Promise<Subject> {
  const options = process.env.SYNC === 'off' ? '-c synchronous_commit=off' : undefined;
  const pool = new pg.Pool({ connectionString: config.postgresUrl, max: 1, idleTimeoutMillis: 0, options });
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const store = createStorage('postgres', { pool, schema, searchIndex: false });
  await store.initialize();
  return { store, pool, pid: rows[0]!.pid };
}

async function close(subject: Subject): Promise<void> {
  await subject.store.shutdown();
  await subject.pool.end();
}

const batchOf = (from: number): Array<{ memoryId: string; data: ReturnType<typeof memory> }> =>
  Array.from({ length: 100 }, (_, i) => ({ memoryId: `m${from + i}`, data: memory(from + i) }));

/** WAL records and bytes of one statement (`EXPLAIN (ANALYZE, WAL)`). */
async function wal(admin: pg.Client, text: string, values: unknown[]): Promise<[number, number]> {
  const { rows } = await admin.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, number> }> }>(
    `EXPLAIN (ANALYZE, WAL, FORMAT JSON) ${text}`,
    values,
  );
  const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
  return [plan['WAL Records'] ?? 0, plan['WAL Bytes'] ?? 0];
}

async function main(): Promise<void> {
  const [calls, batches, rounds] = process.argv.slice(2).map(Number);
  const w2Calls = calls || 1000;
  const w9Batches = batches || 20;
  const roundCount = rounds || 7;
  const admin = new pg.Client({ connectionString: config.postgresUrl });
  await admin.connect();
  const names = Object.keys(VARIANTS);
  const subjects: Record<string, Subject> = {};
  const server: Record<string, { w2: number[]; w9: number[] }> = {};
  try {
    for (const v of names) {
      await admin.query(`DROP SCHEMA IF EXISTS mk_${v} CASCADE`);
      const subject = await open(`mk_${v}`);
      for (const d of VARIANTS[v]!) await admin.query(d.replaceAll('%s', `mk_${v}`));
      subjects[v] = subject;
    }
    for (let round = 0; round <= roundCount; round += 1) {
      const order = round % 2 ? [...names].reverse() : names;
      // Fresh connections every round: a backend's own history (its heap, see "Batches, eighth
      // pass" in docs/performance-history.md) would otherwise stay with one variant all run.
      for (const v of names) {
        await close(subjects[v]!);
        subjects[v] = await open(`mk_${v}`);
        const { store } = subjects[v]!;
        for (let k = 0; k < 50; k += 1) await store.storeMemory(`warm-r${round}`, `mem-${k}`, memory(k));
        await store.storeMemories(`warm-r${round}`, batchOf(1000));
      }
      for (const v of order) {
        const { store, pid } = subjects[v]!;
        let t0 = nanosOnCpu(pid);
        for (let k = 0; k < w2Calls; k += 1) await store.storeMemory(`w2-r${round}`, `mem-${k}`, memory(k));
        const w2 = (nanosOnCpu(pid) - t0) / 1e3 / w2Calls;
        t0 = nanosOnCpu(pid);
        for (let b = 0; b < w9Batches; b += 1)
          await store.storeMemories(`w9-r${round}-${b}`, batchOf(b * 100));
        const w9 = (nanosOnCpu(pid) - t0) / 1e3 / w9Batches;
        if (round === 0) continue;
        const r = (server[v] ??= { w2: [], w9: [] });
        r.w2.push(w2);
        r.w9.push(w9);
      }
    }
    console.log(
      `${w2Calls} W2 calls, ${w9Batches} W9 batches per round, ${roundCount} rounds, SYNC=${process.env.SYNC ?? 'on'}, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
    );
    for (const v of names) {
      const { w2, w9 } = server[v]!;
      const wals: Array<[number, number]> = [];
      const walsBatch: Array<[number, number]> = [];
      const schema = `mk_${v}`;
      const batchSql = buildMemoryBatchSql(schema, false).keep.text;
      for (let i = 0; i < 5; i += 1) {
        const k = 5000 + i;
        const one = [
          'w2-r1',
          `mem-${k}`,
          JSON.stringify(new Date().toISOString()),
          JSON.stringify(memory(k)),
          false,
          null,
          null,
        ];
        wals.push(await wal(admin, buildSql(schema).upsertMemory.text, one));
        const rows = new MemoryBulkRows(false, false);
        const createdAt = new Date().toISOString();
        for (const m of batchOf(0)) {
          const record = { memory_id: m.memoryId, created_at: createdAt, ...m.data };
          rows.addMemory('', { memoryId: m.memoryId, record, explicitCreatedAt: false }, [null, null]);
        }
        const params = rows.params(() => ({
          method: 'storeMemories',
          field: 'memories',
          count: 100,
          first: '',
        }));
        walsBatch.push(await wal(admin, batchSql, [...params, `w9-wal-${i}`, conversationRowsLock(schema)]));
      }
      const f = (xs: number[]): string =>
        `${median(xs).toFixed(0)} (${xs.map((x) => x.toFixed(0)).join(' ')})`;
      const base = server.full!;
      const ratio = (xs: number[], of: number[]): string =>
        median(xs.map((x, i) => x / (of[i] as number))).toFixed(3);
      console.log(
        `${v.padEnd(8)} W2 server µs/call ${f(w2)} x${ratio(w2, base.w2)}  W9 server µs/batch ${f(w9)} x${ratio(w9, base.w9)}  ` +
          `WAL W2 ${median(wals.map((x) => x[0]))} rec ${median(wals.map((x) => x[1]))} B, ` +
          `W9 ${median(walsBatch.map((x) => x[0]))} rec ${median(walsBatch.map((x) => x[1]))} B`,
      );
    }
  } finally {
    for (const subject of Object.values(subjects)) await close(subject);
    for (const v of names) await admin.query(`DROP SCHEMA IF EXISTS mk_${v} CASCADE`);
    await admin.end();
  }
}

void main();
