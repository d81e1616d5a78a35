/**
 * Conversions between the library's records and the backend's rows: JSON text parsed back
 * with the row named in any error, and memories split into columns and rebuilt.
 */
import {
  type CacheRecord,
  type JsonObject,
  type JsonValue,
  parseStoredJson,
  parseEach,
  parseStoredJsonObject,
  parseTimestamp,
  type SkipItem,
  type StoredLocation,
} from '../../core/index.js';

/** A row of `memories` as read. */
export interface MemoryRow {
  memory_id: string;
  /** JSON text of the record's `created_at`. */
  created_at: string;
  /** JSON text of the record without `memory_id` and `created_at`. */
  memory_data: string;
}

/** The column values that store a memory record: `created_at` and the rest, as JSON text. */
export function memoryColumns(record: JsonObject): { createdAt: string; data: string } {
  const { createdAt, rest } = memoryParts(record);
  return { createdAt, data: JSON.stringify(rest) };
}

/** {@link memoryColumns} with the rest of the record as an object (whose JSON text is `data`). */
export function memoryParts(record: JsonObject): { createdAt: string; rest: JsonObject } {
  // A copy without the two keys rather than a spread and `delete`, which turns the copy into a
  // slow dictionary object (about twice the time to stringify). No prototype, so a
  // `"__proto__"` key is copied as an own key like any other.
  const rest = Object.create(null) as JsonObject;
  for (const key of Object.keys(record)) {
    if (key !== 'memory_id' && key !== 'created_at') rest[key] = record[key] as JsonValue;
  }
  return { createdAt: JSON.stringify(record.created_at ?? null), rest };
}

/**
 * The loaded memory for a row. The core builds every record as `{ memory_id, created_at,
 * ...data }`, so putting the two columns first gives back its exact key order.
 */
export function memoryFromRow(row: MemoryRow, location: StoredLocation): JsonObject {
  const createdAt = parseStoredJson(row.created_at, location);
  const rest = parseStoredJsonObject(row.memory_data, location);
  return { memory_id: row.memory_id, created_at: createdAt, ...rest };
}

/** The loaded memories of rows (`where(row)`: its location); with `skip`, a bad row goes there by its memory id. */
export function memoriesFromRows(
  rows: readonly MemoryRow[],
  where: (row: MemoryRow) => StoredLocation,
  skip?: SkipItem,
): JsonObject[] {
  return parseEach(
    rows,
    skip,
    (row) => memoryFromRow(row, where(row)),
    (row) => row.memory_id,
  );
}

/** "Now" (or any instant) as a `timestamptz` parameter. */
export const instant = (epochMs: number): string => new Date(epochMs).toISOString();

/**
 * The expiry instant to index for a cache record: `null` for none, `-infinity` for a value
 * the core's own check cannot parse (it counts as expired there too). A fraction of a
 * millisecond (the reference writes microseconds) is rounded UP to the next millisecond: the
 * core calls an entry expired when `expiry <= now` with `now` in whole milliseconds
 * (`Date.now()`), and `ceil(expiry) <= now` holds exactly then, so listing, counting and purging
 * in SQL agree with loads. Truncated (as `new Date()` does), an entry expiring at `.000500`
 * was purged, and left out of lists, at `.000` while a load still returned it.
 */
export function expiryInstant(expiresAt: string | null): string | null {
  if (expiresAt === null) return null;
  const at = parseTimestamp(expiresAt);
  return at === null ? '-infinity' : instant(Math.ceil(at));
}

/** The time columns of a cache row: stored_at, expires_at text, expiry instant. */
export function cacheTimeColumns(record: CacheRecord): [string, string | null, string | null] {
  return [record.storedAt, record.expiresAt, expiryInstant(record.expiresAt)];
}

/** The column values of a cache row: key, data JSON, then {@link cacheTimeColumns}. */
export function cacheRowValues(
  cacheKey: string,
  record: CacheRecord,
): [string, string, string, string | null, string | null] {
  return [cacheKey, JSON.stringify(record.data), ...cacheTimeColumns(record)];
}
