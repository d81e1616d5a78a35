/**
 * The high-water marks of the SQLite full-text index (see `search-sql.ts` for its tables): per
 * kind, the largest base rowid whose entry is made, found by walking `search_docs`' primary key
 * down; base rows past a kind's mark are the ones still to index. Also the one statement a
 * writable open checks the whole index with.
 */
import { SEARCH_KINDS as SEARCH_KINDS_ORDER, type SearchKind } from '../../core/index.js';
import { ANY_DIRTY } from './search-dirty.js';
import { KIND_CODES, KIND_TABLES, liveEntry, READ_TEXT_RULE } from './search-sql.js';

/** `bound` of a walk from the kind's largest base rowid down (entries past it are deleted rows'). */
function tableTop(kind: SearchKind): string {
  const k = KIND_TABLES[kind];
  return `((SELECT max(${k.base}) FROM main.${k.table}) + 1) * 8`;
}

/**
 * The kind's largest indexed base rowid below `bound` (SQL, times 8 as a doc), 0 when none:
 * a walk down the primary key from `bound`, past entries of the other kinds between (at most
 * four per rowid, and only over rows no entry covers yet, which the caller then indexes).
 * With `checkTop`, one less when that entry no longer matches its row (one rowid lookup).
 */
function indexedBelow(kind: SearchKind, bound: string, checkTop = false): string {
  const base = checkTop ? `(doc >> 3) - NOT ${liveEntry(kind, 'search_docs')}` : 'doc >> 3';
  return `coalesce((SELECT ${base} FROM search_docs WHERE doc < ${bound} AND (doc & 7) = ${KIND_CODES[kind]}
    ORDER BY doc DESC LIMIT 1), 0)`;
}

/**
 * A kind's high-water mark: its largest indexed base rowid not above the table's largest
 * rowid, 0 when none (entries past the table's end belong to rows another writer deleted).
 * For a kind that reuses rowids, one less when that entry is not its row's (another writer
 * deleted the newest rows and stored others in their rowids): the kind then reads as behind,
 * and {@link liveMark} finds how far down the reused rowids go.
 */
export function highWater(kind: SearchKind): string {
  return indexedBelow(kind, tableTop(kind), KIND_TABLES[kind].reusesRowids);
}

/**
 * The largest base rowid, not above the table's largest, whose entry still matches its row,
 * 0 when none: every row above it needs its entry (re)made. A walk down the primary key that
 * stops at the first matching entry (the top one, unless rowids were reused).
 */
export function liveMark(kind: SearchKind): string {
  return `coalesce((SELECT doc >> 3 FROM search_docs WHERE doc < ${tableTop(kind)}
    AND (doc & 7) = ${KIND_CODES[kind]} AND ${liveEntry(kind, 'search_docs')} ORDER BY doc DESC LIMIT 1), 0)`;
}

/** A kind's high-water mark below the rowid in parameter `param`: its largest indexed base rowid under it, 0 when none. */
export function highWaterBelow(kind: SearchKind, param: string): string {
  return indexedBelow(kind, `${param} * 8`);
}

/** Per kind, a column: 1 when its table has rows past its mark. */
function kindsBehind(): string {
  return SEARCH_KINDS_ORDER.map(
    (kind) => `(SELECT max(${KIND_TABLES[kind].base}) FROM ${kind}) > ${highWater(kind)} AS ${kind}`,
  ).join(', ');
}

/**
 * One statement telling, per kind, whether its table has rows past its mark (1) or not (0);
 * for a kind that reuses rowids, also 1 when the entry at the mark is not its row's. Its
 * `dirty` column is 1 when a `searchIndex: false` writer changed rows in place
 * (search-dirty.ts): one seek into a table that is empty but beside such a writer (a check per
 * kind, five seeks, cost 12 µs of process CPU more per statement; this one 1-3 µs).
 */
export const FRESHNESS = `SELECT ${kindsBehind()}, ${ANY_DIRTY} AS dirty`;

/**
 * {@link FRESHNESS} for an index built by a version from before `search_dirty` (a read-only
 * store's; a writable open creates the table): no row can be marked, since a writer that marks
 * rows creates the table at its open, after dropping any index there.
 */
export const FRESHNESS_WITHOUT_MARKS = `SELECT ${kindsBehind()}, 0 AS dirty`;

/**
 * One statement (one snapshot) for a writable open's check of the index: {@link FRESHNESS}'s
 * columns, the text rule (`text_rule`), the rows of every kind's table (`rows`) and the entries
 * (`entries`). Counts walk their smallest index; the entries are not read one by one.
 */
export const STEP_CHECK = `${FRESHNESS}, ${READ_TEXT_RULE} AS text_rule, ${SEARCH_KINDS_ORDER.map(
  (kind) => `(SELECT count(*) FROM main.${KIND_TABLES[kind].table})`,
).join(' + ')} AS rows, (SELECT count(*) FROM main.search_docs) AS entries`;
