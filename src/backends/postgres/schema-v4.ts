/**
 * Schema version 4: the search-stats triggers cost nothing on writes that touch no indexed row
 * (every write with `searchIndex: false`), same data.
 *
 * Version 2's statement-level triggers ran a PL/pgSQL function that counted both transition
 * tables after every write, also when no row had index columns (the answer was then 0): on
 * one connection, about 0.1 ms of server CPU per memory upsert, a third of the statement.
 * Now a BEFORE row trigger whose `WHEN` is true only for a row that has (or had) index columns
 * sets a transaction-local flag, and the statement-level triggers run only when that flag is
 * on. The flag only enables the exact count, never replaces it: a statement whose rows were
 * never indexed contributes 0, which is what skipping it adds. Once set, the flag stays on
 * until the transaction ends and the row triggers' `WHEN` skips them, so a statement writing
 * many indexed rows calls the flag function once, not once per row.
 *
 * Row-level stats triggers alone would have been cheaper still for one row, but a statement
 * writing many rows would update the same stats row once per row (see `schema-v3.ts`).
 */
import { SEARCHABLE_TABLES } from './search-schema.js';
import { dollarQuote } from './dollar-quote.js';

/** The transaction-local setting the row triggers turn on when a statement touches an indexed row. */
export const STATS_FLAG = 'connectome_storage.search_stats';

const flagOn = `current_setting('${STATS_FLAG}', true) = 'on'`;
const flagOff = `current_setting('${STATS_FLAG}', true) IS DISTINCT FROM 'on'`;

/** When a row of each event counts for the stats: it has index columns before or after. */
const INDEXED_ROW: ReadonlyArray<readonly [event: string, when: string]> = [
  ['insert', 'NEW.search_length IS NOT NULL'],
  ['update', '(OLD.search_length IS NOT NULL OR NEW.search_length IS NOT NULL)'],
  ['delete', 'OLD.search_length IS NOT NULL'],
];

/** Events of the stats triggers, which each take one (a trigger with transition tables may take only one). */
export const STATS_TRIGGER_EVENTS: readonly string[] = INDEXED_ROW.map(([event]) => event);

/**
 * The stats triggers of the searchable `table` in the schema `s` (quoted) as version 4 made
 * them: per event, the row trigger that sets the flag and the statement trigger it enables.
 */
export function statsTriggerDdl(s: string, table: string): string[] {
  return INDEXED_ROW.flatMap(([event, when]) => {
    const old = event === 'insert' ? '' : 'OLD TABLE AS old_rows';
    const tables = `REFERENCING ${event === 'delete' ? '' : 'NEW TABLE AS new_rows'} ${old}`;
    return [
      `CREATE TRIGGER ${table}_search_flag_${event} BEFORE ${event.toUpperCase()} ON ${s}.${table}
          FOR EACH ROW WHEN (${when} AND ${flagOff}) EXECUTE FUNCTION ${s}.search_stats_flag()`,
      `CREATE TRIGGER ${table}_search_${event} AFTER ${event.toUpperCase()} ON ${s}.${table}
          ${tables} FOR EACH STATEMENT WHEN (${flagOn}) EXECUTE FUNCTION ${s}.search_stats_track()`,
    ];
  });
}

/** The DDL of version 4 for the schema `s` (quoted). */
export function schemaVersion4(s: string): string[] {
  const ddl = [
    `CREATE FUNCTION ${s}.search_stats_flag() RETURNS trigger LANGUAGE plpgsql AS ${dollarQuote(`
BEGIN
  PERFORM set_config('${STATS_FLAG}', 'on', true);
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END`)}`,
  ];
  for (const table of SEARCHABLE_TABLES) {
    for (const event of STATS_TRIGGER_EVENTS)
      ddl.push(`DROP TRIGGER ${table}_search_${event} ON ${s}.${table}`);
    ddl.push(...statsTriggerDdl(s, table));
  }
  return ddl;
}
