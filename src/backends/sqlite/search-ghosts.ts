/**
 * FTS5's corpus figures after deletes. `bm25()` ranks with the document count and total length
 * of FTS5's averages record, and a `contentless_delete` table never takes a deleted entry out of
 * them (SQLite 3.52: its delete adds a tombstone and drops the `docsize` row, nothing else), so
 * after deletes and replaces scores and order drifted from a rebuilt index's. Each entry deleted
 * from FTS5 is therefore recorded as a ghost (its `docsize` length, in `search_meta` under
 * `ghost:<doc>`, by the delete trigger in `search-sql.ts`), and {@link settleGhosts} takes the
 * ghosts out of the averages record before a writable search queries FTS5 (and at open and
 * shutdown). A read-only store cannot write it: while ghosts wait, it ranks with the core's BM25
 * over the figures less the ghosts (search-waiting.ts). Per-term document counts need nothing:
 * FTS5 counts them by matching, which skips tombstones.
 */
import type { Transaction } from './connection.js';

/** FTS5's averages record: the number of documents, then the total tokens of each column. */
export const AVERAGES = 'SELECT block FROM search_fts_data WHERE id = 1';

/** The `search_meta` keys of ghosts: `ghost:<doc>`, a range of the table's primary key. */
export const GHOST_KEYS = "key > 'ghost:' AND key < 'ghost;'";

/** 1 when ghosts wait to be settled (a column of the search's freshness check). */
export const GHOSTS_WAIT = `EXISTS (SELECT 1 FROM search_meta WHERE ${GHOST_KEYS}) AS ghosts`;

/**
 * Trigger SQL recording the entry `old.doc` as a ghost when it is in FTS5 (it has a `docsize`
 * row; a waiting entry is not counted yet). Runs before its delete. A doc deleted twice before a
 * settle (rowids are reused by in-place upserts) keeps both lengths.
 */
export const RECORD_GHOST = `INSERT INTO main.search_meta (key, value)
      SELECT 'ghost:' || old.doc, hex(sz) FROM main.search_fts_docsize WHERE id = old.doc
        AND NOT EXISTS (SELECT 1 FROM main.search_pending WHERE doc = old.doc)
      ON CONFLICT (key) DO UPDATE SET value = value || ' ' || excluded.value;`;

/** Reads a SQLite varint (big-endian 7-bit groups, a ninth byte of 8 bits) at `pos`. */
export function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8; i += 1) {
    const byte = bytes[pos + i] ?? 0;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [value, pos + i + 1];
  }
  return [value * 256 + (bytes[pos + 8] ?? 0), pos + 9];
}

/** A SQLite varint of `value` (below 2^56: seven groups of 7 bits at most, as FTS5 writes them). */
function varint(value: number): number[] {
  const groups: number[] = [];
  let rest = value;
  do {
    groups.unshift(rest % 128);
    rest = Math.floor(rest / 128);
  } while (rest > 0);
  return groups.map((group, i) => (i < groups.length - 1 ? group | 0x80 : group));
}

/** Documents and tokens of a corpus. */
export interface CorpusFigures {
  documents: number;
  tokens: number;
}

/** FTS5's document count and total tokens (0 and 0 for an empty index). */
export function decodeAverages(block: Uint8Array | null | undefined): CorpusFigures {
  if (block === null || block === undefined || block.length === 0) return { documents: 0, tokens: 0 };
  const [documents, next] = readVarint(block, 0);
  const [tokens] = readVarint(block, next);
  return { documents, tokens };
}

/** The ghosts' documents and tokens (0 and 0 when none wait). */
export async function ghostFigures(q: Transaction): Promise<CorpusFigures> {
  const rows = await q.all<{ value: string }>(`SELECT value FROM search_meta WHERE ${GHOST_KEYS}`);
  let documents = 0;
  let tokens = 0;
  for (const { value } of rows) {
    for (const hex of value.split(' ')) {
      documents += 1;
      tokens += readVarint(Buffer.from(hex, 'hex'), 0)[0];
    }
  }
  return { documents, tokens };
}

/**
 * Takes the ghosts out of FTS5's averages record and forgets them, in the caller's write
 * transaction, which must not have written FTS5 yet: FTS5 keeps the figures in memory from its
 * first write until the commit and would write them back over these. Its document count is
 * checked against `docsize` (one row per entry): when they disagree (ghosts an earlier version
 * of this library did not record, say), the total length is summed over `docsize` instead.
 */
export async function settleGhosts(q: Transaction): Promise<void> {
  const gone = await ghostFigures(q);
  if (gone.documents === 0) return;
  const [averages] = await q.all<{ block: Uint8Array | null }>(AVERAGES);
  const fts = decodeAverages(averages?.block);
  const [count] = await q.all<{ n: number }>('SELECT count(*) AS n FROM search_fts_docsize');
  const documents = count?.n ?? 0;
  let tokens = fts.tokens - gone.tokens;
  if (fts.documents - gone.documents !== documents || tokens < 0) {
    const sizes = await q.all<{ sz: Uint8Array }>('SELECT sz FROM search_fts_docsize');
    tokens = sizes.reduce((sum, { sz }) => sum + readVarint(sz, 0)[0], 0);
  }
  await q.run('UPDATE search_fts_data SET block = ? WHERE id = 1', [
    Uint8Array.from([...varint(documents), ...varint(tokens)]),
  ]);
  await q.run(`DELETE FROM search_meta WHERE ${GHOST_KEYS}`);
}
