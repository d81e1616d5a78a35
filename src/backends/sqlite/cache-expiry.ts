/**
 * Cache expiry on SQLite. Expiry timestamps in the canonical format are compared in SQL;
 * rows whose `expires_at` has any other form (written by the reference or another program)
 * are decided by the core's `isCacheExpired`, so listing, stats and purge agree exactly
 * with `loadCacheEntry` (see `CANONICAL` in `sql.ts` for why SQLite's parser cannot). A
 * value that is not text (a BLOB) comes as a text naming its type (`expiryText` in `sql.ts`),
 * no time, so expired here as in loads.
 */
import { formatEpochMs, isCacheExpired, parseStoredJson } from '../../core/index.js';
import type { SqliteConnection } from './connection.js';
import { SQL } from './sql.js';

/** `[cache_key, expires_at]` pairs of rows whose expiry is not in the canonical format. */
type OtherFormatRows = Array<[string, string]>;

/** Parses the JSON array of `[key, expires_at]` pairs an SQL statement built. */
function otherFormatRows(json: string, where: string): OtherFormatRows {
  return parseStoredJson(json, where) as OtherFormatRows;
}

/** The rows among `rows` whose expiry the core considers past (`expired`) or not at `nowMs`. */
function byExpiry(rows: OtherFormatRows, nowMs: number, expired: boolean): OtherFormatRows {
  return rows.filter(([, expiresAt]) => isCacheExpired(expiresAt, nowMs) === expired);
}

/** Keys of cache entries live at `nowMs` (unsorted). */
export async function listLiveCacheKeys(db: SqliteConnection, nowMs: number): Promise<string[]> {
  type Row = { live: string; other: string };
  const [row] = await db.all<Row>('list cache keys', SQL.listCacheKeys, [formatEpochMs(nowMs)]);
  if (row === undefined) return [];
  const live = parseStoredJson(row.live, 'cache_entries keys') as string[];
  const other = byExpiry(otherFormatRows(row.other, 'cache_entries expiries'), nowMs, false);
  return [...live, ...other.map(([key]) => key)];
}

/** How many of the stats query's other-format entries are live at `nowMs`. */
export function countLiveOtherFormat(json: string, nowMs: number): number {
  return byExpiry(otherFormatRows(json, 'cache_entries expiries'), nowMs, false).length;
}

/**
 * Deletes every entry expired at `nowMs` and returns how many: one indexed DELETE for
 * canonical expiries, then the (usually no) other-format rows the core says have expired.
 * Those are deleted only while they still hold the expiry that was judged, so an entry
 * stored again in between (by another process) is never removed; that makes each delete
 * safe on its own, and no write transaction is opened when there is nothing to delete.
 */
export async function purgeExpiredCache(db: SqliteConnection, nowMs: number): Promise<number> {
  const what = 'purge expired cache entries';
  let removed = await db.run(what, SQL.deleteExpiredCanonicalCache, [formatEpochMs(nowMs)]);
  const [row] = await db.all<{ other: string }>(what, SQL.selectOtherFormatCache);
  const expired = byExpiry(otherFormatRows(row?.other ?? '[]', 'cache_entries expiries'), nowMs, true);
  if (expired.length > 0) {
    removed += await db.transaction(what, async (q) => {
      let n = 0;
      for (const [key, at] of expired) n += await q.run(SQL.deleteCacheIfExpiry, [key, at]);
      return n;
    });
  }
  return removed;
}
