/**
 * Waiting entries (`search_pending`) as a read-only store sees them. It cannot move them into
 * FTS5 for a query as a writable store does, so it matches them here, with the core's tokenizer
 * (the one FTS5's is tested against), and ranks them with the core's BM25 over FTS5's own
 * corpus figures: its averages record (documents and tokens) and, per term, the document count
 * of its vocabulary — the figures `bm25()` ranks the entries already in FTS5 with.
 */
import {
  bm25Idf,
  bm25Score,
  type NormalizedSearchQuery,
  termFrequencies,
  tokenize,
} from '../../core/index.js';
import type { Transaction } from './connection.js';
import { kindAndScope, type RankedDoc } from './search-query.js';
import { JSON_LIST } from './search-sql.js';

/** FTS5's vocabulary of `search_fts`, one row per term (connection-local: a read-only open may create it). */
const VOCABULARY =
  'CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search_fts, row)';

/** FTS5's averages record: the number of documents, then the total tokens of each column. */
const AVERAGES = 'SELECT block FROM search_fts_data WHERE id = 1';

/** Reads a SQLite varint (big-endian 7-bit groups, a ninth byte of 8 bits) at `pos`. */
function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8; i += 1) {
    const byte = bytes[pos + i] ?? 0;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [value, pos + i + 1];
  }
  return [value * 256 + (bytes[pos + 8] ?? 0), pos + 9];
}

/** FTS5's document count and total tokens (0 and 0 for an empty index). */
export function decodeAverages(block: Uint8Array | null | undefined): { documents: number; tokens: number } {
  if (block === null || block === undefined || block.length === 0) return { documents: 0, tokens: 0 };
  const [documents, next] = readVarint(block, 0);
  const [tokens] = readVarint(block, next);
  return { documents, tokens };
}

/** The waiting entries of the query's kinds and scopes that match it, ranked as FTS5 ranks the others. */
export async function waitingMatches(q: Transaction, query: NormalizedSearchQuery): Promise<RankedDoc[]> {
  const filter = kindAndScope(query, 'p.doc');
  const join = filter.joined ? ' JOIN search_docs d ON d.doc = p.doc' : '';
  const rows = await q.all<{ doc: number; body: string }>(
    `SELECT p.doc AS doc, p.body AS body FROM search_pending p${join} WHERE ${filter.sql}`,
    filter.params,
  );
  const found: Array<{ doc: number; frequencies: number[]; length: number; matched: number }> = [];
  for (const row of rows) {
    const tokens = tokenize(row.body);
    const frequencies = termFrequencies(tokens, query.terms);
    const matched = frequencies.filter((f) => f > 0).length;
    if (matched === 0 || (query.match === 'all' && matched < query.terms.length)) continue;
    found.push({ doc: row.doc, frequencies, length: tokens.length, matched });
  }
  if (found.length === 0) return [];
  await q.exec(VOCABULARY);
  const [averages] = await q.all<{ block: Uint8Array | null }>(AVERAGES);
  const { documents, tokens } = decodeAverages(averages?.block);
  const counts = await q.all<{ term: string; doc: number }>(
    `SELECT term, doc FROM temp.search_vocab WHERE term IN ${JSON_LIST}`,
    [JSON.stringify(query.terms)],
  );
  const inDocs = new Map(counts.map((row) => [row.term, row.doc]));
  const idfs = query.terms.map((term) => bm25Idf(inDocs.get(term) ?? 0, documents));
  const corpus = { documentCount: documents, averageLength: documents > 0 ? tokens / documents : 0 };
  return found.map(({ doc, frequencies, length, matched }) => ({
    doc,
    matched,
    score: bm25Score(frequencies, idfs, length, corpus),
  }));
}
