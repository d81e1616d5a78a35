/**
 * Rows changed in place by a `searchIndex: false` writer while an index exists (another
 * process's indexed instance opened the file after it). Rows such a writer inserts lie past
 * their kind's high-water mark and are caught up, but an `UPDATE` keeps the row's rowid, so the
 * marks cannot see it: the entry would keep the old text, and searches would miss the new words
 * and (checked against the row) drop the old ones. So that writer records each row it changes in
 * place in `search_dirty`; while any row is marked the freshness check counts every kind as
 * behind, and the catch-up (or reconcile) reindexes them all and clears the marks (so a search
 * of other kinds does not leave them for the next). A read-only store scans then.
 */
import type { SearchKind } from '../../core/index.js';
import type { Transaction } from './connection.js';
import type { SearchSync } from './search-entries.js';
import { KIND_CODES, KIND_TABLES } from './search-sql.js';

/**
 * Only while the index exists: with none (the usual `searchIndex: false` file), the next indexed
 * open indexes every row anyway, so marks would only cost writes. A constant condition, which
 * SQLite evaluates once before reading any row.
 */
const INDEX_EXISTS =
  "EXISTS (SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'search_docs')";

/** Marks the rows whose base rowid `rows` (a `SELECT` of one column `base`) returns as changed in place. */
export function markDirty(kind: SearchKind, rows: string): string {
  return `INSERT OR IGNORE INTO main.search_dirty (kind, base)
    SELECT ${KIND_CODES[kind]}, base FROM (${rows}) WHERE ${INDEX_EXISTS}`;
}

/** Marks the rows of the scope `scope` (an SQL expression: `?1`, or `new.id` in a trigger). */
export function markScopeDirty(kind: SearchKind, scope = '?1'): string {
  const k = KIND_TABLES[kind];
  return markDirty(kind, `SELECT ${k.base} AS base FROM main.${k.table} WHERE ${k.scope} = ${scope}`);
}

/** 1 when any row is marked, else 0 (one seek on the primary key). */
export const ANY_DIRTY = '(SELECT min(kind) FROM main.search_dirty) IS NOT NULL';

/** Takes every mark: deletes them and returns them. */
export const TAKE_DIRTY = 'DELETE FROM main.search_dirty RETURNING kind, base';

/**
 * With the index off: marks the rows a write changed in place (`reindex`), so another process's
 * indexed instance reindexes them; new rows need no mark (they lie past the marks).
 */
export async function markChanged(
  q: Transaction,
  kind: SearchKind,
  scope: string,
  reindex: SearchSync['reindex'],
): Promise<void> {
  if (reindex === 'scope') await q.run(markScopeDirty(kind), [scope]);
  else if (reindex !== undefined && reindex.length > 0) {
    await q.run(markDirty(kind, 'SELECT value AS base FROM json_each(?1)'), [JSON.stringify(reindex)]);
  }
}
