/**
 * Conversions between the library's records and the reference's rows. The reference keeps
 * `memory_id`/`created_at` of a memory and `stored_at` of a chain in columns, not in the
 * JSON text, and adds them back on load; so do we, which keeps our rows readable by it.
 */
import {
  type JsonObject,
  type JsonValue,
  parseEach,
  parseStoredJsonObject,
  type SkipItem,
} from '../../core/index.js';
import { quoteName } from '../../core/shown-text.js';

/** The attributes of an own enumerable data property, as a spread copies it. */
const OWN_FIELD = { enumerable: true, writable: true, configurable: true } as const;

/** A row of `memories` as read. */
export interface MemoryRow {
  memory_id: string;
  memory_data: string;
  created_at: string;
}

/** A row of `reasoning_chains` as read. */
export interface ChainRow {
  id: number;
  chain_data: string;
  created_at: string;
}

/** A record split into what goes into the JSON text column and what goes into its timestamp column. */
export interface RowParts {
  /** The record as JSON text, without the fields kept in columns. */
  json: string;
  /** The value for the timestamp column (`created_at`): always well-formed text. */
  timestamp: string;
}

/**
 * Splits a record for writing. The id fields in `idColumns` live in their own columns only.
 * A well-formed string `timestampField` also lives in its column only, as the reference keeps
 * it there. Any other value the caller chose (a number, `null`, an object) cannot go into that
 * `TEXT NOT NULL` column without changing type or failing, and a string with a lone surrogate
 * not without changing (the driver binds UTF-8, turning it into U+FFFD): it stays in the JSON
 * text, which escapes it and wins on load (see {@link memoryFromRow}), and the column gets
 * `fallback` (the write time, or the row's previous value), which keeps the row readable by the
 * reference. So the column's timestamp is always well-formed.
 */
export function toRowParts(
  record: JsonObject,
  idColumns: readonly string[],
  timestampField: string,
  fallback: string,
): RowParts {
  const value = record[timestampField];
  const inColumn = typeof value === 'string' && value.isWellFormed();
  // Copied key by key rather than spread and `delete`d: deleting the first key turns the copy
  // into a dictionary, which `JSON.stringify` walks at about twice the cost.
  const rest: JsonObject = {};
  for (const key of Object.keys(record)) {
    if (idColumns.includes(key) || (inColumn && key === timestampField)) continue;
    // An own `__proto__` (JSON.parse makes one) set by assignment would change the prototype.
    if (key === '__proto__') Object.defineProperty(rest, key, { ...OWN_FIELD, value: record[key] });
    else rest[key] = record[key] as JsonValue;
  }
  return { json: JSON.stringify(rest), timestamp: inColumn ? value : fallback };
}

/**
 * The loaded memory for a row: `{ memory_id, created_at, ...memory_data }`. A `created_at`
 * inside the JSON text, of any type, wins over the column: the reference wrote the caller's own
 * timestamp there and "now" in the column (D8), and this library keeps a timestamp that is not
 * well-formed text there (see {@link toRowParts}). The `memory_id` column always wins: it is the record's id (D7).
 * Written out per kind (no generic merge loop): this runs once per loaded row.
 */
export function memoryFromRow(row: MemoryRow, conversationId: string): JsonObject {
  const data = parseStoredJsonObject(
    row.memory_data,
    () => `memories row (conversation ${quoteName(conversationId)}, memory ${quoteName(row.memory_id)})`,
  );
  const record: JsonObject = { memory_id: row.memory_id, created_at: row.created_at, ...data };
  if (Object.hasOwn(data, 'memory_id')) record.memory_id = row.memory_id;
  return record;
}

/** The loaded chain for a row: `{ stored_at, ...chain_data }` (a `stored_at` in the JSON text wins, as above). */
export function chainFromRow(row: ChainRow, agentId: string): JsonObject {
  const data = parseStoredJsonObject(
    row.chain_data,
    () => `reasoning_chains row ${row.id} (agent ${quoteName(agentId)})`,
  );
  return { stored_at: row.created_at, ...data };
}

/** The loaded memories of a conversation's rows; with `skip`, a row that does not parse goes there by its memory id. */
export function memoriesFromRows(
  rows: readonly MemoryRow[],
  conversationId: string,
  skip?: SkipItem,
): JsonObject[] {
  return parseEach(
    rows,
    skip,
    (row) => memoryFromRow(row, conversationId),
    (row) => row.memory_id,
  );
}
