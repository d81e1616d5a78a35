/**
 * Schema version 7: a schema created by an open with `searchIndex: false` gets no search
 * machinery (per searchable table the GIN index, the partial index of unindexed rows and the
 * six stats triggers) until a writable open with the index on needs it.
 *
 * Version 2 gave every store that machinery so that it can be indexed later, and every write
 * paid for it with the index off too: the GIN index takes a null entry per row and the partial
 * index every row, and the statement triggers' transition tables capture every row the
 * triggers then skip. A memory upsert's executor time was 20.4 µs with it and 10.4 without
 * (a server-side loop of 20,000), and the library's `storeMemory` in a loop 1.22–1.33x as fast
 * without it (five runs; `docs/performance-history.md`).
 *
 * The machinery sleeps from the creation on (`search_machinery = 'dormant'` in `storage_meta`)
 * and wakes once, for good: the first writable open with the index on creates it under the
 * schema's advisory lock, counts `search_stats` afresh in the same transaction (the triggers'
 * locks hold writers off until it commits, so the count is exact) and clears the mark; then it
 * indexes the rows as any open does (`search-index.ts`). While it sleeps, rows get index
 * columns only from an index-on process whose open could not wake it (a server refusing
 * writes): its first search or rebuild wakes it, and the recount takes them in. An older
 * library version, which would write them without the triggers and never wake it, refuses the
 * schema (newer than it knows). A schema created with the index on, or upgraded from version 6, keeps
 * its machinery: nothing here ever drops it from a store that may hold an index.
 */
import type { PostgresConnection, Queryable } from './connection.js';
import { refuseMissingDdlRights } from './schema-privileges.js';
import { STATS_TRIGGER_EVENTS, statsTriggerDdl } from './schema-v4.js';
import { POSTGRES_SCHEMA_VERSION } from './schema-version.js';
import { SEARCHABLE_TABLES, searchIndexDdl } from './search-schema.js';
import { quoteIdent } from './sql.js';

/** The `storage_meta` key whose value `dormant` says the search machinery sleeps. */
export const MACHINERY_KEY = 'search_machinery';

/** The DDL of version 7: none; the version number itself says that a schema's machinery may sleep. */
export function schemaVersion7(): string[] {
  return [];
}

/** Puts the machinery of a schema just created (in the same transaction, its tables empty) to sleep. */
export function dormantMachineryDdl(s: string): string[] {
  const ddl: string[] = [];
  for (const table of SEARCHABLE_TABLES) {
    for (const event of STATS_TRIGGER_EVENTS) {
      ddl.push(
        `DROP TRIGGER ${table}_search_flag_${event} ON ${s}.${table}`,
        `DROP TRIGGER ${table}_search_${event} ON ${s}.${table}`,
      );
    }
    ddl.push(`DROP INDEX ${s}.${table}_search, ${s}.${table}_unindexed`);
  }
  ddl.push(`INSERT INTO ${s}.storage_meta (key, value) VALUES ('${MACHINERY_KEY}', 'dormant')`);
  return ddl;
}

/** Wakes the machinery: its indexes and triggers, `search_stats` counted afresh, the mark cleared. */
function wakeDdl(s: string): string[] {
  const ddl = SEARCHABLE_TABLES.flatMap((table) => [
    ...searchIndexDdl(s, table),
    ...statsTriggerDdl(s, table),
  ]);
  const counts = SEARCHABLE_TABLES.map(
    (table) =>
      `SELECT '${table}', 0, count(search_length), coalesce(sum(search_length), 0) FROM ${s}.${table}`,
  );
  ddl.push(
    `DELETE FROM ${s}.search_stats`,
    `INSERT INTO ${s}.search_stats (table_name, shard, docs, total) ${counts.join(' UNION ALL ')}`,
    `DELETE FROM ${s}.storage_meta WHERE key = '${MACHINERY_KEY}'`,
  );
  return ddl;
}

/**
 * Takes the schema's advisory lock for a creation, upgrade or wake, in the transaction of `q`,
 * waiting as long as the holder's DDL takes. A `lock_timeout` (from the URL or the role) would
 * fail the wait instead: four processes opening a new schema at once with `?lock_timeout=200`
 * had three fail "canceling statement due to lock timeout" (until 2026-12-06). Every wait of
 * the transaction stays bounded by `statement_timeout`, and `SET LOCAL` ends with it.
 */
export async function lockSchemaChanges(q: Queryable, schema: string): Promise<void> {
  await q.run('SET LOCAL lock_timeout = 0');
  await q.rows('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
    'connectome-storage schema',
    schema,
  ]);
}

/**
 * Wakes the sleeping search machinery of `schema` (see the file's comment); does nothing when
 * another process woke it first. Needs the DDL rights of an upgrade: a role without them gets
 * a {@link ConfigError} before any DDL.
 */
export async function wakeSearchMachinery(db: PostgresConnection, schema: string): Promise<void> {
  const s = quoteIdent(schema);
  await db.transaction(`create the search index machinery of schema ${JSON.stringify(schema)}`, async (q) => {
    await lockSchemaChanges(q, schema);
    const [row] = await q.rows<{ value: string }>(
      `SELECT value FROM ${s}.storage_meta WHERE key = '${MACHINERY_KEY}'`,
    );
    if (row?.value !== 'dormant') return;
    await refuseMissingDdlRights(
      q,
      schema,
      POSTGRES_SCHEMA_VERSION,
      db.label,
      'was created with searchIndex: false and needs its search index machinery created for searchIndex: true',
    );
    await q.run(wakeDdl(s).join(';\n'));
  });
}
