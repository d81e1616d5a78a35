/**
 * What each piece of the PostgreSQL search machinery costs a write with `searchIndex: false`
 * (or, `PIECES_INDEXED=1`, an indexed one): server CPU per statement, from the backend's
 * `/proc/<pid>/schedstat` (nanoseconds), on copies of the schema that each lack one piece.
 * Variants alternate within each round (the first round only warms up); medians are printed.
 *
 * Variants: `full` (the schema as the library creates it), `nogin` (no GIN index), `nounidx`
 * (no partial index of unindexed rows), `nostmt` (no statement triggers, whose transition
 * tables PostgreSQL fills for every row), `norow` (no BEFORE row flag triggers), `strip` (none
 * of them), `rowstats` (the stats kept by AFTER row triggers that run only for indexed rows and
 * a statement trigger without transition tables, the GIN index partial: the design measured
 * and not adopted in the twentieth session, see docs/performance-history.md).
 *
 * `npx tsx bench/pg-schema-pieces.ts [w2|w3|w2u|w9m|w9c] [statements per round] [rounds]`;
 * Linux only, the server on this machine. Drops its `pieces_*` schemas at the end.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`): tsx's `__name` wrapping adds to the library's client CPU here.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { migrationDdl, POSTGRES_SCHEMA_VERSION } from '../src/backends/postgres/schema.js';
import { config } from './config.js';
import { median } from './method.js';

const TABLES = ['memories', 'reasoning_chains'] as const;
const drops = {
  gin: (t: string) => [`DROP INDEX %s.${t}_search`],
  unidx: (t: string) => [`DROP INDEX %s.${t}_unindexed`],
  stmt: (t: string) => ['insert', 'update', 'delete'].map((e) => `DROP TRIGGER ${t}_search_${e} ON %s.${t}`),
  row: (t: string) =>
    ['insert', 'update', 'delete'].map((e) => `DROP TRIGGER ${t}_search_flag_${e} ON %s.${t}`),
};

/** The `rowstats` variant: per-row sums in a transaction setting, flushed by a statement trigger. */
function rowStats(s: string, t: string): string[] {
  const pending = `'connectome_storage.pending_' || TG_TABLE_NAME`;
  const flag = `current_setting('connectome_storage.search_stats', true) = 'on'`;
  const functions =
    t !== TABLES[0]
      ? []
      : [
          `CREATE FUNCTION ${s}.stats_row() RETURNS trigger LANGUAGE plpgsql AS $b$
DECLARE d bigint := 0; n bigint := 0; name text := ${pending}; cur text := current_setting(name, true);
BEGIN
  IF TG_OP <> 'DELETE' AND NEW.search_length IS NOT NULL THEN d := 1; n := NEW.search_length; END IF;
  IF TG_OP <> 'INSERT' AND OLD.search_length IS NOT NULL THEN d := d - 1; n := n - OLD.search_length; END IF;
  IF coalesce(cur, '') <> '' THEN
    d := d + split_part(cur, ' ', 1)::bigint; n := n + split_part(cur, ' ', 2)::bigint;
  END IF;
  PERFORM set_config(name, d || ' ' || n, true);
  RETURN NULL;
END$b$`,
          `CREATE FUNCTION ${s}.stats_flush() RETURNS trigger LANGUAGE plpgsql AS $b$
DECLARE name text := ${pending}; cur text := current_setting(name, true);
BEGIN
  IF coalesce(cur, '') = '' THEN RETURN NULL; END IF;
  PERFORM set_config(name, '', true);
  INSERT INTO ${s}.search_stats AS s (table_name, shard, docs, total)
    VALUES (TG_TABLE_NAME, pg_backend_pid() % 16, split_part(cur, ' ', 1)::bigint, split_part(cur, ' ', 2)::bigint)
    ON CONFLICT (table_name, shard) DO UPDATE SET docs = s.docs + EXCLUDED.docs, total = s.total + EXCLUDED.total;
  RETURN NULL;
END$b$`,
        ];
  const when = { insert: 'NEW', update: 'OLD.search_length IS NOT NULL OR NEW', delete: 'OLD' };
  return [
    ...functions,
    ...drops.stmt(t).map((d) => d.replace('%s', s)),
    `DROP INDEX ${s}.${t}_search`,
    `CREATE INDEX ${t}_search ON ${s}.${t} USING gin (search_tokens) WHERE search_tokens IS NOT NULL`,
    ...Object.entries(when).flatMap(([e, w]) => [
      `CREATE TRIGGER ${t}_stats_row_${e} AFTER ${e} ON ${s}.${t} FOR EACH ROW
        WHEN (${w}.search_length IS NOT NULL) EXECUTE FUNCTION ${s}.stats_row()`,
      `CREATE TRIGGER ${t}_stats_${e} AFTER ${e} ON ${s}.${t} FOR EACH STATEMENT
        WHEN (${flag}) EXECUTE FUNCTION ${s}.stats_flush()`,
    ]),
  ];
}

const VARIANTS: Record<string, (s: string, t: string) => string[]> = {
  full: () => [],
  nogin: (s, t) => drops.gin(t).map((d) => d.replace('%s', s)),
  nounidx: (s, t) => drops.unidx(t).map((d) => d.replace('%s', s)),
  nostmt: (s, t) => drops.stmt(t).map((d) => d.replace('%s', s)),
  norow: (s, t) => drops.row(t).map((d) => d.replace('%s', s)),
  strip: (s, t) => Object.values(drops).flatMap((f) => f(t).map((d) => d.replace('%s', s))),
  rowstats: rowStats,
};

const indexed = process.env.PIECES_INDEXED === '1';
const DATA = JSON.stringify({ content: 'x'.repeat(300) });
const tokens = indexed ? "'aa':1 'bb':1,2 'cc':3" : null;
const length = indexed ? 4 : null;
const upsert = (s: string, rows: string): string => `INSERT INTO ${s}.memories AS m
  (conversation_id, memory_id, created_at, memory_data, search_tokens, search_length) ${rows}
  ON CONFLICT (conversation_id, memory_id) DO UPDATE SET memory_data = EXCLUDED.memory_data,
    search_tokens = EXCLUDED.search_tokens, search_length = EXCLUDED.search_length, updated_at = now()`;

/** The statement of workload `w` on schema `s` and a maker of its parameters. */
function workload(w: string, s: string): [string, (i: number) => unknown[]] {
  const one = 'VALUES ($1, $2, $3, $4, $5::tsvector, $6::int)';
  const many = "SELECT 'w9', $1 || g, $2, $3, $4::tsvector, $5::int FROM generate_series(1, 100) g";
  const chains = `INSERT INTO ${s}.reasoning_chains (agent_id, chain_data, search_tokens, search_length)`;
  const fresh = (i: number): string => `${Date.now()}_${i}`;
  if (w === 'w2') return [upsert(s, one), (i) => ['w2', fresh(i), '"t"', DATA, tokens, length]];
  if (w === 'w2u') return [upsert(s, one), (i) => ['w2u', `m${i % 1000}`, '"t"', DATA, tokens, length]];
  if (w === 'w9m') return [upsert(s, many), (i) => [fresh(i), '"t"', DATA, tokens, length]];
  if (w === 'w3') return [`${chains} VALUES ('a3', $1, $2::tsvector, $3::int)`, () => [DATA, tokens, length]];
  if (w === 'w9c')
    return [
      `${chains} SELECT 'a9', $1, $2::tsvector, $3::int FROM generate_series(1, 100)`,
      () => [DATA, tokens, length],
    ];
  throw new Error(`unknown workload ${w}`);
}

const cpuNanos = (pid: number): number =>
  Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

async function main(): Promise<void> {
  const [w = 'w2', perRound = '1000', roundsArg = '6'] = process.argv.slice(2);
  const client = new pg.Client({ connectionString: config.postgresUrl });
  await client.connect();
  const names = Object.keys(VARIANTS);
  const schema = (v: string): string => `"pieces_${v}"`;
  try {
    for (const v of names) {
      const s = schema(v);
      const ddl = [
        `DROP SCHEMA IF EXISTS ${s} CASCADE`,
        `CREATE SCHEMA ${s}`,
        `CREATE TABLE ${s}.storage_meta (key text PRIMARY KEY, value text NOT NULL)`,
      ];
      for (let from = 0; from < POSTGRES_SCHEMA_VERSION; from += 1) ddl.push(...migrationDdl(from, s));
      for (const t of TABLES) ddl.push(...(VARIANTS[v] as (s: string, t: string) => string[])(s, t));
      await client.query(ddl.join(';\n'));
    }
    // No WAL flush per commit: the CPU of the statement, not the disk's latency.
    await client.query('SET synchronous_commit = off');
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = (rows[0] as { pid: number }).pid;
    const micros: Record<string, number[]> = {};
    for (let round = 0; round <= Number(roundsArg); round += 1) {
      for (const v of names) {
        const [text, params] = workload(w, schema(v));
        const before = cpuNanos(pid);
        for (let i = 0; i < Number(perRound); i += 1)
          await client.query({ name: `${w}_${v}`, text, values: params(i) });
        if (round > 0) (micros[v] ??= []).push((cpuNanos(pid) - before) / Number(perRound) / 1000);
      }
    }
    for (const v of names) {
      const all = micros[v] ?? [];
      console.log(
        `${w}${indexed ? ' indexed' : ''} ${v.padEnd(8)} ${median(all).toFixed(1)} µs (${all.map((x) => x.toFixed(0)).join(' ')})`,
      );
    }
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${names.map(schema).join(', ')} CASCADE`);
    await client.end();
  }
}

void main();
