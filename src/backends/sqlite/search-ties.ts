/**
 * Records tied at a search's limit. FTS5 orders equal scores by doc id, which is not the
 * core's order of ties (`compareRefs`: kind, owner id in code point order, then message
 * position, chain position or memory id), so the records tied with the limit-th one are all
 * found and ordered by their refs from their key columns alone: no record is read and no
 * position counted for a tie the limit leaves out (a word in thousands of identical short
 * messages would otherwise load every one of them to return ten).
 */
import {
  compareCodePoints,
  hitScore,
  type NormalizedSearchQuery,
  SEARCH_KINDS,
  type SearchKind,
} from '../../core/index.js';
import type { Transaction } from './connection.js';
import { buildScoreFloorQuery, type RankedDoc } from './search-query.js';
import { JSON_LIST, KIND_CODES, KIND_TABLES } from './search-sql.js';

/**
 * The columns that order a kind's records within their owner as their positions do: raw
 * messages by (message_index, id) as loads are, chains by id, memories by memory id; one
 * conversation or chunk info per owner.
 */
const TIE_KEYS: Readonly<Record<SearchKind, string>> = {
  raw_messages: 't.message_index AS k1, t.id AS k2',
  memories: 't.memory_id AS key',
  reasoning_chains: 't.id AS k1',
  conversations: '0 AS k1',
  chunk_info: '0 AS k1',
};

/** A tied record's ref, as its key columns give it. */
interface TieRef {
  doc: number;
  bm25: number;
  kind: number;
  owner: string;
  k1: number;
  k2: number;
  key: string;
}

function compareTies(a: TieRef, b: TieRef): number {
  return (
    a.kind - b.kind ||
    compareCodePoints(a.owner, b.owner) ||
    a.k1 - b.k1 ||
    a.k2 - b.k2 ||
    compareCodePoints(a.key, b.key)
  );
}

/**
 * Every live record whose hit score equals `cut` among FTS5's matches, in the core's order of
 * ties, with its BM25; and the tied entries whose row is gone or was replaced (`stale`).
 */
export async function tiedDocs(
  q: Transaction,
  query: NormalizedSearchQuery,
  cut: number,
): ReturnType<typeof orderTies> {
  // A hair below the cut in SQL (the same double arithmetic as `hitScore`), exact in orderTies.
  const { sql, params } = buildScoreFloorQuery(query, cut - 1e-9);
  return orderTies(q, cut, await q.all<RankedDoc>(sql, params));
}

/**
 * Of `ranked` (any order), the live records whose hit score equals `cut`, in the core's order
 * of ties, with their BM25; and the tied entries whose row is gone or was replaced (`stale`).
 */
export async function orderTies(
  q: Transaction,
  cut: number,
  ranked: readonly RankedDoc[],
): Promise<{ ordered: Array<{ doc: number; bm25: number }>; stale: number[] }> {
  const bm25s = new Map<number, number>();
  for (const row of ranked) {
    if (hitScore(row.matched, row.score) === cut) bm25s.set(row.doc, row.score);
  }
  const docs = [...bm25s.keys()];
  const entries = await q.all<{ doc: number; scope: string; stamp: string | null }>(
    `SELECT doc, scope, stamp FROM search_docs WHERE doc IN ${JSON_LIST}`,
    [JSON.stringify(docs)],
  );
  const live: TieRef[] = [];
  const found = new Set<number>();
  for (const kind of SEARCH_KINDS) {
    const code = KIND_CODES[kind];
    const mine = entries.filter((e) => (e.doc & 7) === code);
    if (mine.length === 0) continue;
    const k = KIND_TABLES[kind];
    type KeyRow = {
      base: number;
      scope: string;
      stamp: string | null;
      k1?: number;
      k2?: number;
      key?: string;
    };
    const rows = await q.all<KeyRow>(
      `SELECT t.${k.base} AS base, t.${k.scope} AS scope, ${k.stamp === 'NULL' ? 'NULL' : `t.${k.stamp}`} AS stamp,
        ${TIE_KEYS[kind]} FROM ${k.table} t WHERE t.${k.base} IN ${JSON_LIST}`,
      [JSON.stringify(mine.map((e) => Math.floor(e.doc / 8)))],
    );
    const byBase = new Map(rows.map((row) => [row.base, row]));
    for (const entry of mine) {
      const row = byBase.get(Math.floor(entry.doc / 8));
      if (row === undefined || row.scope !== entry.scope || row.stamp !== entry.stamp) continue;
      found.add(entry.doc);
      live.push({
        doc: entry.doc,
        bm25: bm25s.get(entry.doc) as number,
        kind: SEARCH_KINDS.indexOf(kind),
        owner: row.scope,
        k1: row.k1 ?? 0,
        k2: row.k2 ?? 0,
        key: row.key ?? '',
      });
    }
  }
  live.sort(compareTies);
  return {
    ordered: live.map(({ doc, bm25 }) => ({ doc, bm25 })),
    stale: docs.filter((doc) => !found.has(doc)),
  };
}
