/**
 * How far the SQLite full-text index is from the base tables, as a query reads it before using
 * the index: the kinds with rows no entry covers yet, and whether entries or ghosts wait outside
 * FTS5. Separate from the write-side upkeep (search-entries.ts) because it only reads: the
 * query path (search-read.ts) and the open's step check (search-index.ts) use it, no write does.
 */
import type { SearchKind } from '../../core/index.js';
import type { Transaction } from './connection.js';
import { GHOSTS_WAIT } from './search-ghosts.js';
import { FRESHNESS, FRESHNESS_WITHOUT_MARKS } from './search-marks.js';
import { READ_TEXT_RULE, TEXT_RULE } from './search-sql.js';

/** How far the index is from the base tables (see {@link readIndexLag}). */
export interface IndexLag {
  /** Kinds with rows no entry covers yet. */
  kinds: SearchKind[];
  /** Entries wait in `search_pending`: a query moves them into FTS5 for itself, or ranks them apart (read-only). */
  pending: boolean;
  /** Deleted entries FTS5's corpus figures still count (search-ghosts.ts): a query settles them, or ranks apart (read-only). */
  ghosts: boolean;
}

/**
 * Kinds whose base table has rows past the index's mark (not yet indexed) and whether
 * entries wait outside FTS5, or `null` when the entries were built under another text rule
 * or layout (not to be used). `marks: false` for an index without `search_dirty` (an
 * earlier version's, read-only): no row is marked.
 */
export async function readIndexLag(
  q: Transaction,
  kinds: readonly SearchKind[],
  marks = true,
): Promise<IndexLag | null> {
  const [row] = await q.all<FreshnessRow>(marks ? BEHIND : BEHIND_WITHOUT_MARKS);
  const lagging = laggingKinds(row, kinds);
  return lagging === null ? null : { kinds: lagging, pending: row?.pending === 1, ghosts: row?.ghosts === 1 };
}

/** {@link readIndexLag}'s statement: the freshness, the text rule, any entry or ghost waiting. */
const BEHIND = `${FRESHNESS}, ${READ_TEXT_RULE} AS text_rule, EXISTS (SELECT 1 FROM search_pending) AS pending, ${GHOSTS_WAIT}`;

/** {@link BEHIND} for an index without `search_dirty` (see FRESHNESS_WITHOUT_MARKS). */
const BEHIND_WITHOUT_MARKS = `${FRESHNESS_WITHOUT_MARKS}, ${READ_TEXT_RULE} AS text_rule, EXISTS (SELECT 1 FROM search_pending) AS pending, ${GHOSTS_WAIT}`;

/** A row of a statement with {@link FRESHNESS}'s columns and the text rule (`text_rule`), and maybe more. */
export type FreshnessRow = Record<string, number | string | null>;

/**
 * Of `kinds`, those whose table has rows past the index's mark (all of them while rows are
 * marked as changed in place: its `dirty` column), read from a {@link FreshnessRow};
 * `null` when the entries were built under another text rule or layout (not to be used).
 */
export function laggingKinds(
  row: FreshnessRow | undefined,
  kinds: readonly SearchKind[],
): SearchKind[] | null {
  if (row?.text_rule !== TEXT_RULE) return null;
  return kinds.filter((kind) => row[kind] === 1 || row.dirty === 1);
}
