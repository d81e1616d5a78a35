/**
 * Conversions between the library's records and the reference's rows. The reference keeps
 * `memory_id`/`created_at` of a memory and `stored_at` of a chain in columns, not in the
 * JSON text, and adds them back on load; so do we, which keeps our rows readable by it.
 */
import { type JsonObject, parseStoredJsonObject } from '../../core/index.js';

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
  /** The value for the timestamp column (`created_at`). */
  timestamp: string;
}

/**
 * Splits a record for writing. The id fields in `idColumns` live in their own columns only.
 * A string `timestampField` also lives in its column only, as the reference keeps it there.
 * Any other value the caller chose (a number, `null`, an object) cannot go into that
 * `TEXT NOT NULL` column without changing type or failing, so it stays in the JSON text
 * (which wins on load, see {@link memoryFromRow}) and the column gets `fallback` (the write
 * time, or the row's previous value), which keeps the row readable by the reference.
 */
export function toRowParts(
  record: JsonObject,
  idColumns: readonly string[],
  timestampField: string,
  fallback: string,
): RowParts {
  const rest: JsonObject = { ...record };
  for (const column of idColumns) delete rest[column];
  const value = record[timestampField];
  if (typeof value === 'string') {
    delete rest[timestampField];
    return { json: JSON.stringify(rest), timestamp: value };
  }
  return { json: JSON.stringify(rest), timestamp: fallback };
}

/**
 * Rebuilds a record from its JSON text and column values: `{ [name]: column, ...data }`.
 * The timestamp `keepFromData` inside the JSON text, of any type, wins over the column: the
 * reference wrote the caller's own timestamp there and "now" in the column (D8), and this
 * library keeps a non-string timestamp there (see {@link toRowParts}). Other columns (ids)
 * always win: the id argument is the record's id (D7).
 */
function mergeColumns(data: JsonObject, columns: Record<string, string>, keepFromData: string): JsonObject {
  const record: JsonObject = { ...columns, ...data };
  for (const [name, value] of Object.entries(columns)) {
    if (name !== keepFromData || !Object.hasOwn(data, name)) record[name] = value;
  }
  return record;
}

/** The loaded memory for a row: `{ memory_id, created_at, ...memory_data }`. */
export function memoryFromRow(row: MemoryRow, conversationId: string): JsonObject {
  const location = `memories row (conversation ${JSON.stringify(conversationId)}, memory ${JSON.stringify(row.memory_id)})`;
  const data = parseStoredJsonObject(row.memory_data, location);
  return mergeColumns(data, { memory_id: row.memory_id, created_at: row.created_at }, 'created_at');
}

/** The loaded chain for a row: `{ stored_at, ...chain_data }`. */
export function chainFromRow(row: ChainRow, agentId: string): JsonObject {
  const location = `reasoning_chains row ${row.id} (agent ${JSON.stringify(agentId)})`;
  const data = parseStoredJsonObject(row.chain_data, location);
  return mergeColumns(data, { stored_at: row.created_at }, 'stored_at');
}
