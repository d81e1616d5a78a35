/**
 * The statements of `getStorageStats()` besides the schema's `storage_stats` function: the
 * counts alone, and the counts with the table sizes measured only when the server may have
 * changed a file since this store's last measurement (see {@link statsGuardedSql}).
 */

/** The count columns of every stats statement, the same as `storage_stats` (schema-v5.ts). $1: now. */
function countColumns(s: string): string {
  return `(SELECT count(*) FROM ${s}.conversations)::float8 AS conversations,
      (SELECT count(*) FROM ${s}.raw_messages)::float8 AS raw_messages,
      (SELECT count(*) FROM ${s}.memories)::float8 AS memories,
      (SELECT count(*) FROM ${s}.reasoning_chains)::float8 AS reasoning_chains,
      (SELECT count(DISTINCT agent_id) FROM ${s}.reasoning_chains)::float8 AS agents,
      (SELECT count(*) FROM ${s}.chunk_info)::float8 AS chunk_info,
      (SELECT count(*) FROM ${s}.cache_entries
        WHERE expires_at IS NULL OR expires_at > $1::timestamptz)::float8 AS cache_entries,
      (SELECT count(*) FROM ${s}.system_state)::float8 AS system_state,
      (SELECT coalesce(sum(docs), 0) FROM ${s}.search_stats)::float8 AS search_entries`;
}

/**
 * The counts without the sizes, for a store that reuses recent sizes (`statsSizeMaxAgeMillis`):
 * one statement, so they still describe one snapshot. $1: now.
 */
export function statsCountsSql(s: string): string {
  return `SELECT ${countColumns(s)}, NULL::text AS table_bytes`;
}

/**
 * The counts, and the sizes of the schema's tables only when a file may have changed since the
 * measurement the caller holds. $1: now; $2: the guard's WAL position at that measurement
 * (`pg_lsn` text, null: measure); $3: the tables and TOAST tables it measured (`oid[]`, null:
 * the schema's now); $4: the sum of their vacuum counts then.
 *
 * Why this is exact: a table's files grow when a backend extends them for rows it then writes
 * to the WAL, and shrink or are replaced by statements that write the WAL first and hold a lock
 * that `pg_total_relation_size` waits for; so once the guard's WAL position (the insert
 * position, or the replay position on a standby) is read before the files are measured, a
 * later call that reads the same position sees the same files. The one change the WAL does not
 * record is a free space map a `VACUUM` fills while it writes nothing else (the map is never
 * WAL-logged), so the vacuum counts of the tables and their TOAST tables, which a vacuum
 * reports as it ends, are part of the guard. Unlogged tables write no WAL: when a measured
 * table is not permanent, the measurement says so (`permanent`) and is never reused.
 *
 * The guard is a subquery with `OFFSET 0`, so it is read before the target list whose `CASE`
 * runs the sizes (an init plan, only run when its branch is taken). The parameters are
 * sub-selects, hidden from the planner: folded in as constants they made every plan with the
 * values look cheaper than the cached one, so each call was planned afresh (80 of 80 in a
 * probe). The sizes come back as JSON `{bytes: {table: bytes}, oids: [...], permanent: bool}`,
 * null when reused.
 */
export function statsGuardedSql(s: string, namespace: string): string {
  const oids = `array_agg(c.oid) || array_remove(array_agg(c.reltoastrelid), 0::oid)`;
  const tables = `FROM pg_catalog.pg_class c WHERE c.relnamespace = ${namespace} AND c.relkind IN ('r', 'p')`;
  return `SELECT g.lsn::text AS lsn, g.vacuums::text AS vacuums, ${countColumns(s)},
      CASE WHEN g.lsn = (SELECT $2::pg_lsn) AND g.vacuums = (SELECT $4::numeric) THEN NULL ELSE (SELECT json_build_object(
        'bytes', json_object_agg(c.relname, pg_total_relation_size(c.oid)::float8 ORDER BY c.relname),
        'oids', ${oids},
        'permanent', bool_and(c.relpersistence = 'p')) ${tables})::text END AS sizes
    FROM (SELECT
        CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END AS lsn,
        (SELECT coalesce(sum(pg_stat_get_vacuum_count(o) + pg_stat_get_autovacuum_count(o)), 0)
          FROM unnest(coalesce((SELECT $3::oid[]), (SELECT ${oids} ${tables}))) AS o) AS vacuums
      OFFSET 0) AS g`;
}
