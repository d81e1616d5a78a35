/**
 * Schema version 5: `getStorageStats()` runs a function of the schema, `storage_stats`, same data.
 *
 * The stats were one statement with two parameters (the caller's "now" and the schema name).
 * PostgreSQL plans a prepared statement with parameters afresh on each of its first five runs
 * on a connection (a "custom plan") before it settles on a cached one, and planning ten
 * subqueries over nine tables and their indexes (a file size look-up per relation) cost about
 * as much as running them: a store asks for its stats a few times, so most calls paid it, and
 * with `preparedStatements: false` every call did. The function's counting and sizing query
 * has no parameter, so PL/pgSQL plans it once per connection and reuses the plan; only the
 * count of live cache entries takes "now" (one small table). The function is `STABLE`, so
 * both of its queries read the snapshot of the calling statement: the counts still describe
 * one moment. The sizes are unchanged: `pg_total_relation_size` of every table (heap, maps,
 * TOAST, every index).
 */
import { dollarQuote } from './dollar-quote.js';

/** The OUT columns of `storage_stats`, in order: the fields of `StatsRow` (sql.ts). */
const STATS_COLUMNS = [
  'conversations',
  'raw_messages',
  'memories',
  'reasoning_chains',
  'agents',
  'chunk_info',
  'system_state',
  'search_entries',
  'table_bytes',
] as const;

/** The DDL of version 5 for the schema `s` (quoted). */
export function schemaVersion5(s: string): string[] {
  // The schema as a `regnamespace` literal: `s` is already a quoted identifier.
  const namespace = `'${s.replaceAll("'", "''")}'::regnamespace`;
  const outs = STATS_COLUMNS.map((c) => `OUT ${c} ${c === 'table_bytes' ? 'text' : 'float8'}`);
  return [
    `CREATE FUNCTION ${s}.storage_stats(live_after timestamptz, OUT cache_entries float8, ${outs.join(', ')})
      LANGUAGE plpgsql STABLE AS ${dollarQuote(`
BEGIN
  SELECT
    (SELECT count(*) FROM ${s}.conversations)::float8,
    (SELECT count(*) FROM ${s}.raw_messages)::float8,
    (SELECT count(*) FROM ${s}.memories)::float8,
    (SELECT count(*) FROM ${s}.reasoning_chains)::float8,
    (SELECT count(DISTINCT agent_id) FROM ${s}.reasoning_chains)::float8,
    (SELECT count(*) FROM ${s}.chunk_info)::float8,
    (SELECT count(*) FROM ${s}.system_state)::float8,
    (SELECT coalesce(sum(docs), 0) FROM ${s}.search_stats)::float8,
    (SELECT json_object_agg(c.relname, pg_total_relation_size(c.oid)::float8 ORDER BY c.relname)
      FROM pg_catalog.pg_class c WHERE c.relnamespace = ${namespace} AND c.relkind IN ('r', 'p'))::text
  INTO ${STATS_COLUMNS.join(', ')};
  SELECT count(*)::float8 INTO cache_entries FROM ${s}.cache_entries
    WHERE expires_at IS NULL OR expires_at > live_after;
END`)}`,
  ];
}
