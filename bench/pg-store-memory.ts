/**
 * One W2 `storeMemory` call against PostgreSQL, end to end (#11): wall time, client CPU
 * (`process.cpuUsage`) and the server CPU of the one backend each subject uses (its pool holds
 * one connection; `/proc/<pid>/schedstat`, nanoseconds on CPU), and how many statements each
 * call sends. Subjects alternate within each round (the first round only warms up), each round
 * a fresh conversation growing to `calls` memories, as W2 does; medians are printed.
 *
 * Subjects: `lib` (the library, `searchIndex: false`, on a pool of the script's own); `full`
 * (the library's statement and parameters sent by a bare `pg.Pool` to a copy of its schema: the
 * library's client code left out); `rawshape` (raw's statement shape, four parameters and only
 * `memory_data` replaced, on that copy: the statement's clauses left out, the schema kept);
 * `nopk`, `noorder`, `strip`, `bare` (the library's statement on copies without the primary key
 * on `id`, without the `(conversation_id, id)` order index, without the search machinery, without
 * all three); `timeouts` (`full` on a connection started with the session settings of the
 * library's own pool: `statement_timeout` and the others); `raw` (what the benchmark's raw
 * subject sends, to its own table).
 *
 * `npx tsx bench/pg-store-memory.ts [calls per round] [rounds]`; Linux only, the server on
 * this machine. Drops its `sm_*` schemas at the end.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { buildSql } from '../src/backends/postgres/sql.js';
import { createStorage } from '../src/index.js';
import { config } from './config.js';
import { median } from './method.js';
import { memory } from './workloads/data.js';

type Call = (conversationId: string, k: number) => Promise<unknown>;
interface Subject {
  readonly call: Call;
  readonly pid: number;
  statements: number;
  readonly close: () => Promise<void>;
}

const nanosOnCpu = (pid: number): number =>
  Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

/** A one-connection pool that counts the statements sent through it. */
async function countingPool(
  session: pg.PoolConfig = {},
): Promise<{ pool: pg.Pool; pid: number; counter: { n: number } }> {
  const pool = new pg.Pool({
    connectionString: config.postgresUrl,
    max: 1,
    idleTimeoutMillis: 0,
    ...session,
  });
  const counter = { n: 0 };
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args) => {
    counter.n += 1;
    return query(...args);
  };
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  counter.n = 0;
  return { pool, pid: rows[0]!.pid, counter };
}

async function library(schema: string): Promise<Subject> {
  const { pool, pid, counter } = await countingPool();
  const store = createStorage('postgres', { pool, schema, searchIndex: false });
  await store.initialize();
  counter.n = 0;
  const subject: Subject = {
    call: (id, k) => store.storeMemory(id, `mem-${k}`, memory(k)),
    pid,
    get statements() {
      return counter.n;
    },
    set statements(v) {
      counter.n = v;
    },
    close: async () => {
      await store.shutdown();
      await pool.end();
    },
  };
  return subject;
}

/** A bare pool sending `text` (named) with the parameters `params` builds. */
async function bare(
  name: string,
  text: string,
  params: (id: string, k: number) => unknown[],
  session: pg.PoolConfig = {},
): Promise<Subject> {
  const { pool, pid } = await countingPool(session);
  let statements = 0;
  return {
    call: (id, k) => {
      statements += 1;
      return pool.query({ name, text, values: params(id, k) });
    },
    pid,
    get statements() {
      return statements;
    },
    set statements(v) {
      statements = v;
    },
    close: () => pool.end(),
  };
}

/** What the library binds for a new memory with `searchIndex: false` (its `created_at` chosen by the core). */
const libParams = (id: string, k: number): unknown[] => [
  id,
  `mem-${k}`,
  JSON.stringify(new Date().toISOString()),
  JSON.stringify(memory(k)),
  false,
  null,
  null,
];

/** Copies of the library's schema, each without some of what a W2 insert maintains. */
const VARIANTS: Record<string, string[]> = {
  full: [],
  nopk: ['ALTER TABLE %s.memories DROP CONSTRAINT memories_pkey'],
  noorder: ['DROP INDEX %s.memories_conversation_order'],
  strip: [
    'DROP INDEX %s.memories_search',
    'DROP INDEX %s.memories_unindexed',
    ...['insert', 'update', 'delete'].flatMap((e) => [
      `DROP TRIGGER memories_search_${e} ON %s.memories`,
      `DROP TRIGGER memories_search_flag_${e} ON %s.memories`,
    ]),
  ],
};
VARIANTS.bare = [...VARIANTS.nopk!, ...VARIANTS.noorder!, ...VARIANTS.strip!];

/** The library's own upsert statement, on the schema `schema` (the one `storeMemory` sends). */
const upsertSql = (schema: string): string => buildSql(schema).upsertMemory.text;

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 1000);
  const rounds = Number(process.argv[3] ?? 5);
  const admin = new pg.Client({ connectionString: config.postgresUrl });
  await admin.connect();
  const schemas = ['sm_lib', 'sm_raw', ...Object.keys(VARIANTS).map((v) => `sm_${v}`)];
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.query(`CREATE SCHEMA sm_raw; CREATE TABLE sm_raw.memories (seq bigserial, id text,
    memory_id text, data text NOT NULL, PRIMARY KEY (id, memory_id))`);
  const subjects: Record<string, Subject> = {
    lib: await library('sm_lib'),
    raw: await bare(
      'sm_raw',
      `INSERT INTO sm_raw.memories (id, memory_id, data) VALUES ($1, $2, $3) ON CONFLICT (id, memory_id) DO UPDATE SET data = excluded.data`,
      (id, k) => [id, `mem-${k}`, JSON.stringify({ memory_id: `mem-${k}`, ...memory(k) })],
    ),
    rawshape: await bare(
      'sm_rawshape',
      `INSERT INTO sm_full.memories (conversation_id, memory_id, created_at, memory_data) VALUES ($1, $2, $3, $4)
        ON CONFLICT (conversation_id, memory_id) DO UPDATE SET memory_data = excluded.memory_data`,
      (id, k) => libParams(id, k).slice(0, 4),
    ),
  };
  for (const [variant, ddl] of Object.entries(VARIANTS)) {
    const schema = `sm_${variant}`;
    const made = await library(schema); // the library creates the schema; the copy drops pieces
    await made.close();
    for (const d of ddl) await admin.query(d.replace('%s', schema));
    subjects[variant] = await bare(`sm_${variant}`, upsertSql(schema), libParams);
  }
  // The session settings the library's own pool starts its connections with (connection.ts).
  subjects.timeouts = await bare('sm_timeouts', upsertSql('sm_full'), libParams, {
    statement_timeout: 60_000,
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    application_name: 'connectome-storage',
  });
  const results: Record<string, { wall: number[]; client: number[]; server: number[]; stmts: number[] }> = {};
  for (let round = 0; round <= rounds; round += 1) {
    const order = Object.keys(subjects);
    if (round % 2 === 1) order.reverse();
    for (const name of order) {
      const subject = subjects[name]!;
      const id = `sm-${name}-r${round}`;
      subject.statements = 0;
      const server0 = nanosOnCpu(subject.pid);
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < calls; k += 1) await subject.call(id, k);
      const wall = Number(process.hrtime.bigint() - t0) / 1e3 / calls;
      const cpu = process.cpuUsage(cpu0);
      const server = (nanosOnCpu(subject.pid) - server0) / 1e3 / calls;
      if (round === 0) continue;
      const r = (results[name] ??= { wall: [], client: [], server: [], stmts: [] });
      r.wall.push(wall);
      r.client.push((cpu.user + cpu.system) / calls);
      r.server.push(server);
      r.stmts.push(subject.statements / calls);
    }
  }
  console.log(
    `${calls} calls per round, ${rounds} rounds, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  );
  console.log('subject   wall µs   client CPU µs   server CPU µs   statements/call');
  for (const [name, r] of Object.entries(results)) {
    const f = (v: number[]): string => median(v).toFixed(0).padStart(8);
    console.log(
      `${name.padEnd(8)} ${f(r.wall)}   ${f(r.client)}        ${f(r.server)}        ${median(r.stmts)}`,
    );
  }
  for (const subject of Object.values(subjects)) await subject.close();
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
}

void main();
