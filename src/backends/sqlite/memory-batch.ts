/**
 * A memory batch's rows in a fixed number of statements: one read of the ids that already
 * exist, one `INSERT` for every new id and one `UPDATE` for every id replaced in place, instead
 * of a read and a write per record. The result equals `upsertMemoryRow` called for each write in
 * order (D7): a new id gets the next row id in order of first appearance, a repeated or
 * existing id keeps its row and ends with its last write, and the written rows handed to the
 * search index are the loop's, one per write.
 */
import {
  type BatchName,
  batchText,
  type MemoryWrite,
  nowTimestamp,
  replaceMemoryRecord,
} from '../../core/index.js';
import type { WrittenMemoryRow } from './batches.js';
import type { Transaction } from './connection.js';
import { memoryFromRow, type MemoryRow, type RowParts, toRowParts } from './rows.js';

const MEMORY_BATCH_SQL = {
  // Parameters: conversation id, a JSON array of memory ids.
  selectExisting: `SELECT id, memory_id, memory_data, created_at FROM memories
    WHERE conversation_id = ? AND memory_id IN (SELECT value FROM json_each(?))`,
  // Parameters: conversation id, a JSON array of `[memory_id, memory_data, created_at]`. Rows go
  // in array order, so AUTOINCREMENT numbers them in that order; RETURNING's order is unspecified.
  insertNew: `INSERT INTO memories (conversation_id, memory_id, memory_data, created_at)
    SELECT ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) ORDER BY key RETURNING id`,
  // Parameter: a JSON array of `[row id, memory_data, created_at]`, one per row replaced (each
  // once: its last write). One statement for every row replaced in place, each found by its
  // row id (json_each outside, a rowid seek per row), where an UPDATE per row was a round trip
  // through the driver's thread pool each.
  updateExisting: `UPDATE memories SET memory_data = j.value ->> 1, created_at = j.value ->> 2
    FROM json_each(?) AS j WHERE memories.id = j.value ->> 0`,
} as const;

/**
 * A new row of `insertNew`: memory id, `memory_data` JSON text, `created_at`, and for a fast
 * write with the index on (fast-writes.ts) its entry's body.
 */
export type NewMemoryRow = [memoryId: string, json: string, createdAt: string, body?: string];

/**
 * The parameter of `insertNew`. Rows that fit one call each can add up to more than one string
 * holds: a `ValidationError` naming the batch (`name`), thrown before the insert.
 */
export function newMemoryRowsJson(name: () => BatchName, rows: readonly NewMemoryRow[]): string {
  return batchText(name, () => JSON.stringify(rows));
}

/** What one memory id's row holds after the writes so far. */
interface RowState {
  /** The stored row id; null for a new id until the insert. */
  id: number | null;
  row: RowParts;
}

/**
 * Upserts `writes` in order in `q`'s transaction; returns the rows written, one per write. New
 * rows too large together for one parameter text are a `ValidationError` naming the batch
 * (`name`), thrown before the first insert or update.
 */
export async function upsertMemoryRows(
  q: Transaction,
  conversationId: string,
  writes: readonly MemoryWrite[],
  name: () => BatchName,
): Promise<WrittenMemoryRow[]> {
  const ids = [...new Set(writes.map((w) => w.memoryId))];
  const found = await q.all<MemoryRow & { id: number }>(MEMORY_BATCH_SQL.selectExisting, [
    conversationId,
    JSON.stringify(ids),
  ]);
  const state = new Map<string, RowState>();
  for (const row of found) {
    state.set(row.memory_id, {
      id: Number(row.id),
      row: { json: row.memory_data, timestamp: row.created_at },
    });
  }
  const written: Array<Omit<WrittenMemoryRow, 'id'>> = [];
  for (const write of writes) {
    const before = state.get(write.memoryId);
    // The record as a load would return the row so far (what upsertMemoryRow reads back).
    const record = before
      ? replaceMemoryRecord(
          memoryFromRow(
            { memory_id: write.memoryId, memory_data: before.row.json, created_at: before.row.timestamp },
            conversationId,
          ),
          write,
        )
      : write.record;
    const row = toRowParts(record, ['memory_id'], 'created_at', before?.row.timestamp ?? nowTimestamp());
    state.set(write.memoryId, { id: before?.id ?? null, row });
    written.push({ memoryId: write.memoryId, json: row.json, createdAt: row.timestamp, replaced: !!before });
  }
  // Map order is first appearance: new ids are inserted in the loop's order.
  const added = [...state].filter(([, s]) => s.id === null);
  if (added.length > 0) {
    const values = added.map(([memoryId, s]): NewMemoryRow => [memoryId, s.row.json, s.row.timestamp]);
    const json = newMemoryRowsJson(name, values);
    const inserted = await q.all<{ id: number }>(MEMORY_BATCH_SQL.insertNew, [conversationId, json]);
    const rowIds = inserted.map((r) => Number(r.id)).sort((a, b) => a - b);
    added.forEach(([, s], i) => (s.id = rowIds[i]!));
  }
  if (found.length > 0) {
    const values = found.map((row) => {
      const s = state.get(row.memory_id)!;
      return [s.id, s.row.json, s.row.timestamp];
    });
    await q.run(MEMORY_BATCH_SQL.updateExisting, [batchText(name, () => JSON.stringify(values))]);
  }
  return written.map((w) => ({ ...w, id: state.get(w.memoryId)!.id! }));
}
