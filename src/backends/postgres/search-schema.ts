/**
 * Schema version 2: the search index of the PostgreSQL backend (see `search-index.ts`).
 *
 * Every searchable table gets `search_tokens` (a `tsvector` of the core tokenizer's tokens)
 * and `search_length` (the record's length in tokens), a GIN index on the tokens, and a
 * partial index of the rows not indexed yet (`search_length IS NULL`: rows stored before the
 * index existed or while it was turned off; empty once caught up, so checking it is cheap).
 *
 * BM25 needs the corpus size and average length. Counting them at query time would scan
 * every row, so statement-level triggers keep them in `search_stats`, one row per (table,
 * shard); the shard is the writing backend's pid modulo {@link STATS_SHARDS}, so concurrent
 * writers on other connections do not wait on one hot row.
 */
import { dollarQuote } from './dollar-quote.js';

/** Shards of `search_stats` per table: writers on different connections update different rows. */
export const STATS_SHARDS = 16;

/** The searchable tables and their primary key columns (the unindexed-rows index is on them). */
const SEARCHABLE: Readonly<Record<string, string>> = {
  conversations: 'conversation_id',
  raw_messages: 'conversation_id, message_index',
  memories: 'id',
  reasoning_chains: 'id',
  chunk_info: 'conversation_id',
};

/** The tables with index columns and search-stats triggers. */
export const SEARCHABLE_TABLES: readonly string[] = Object.keys(SEARCHABLE);

/**
 * The indexes of the searchable `table` in the schema `s` (quoted): the GIN index of its tokens
 * and the partial index of its rows not indexed yet.
 */
export function searchIndexDdl(s: string, table: string): string[] {
  return [
    `CREATE INDEX ${table}_search ON ${s}.${table} USING gin (search_tokens)`,
    `CREATE INDEX ${table}_unindexed ON ${s}.${table} (${SEARCHABLE[table]!}) WHERE search_length IS NULL`,
  ];
}

/**
 * The body of the stats trigger function around `upsert`, the statement that adds `docs` and
 * `total` to the table's row of the stats table: adds the indexed rows a statement inserted (and
 * the new versions of updated rows), subtracts the ones it deleted (and the old versions).
 */
export function trackBody(upsert: string): string {
  return `
DECLARE
  docs bigint := 0;
  total bigint := 0;
  d bigint;
  t bigint;
BEGIN
  IF TG_OP <> 'DELETE' THEN
    SELECT count(search_length), coalesce(sum(search_length), 0) INTO d, t FROM new_rows;
    docs := docs + d;
    total := total + t;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    SELECT count(search_length), coalesce(sum(search_length), 0) INTO d, t FROM old_rows;
    docs := docs - d;
    total := total - t;
  END IF;
  IF docs <> 0 OR total <> 0 THEN
    ${upsert};
  END IF;
  RETURN NULL;
END`;
}

/** Version 2's body: names the stats table through `TG_TABLE_SCHEMA`, so it never embeds the schema name. */
const TRACK_BODY =
  trackBody(`EXECUTE format('INSERT INTO %I.search_stats AS s (table_name, shard, docs, total) VALUES ($1, $2, $3, $4)
      ON CONFLICT (table_name, shard) DO UPDATE SET docs = s.docs + EXCLUDED.docs, total = s.total + EXCLUDED.total',
      TG_TABLE_SCHEMA)
      USING TG_TABLE_NAME, pg_backend_pid() % ${STATS_SHARDS}, docs, total`);

/** The DDL of version 2 for the schema `s` (quoted). */
export function searchSchemaVersion2(s: string): string[] {
  const ddl = [
    `CREATE TABLE ${s}.search_stats (
      table_name text NOT NULL,
      shard integer NOT NULL,
      docs bigint NOT NULL,
      total bigint NOT NULL,
      PRIMARY KEY (table_name, shard)
    )`,
    `CREATE FUNCTION ${s}.search_stats_track() RETURNS trigger LANGUAGE plpgsql AS ${dollarQuote(TRACK_BODY)}`,
  ];
  for (const table of SEARCHABLE_TABLES) {
    ddl.push(
      `ALTER TABLE ${s}.${table} ADD COLUMN search_tokens tsvector, ADD COLUMN search_length integer`,
      ...searchIndexDdl(s, table),
      // A trigger with transition tables takes one event, hence three.
      `CREATE TRIGGER ${table}_search_insert AFTER INSERT ON ${s}.${table}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.search_stats_track()`,
      `CREATE TRIGGER ${table}_search_update AFTER UPDATE ON ${s}.${table}
        REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.search_stats_track()`,
      `CREATE TRIGGER ${table}_search_delete AFTER DELETE ON ${s}.${table}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.search_stats_track()`,
    );
  }
  return ddl;
}
