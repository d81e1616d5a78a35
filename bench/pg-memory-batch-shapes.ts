/**
 * Statement shapes for a W9 `storeMemories` batch of 100 new memories (`searchIndex: false`),
 * server CPU per statement from the backend's `/proc/<pid>/schedstat`, all shapes on one
 * connection (`synchronous_commit` off) in one schema the library created, alternating in each
 * round (the first round only warms up), medians:
 *
 * - `lib`: the library's statement and parameters (`memory-rows.ts`);
 * - `onec`: the same with the rows' shared `created_at` sent once as a scalar parameter;
 * - `plain`: the library's rows as a plain `INSERT` without `ON CONFLICT` (not a valid
 *   upsert: the bound of what the speculative insertion and its arbiter check cost);
 * - `nothing`: the same with `ON CONFLICT DO NOTHING`; `lib2`: an A/A copy of `lib`;
 * - `anti`: new rows by a plain insert guarded by `NOT EXISTS`, the rest by the upsert;
 * - `fn`: a function that tries the plain insert and runs the upsert on `unique_violation`.
 *
 * `SHAPES=lib,fn` runs only those; `REPLACE=1` makes every measured batch replace 100 stored
 * memories, `LAST=1` stores each batch's last memory before it (the rest new).
 *
 * `npx tsx bench/pg-memory-batch-shapes.ts [batches per round] [rounds]`; Linux only, the
 * server on this machine. Drops its `mbs` schema at the end.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { buildMemoryBatchSql, MemoryBulkRows } from '../src/backends/postgres/memory-rows.js';
import { conversationRowsLock } from '../src/backends/postgres/sql.js';
import { buildMemoryWrite } from '../src/core/index.js';
import { createStorage } from '../src/index.js';
import { config } from './config.js';
import { median } from './method.js';
import { memory } from './workloads/data.js';

const SCHEMA = 'mbs';
const nanosOnCpu = (pid: number): number =>
  Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

/** The library's parameters for a batch of 100 new memories of `conversation`. */
function libParams(conversation: string): unknown[] {
  const now = new Date().toISOString();
  const rows = new MemoryBulkRows(false, false);
  for (let k = 0; k < 100; k += 1)
    rows.addMemory(conversation, buildMemoryWrite(`m${k}`, memory(k), now), [null, null]);
  const name = () => ({ method: 'storeMemories', field: 'memories', count: 100, first: '' });
  return [...rows.params(name), conversation, conversationRowsLock(SCHEMA)];
}

/**
 * New rows by a plain insert (those no row of the conversation holds yet, an anti-join), the rest
 * through the upsert: only rows that existed pay for the speculative insertion.
 */
function antiJoin(upsert: string): string {
  const head = upsert.slice(0, upsert.indexOf('ORDER BY r.n'));
  const plain = head.replace(
    'AS r(d, m, c, once, n)',
    `AS r(d, m, c, once, n) WHERE NOT EXISTS (SELECT 1 FROM ${SCHEMA}.memories AS e
      WHERE e.conversation_id = $4::text AND e.memory_id = r.m::text)`,
  );
  const rest = upsert.replace(
    'ORDER BY r.n',
    'WHERE r.m::text NOT IN (SELECT memory_id FROM ins) ORDER BY r.n',
  );
  return `WITH ins AS (${plain.replace('INSERT INTO "mbs".memories AS m', 'INSERT INTO "mbs".memories')} ORDER BY r.n RETURNING memory_id) ${rest}`;
}

const lib = buildMemoryBatchSql(SCHEMA, false).keep.text;
const SHAPES: Record<string, [string, (conversation: string) => unknown[]]> = {
  lib: [lib, libParams],
  onec: [
    lib
      .replace(', json_array_elements_text($3::json)', '')
      .replace('r(d, m, c, once, n)', 'r(d, m, once, n)')
      .replace('r.c::text', '$3::text'),
    (conversation) => {
      const params = libParams(conversation);
      params[2] = JSON.stringify(new Date().toISOString());
      return params;
    },
  ],
  plain: [lib.slice(0, lib.indexOf('ON CONFLICT')), libParams],
  nothing: [`${lib.slice(0, lib.indexOf('ON CONFLICT'))} ON CONFLICT DO NOTHING`, libParams],
  lib2: [`${lib} `, libParams],
  anti: [antiJoin(lib), libParams],
  fn: ['SELECT "mbs".store_memories_try($1, $2, $3, $4, $5)', libParams],
};

/**
 * A plain insert of the rows in a block that, when one of them exists (unique violation), rolls
 * back to its start and runs the upsert: only batches that replace pay for the speculative
 * insertion (and then for the failed insert too, and the block's subtransaction always).
 */
const TRY_FUNCTION = `CREATE FUNCTION "mbs".store_memories_try(p_records json, p_ids json, p_created json,
    p_conversation text, p_lock text) RETURNS void LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
  BEGIN
    ${lib.slice(0, lib.indexOf('ON CONFLICT')).replace('INSERT INTO "mbs".memories AS m', 'INSERT INTO "mbs".memories').replaceAll('$1', 'p_records').replaceAll('$2', 'p_ids').replaceAll('$3', 'p_created').replaceAll('$4', 'p_conversation').replaceAll('$5', 'p_lock')};
  EXCEPTION WHEN unique_violation THEN
    ${lib.replaceAll('$1', 'p_records').replaceAll('$2', 'p_ids').replaceAll('$3', 'p_created').replaceAll('$4', 'p_conversation').replaceAll('$5', 'p_lock')};
  END;
END$body$`;

const only = process.env.SHAPES?.split(',');
const replace = process.env.REPLACE === '1';
/** `LAST=1`: each batch's last memory (`m99`) is stored before the batch, the rest are new. */
const last = process.env.LAST === '1';

async function main(): Promise<void> {
  const [batchesArg, roundsArg] = process.argv.slice(2).map(Number);
  const batches = batchesArg || 100;
  const rounds = roundsArg || 7;
  const setup = new pg.Pool({ connectionString: config.postgresUrl, max: 1 });
  const store = createStorage('postgres', { pool: setup, schema: SCHEMA, searchIndex: false });
  await store.initialize();
  await store.shutdown();
  await setup.end();
  const other = new pg.Client({ connectionString: config.postgresUrl });
  await other.connect();
  await other.query(TRY_FUNCTION);
  const client = new pg.Client({
    connectionString: config.postgresUrl,
    options: '-c synchronous_commit=off',
  });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]!.pid;
  const micros: Record<string, number[]> = {};
  try {
    for (let round = 0; round <= rounds; round += 1) {
      const names = Object.keys(SHAPES).filter((n) => only?.includes(n) ?? true);
      for (const name of round % 2 ? names.reverse() : names) {
        const [text, params] = SHAPES[name]!;
        const ids = Array.from({ length: batches }, (_, b) =>
          replace ? `${name}-b${b}` : `${name}-r${round}-b${b}`,
        );
        const values = ids.map(params);
        if (last)
          await other.query(
            `INSERT INTO ${SCHEMA}.memories (conversation_id, memory_id, created_at, memory_data)
              SELECT id, 'm99', '"t"', '{}' FROM unnest($1::text[]) AS id`,
            [ids],
          );
        const t0 = nanosOnCpu(pid);
        for (const v of values) await client.query({ name: `mbs_${name}`, text, values: v });
        if (round > 0) (micros[name] ??= []).push((nanosOnCpu(pid) - t0) / 1e3 / batches);
      }
    }
    console.log(
      `${replace ? 'replace' : last ? 'last one exists' : 'new'}: ${batches} batches per round, ${rounds} rounds, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
    );
    for (const [name, xs] of Object.entries(micros)) {
      const ratio = median(xs.map((x, i) => x / (micros.lib![i] as number)));
      console.log(
        `${name.padEnd(6)} ${median(xs).toFixed(0)} µs (${xs.map((x) => x.toFixed(0)).join(' ')}) x${ratio.toFixed(3)}`,
      );
    }
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await client.end();
    await other.end();
  }
}

void main();
