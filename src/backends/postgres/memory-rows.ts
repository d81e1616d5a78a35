/**
 * The rows of a memory upsert over many records, and the statements of `storeMemories` (one
 * conversation). A conversation batch's memories go through the whole-conversation batch's
 * statements (`bulk-writes.ts`), whose rows carry their conversation id and search columns;
 * a `storeMemories` sends its conversation id once, its search columns only with the index on,
 * and takes the conversation's shared lock in its row source instead of in an init plan.
 */
import { type BatchName, collapseMemoryWrites, type MemoryWrite } from '../../core/index.js';
import { BulkRows, bulkRowsSql } from './bulk-rows.js';
import type { SqlParam } from './connection.js';
import { memoryParts } from './rows.js';
import type { SearchColumns } from './search-columns.js';
import type { PostgresSearchIndex } from './search-index.js';
import { quoteIdent } from './sql.js';
import { type Statement, statements } from './statements.js';

/** The three forms of a memory upsert: every replace keeps, sets, or looks up its `created_at`. */
export interface MemoryUpserts {
  /** Every replace keeps the stored `created_at` (no record chose one). */
  readonly keep: Statement;
  /** Every replace sets the record's `created_at` (every record chose one). */
  readonly set: Statement;
  /** Each replace looks its row's choice up in the last parameter (some chose, some did not). */
  readonly mixed: Statement;
}

/**
 * The `created_at` a replace sets in the mixed form: the row's own when the JSON object `$<n>`
 * ({conversation id: {memory id: true}} of the rows that chose) holds its ids, else the stored
 * one. As `jsonb` (parsed once: an uncorrelated subquery is an init plan) each `->` and `?` is
 * a binary search of the object's sorted keys, so a batch of n costs O(n log n); a lookup in
 * the rows themselves (a CTE scanned per replaced row) was O(n^2): 20,000 replaces took 28 s.
 */
export function chosenCreatedAt(n: number): string {
  return `CASE WHEN ((SELECT $${n}::jsonb) -> EXCLUDED.conversation_id) ? EXCLUDED.memory_id
        THEN EXCLUDED.created_at ELSE m.created_at END`;
}

/**
 * What a memory upsert does to a row that exists: the record and its search columns replaced,
 * `created_at` set to `createdAt` (`m.created_at`: kept), `updated_at` now.
 */
export function memoryReplace(createdAt: string): string {
  return `ON CONFLICT (conversation_id, memory_id) DO UPDATE SET
      memory_data = EXCLUDED.memory_data,
      search_tokens = EXCLUDED.search_tokens,
      search_length = EXCLUDED.search_length,
      created_at = ${createdAt},
      updated_at = now()`;
}

/**
 * The upserts of `storeMemories` in `schema`: the rows (batch order, so new memories get ids,
 * their positions, in order; a replace keeps its row) from `$1` (records) and the columns
 * {@link oneConversationColumns}; then the conversation id, the namespace of its shared lock
 * (`conversationRowsLock`, sql.ts) and, in the mixed form, the choices ({@link chosenCreatedAt}).
 *
 * The lock is the row source's last function: `ROWS FROM` reads every function's rows before
 * it returns the first row, so it is held before any row is written (as a delete needs, see
 * `conversationRowsLock`). It comes after the statement's snapshot, which an upsert does not
 * mind: its conflicts are checked against the latest committed rows. Taken in an init plan
 * (a `WHERE` on a subquery) instead, the statement cost the server more (2.0–2.2 ms of CPU
 * per 100 new memories against 1.6–1.7 with this form and the id sent once, load 10).
 */
export function buildMemoryBatchSql(schema: string, search: boolean): MemoryUpserts {
  const columns = oneConversationColumns(search);
  const next = columns.length + 2;
  const [id, lock, chosen] = [next, next + 1, next + 2];
  const rows = bulkRowsSql(columns, `pg_advisory_xact_lock_shared(hashtext($${lock}), hashtext($${id}))`);
  const searched = search ? `${rows.column('v')}, ${rows.column('l')}` : 'NULL::tsvector, NULL::int';
  const upsert = (createdAt: string): string => `INSERT INTO ${quoteIdent(schema)}.memories AS m
      (conversation_id, memory_id, created_at, memory_data, search_tokens, search_length)
    SELECT $${id}::text, ${rows.column('m')}, ${rows.column('c')}, ${rows.record}, ${searched}
    FROM ${rows.from} ORDER BY r.n
    ${memoryReplace(createdAt)}`;
  return statements({
    keep: upsert('m.created_at'),
    set: upsert('EXCLUDED.created_at'),
    mixed: upsert(chosenCreatedAt(chosen)),
  });
}

/** The row columns of a `storeMemories` statement: search tokens and length (index on), memory id, created_at. */
function oneConversationColumns(search: boolean): Array<[name: string, type: string]> {
  const ids: Array<[string, string]> = [
    ['m', 'text'],
    ['c', 'text'],
  ];
  return search ? [['v', 'tsvector'], ['l', 'int'], ...ids] : ids;
}

/**
 * Rows for a memory upsert; notes the rows that chose their `created_at`. The columns after
 * the record: the conversation id (`withConversation`), the search columns (`withSearch`),
 * the memory id and `created_at`.
 */
export class MemoryBulkRows extends BulkRows {
  /** Rows whose record carries its own `created_at`. */
  private explicit = 0;
  /** Their ids by conversation id (no prototype: any id is an own key). */
  private readonly chosen = Object.create(null) as Record<string, Record<string, true>>;

  constructor(
    private readonly withConversation: boolean,
    private readonly withSearch: boolean,
  ) {
    super((withConversation ? 1 : 0) + (withSearch ? 2 : 0) + 2);
  }

  /** Adds the row of `memory` (of `conversationId`), its search columns `search`. */
  addMemory(conversationId: string, memory: MemoryWrite, search: SearchColumns): void {
    const { createdAt, rest } = memoryParts(memory.record);
    if (this.withConversation) this.add(rest, conversationId, ...search, memory.memoryId, createdAt);
    else if (this.withSearch) this.add(rest, ...search, memory.memoryId, createdAt);
    else this.add(rest, memory.memoryId, createdAt);
    if (!memory.explicitCreatedAt) return;
    this.explicit += 1;
    (this.chosen[conversationId] ??= Object.create(null) as Record<string, true>)[memory.memoryId] = true;
  }

  /**
   * The upsert of these rows (one of `forms`) and its parameters: the rows, then `after`, then
   * the choices for the mixed form (`name` names the batch in a too-large error).
   */
  upsert(forms: MemoryUpserts, name: () => BatchName, after: SqlParam[]): [Statement, SqlParam[]] {
    const params = [...this.params(name), ...after];
    if (this.explicit === 0) return [forms.keep, params];
    if (this.explicit === this.length) return [forms.set, params];
    return [forms.mixed, [...params, JSON.stringify(this.chosen)]];
  }
}

/** Adds a conversation's memory writes (ids may repeat: folded as single calls would leave them) to `rows`. */
export function addMemoryRows(
  rows: MemoryBulkRows,
  conversationId: string,
  writes: readonly MemoryWrite[],
  index: PostgresSearchIndex,
): void {
  for (const memory of collapseMemoryWrites(writes)) {
    rows.addMemory(conversationId, memory, index.columns('memories', memory.record));
  }
}
