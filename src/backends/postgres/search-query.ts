/**
 * The PostgreSQL search: one statement finds the rows through the GIN indexes, ranks them by
 * distinct query words then BM25 (FTS5's formula), ties in the core's order, and returns the
 * best `limit` with their records. Its corpus figures: document count and total length of the
 * searched kinds from `search_stats` (kept by triggers, so no scan), document frequencies
 * counted through the GIN index (taken from the matched rows themselves for an unscoped
 * `'any'` query, which holds them).
 */
import {
  BM25_B,
  BM25_K1,
  type NormalizedSearchQuery,
  parseStoredJson,
  parseStoredJsonObject,
  type SearchCandidate,
  type SearchKind,
  skipUnreadable,
} from '../../core/index.js';
import type { PostgresConnection, SqlParam } from './connection.js';
import { memoryFromRow } from './rows.js';
import { lexemeOf, quoteLexeme } from './search-columns.js';
import { statement } from './statements.js';
import { quoteName } from '../../core/shown-text.js';

/** Per kind: the table, the row's owner and position (expressions on `t`), memory id, record JSON, scope parameter. */
const KIND_SQL: Readonly<
  Record<SearchKind, { table: string; owner: string; pos: string; key: string; json: string; scope: string }>
> = {
  raw_messages: {
    table: 'raw_messages',
    owner: 't.conversation_id',
    pos: 't.message_index::bigint',
    key: 'NULL::text',
    json: 't.message_data',
    scope: '$3',
  },
  memories: {
    table: 'memories',
    owner: 't.conversation_id',
    pos: 't.id',
    key: 't.memory_id',
    json: 't.memory_data',
    scope: '$3',
  },
  reasoning_chains: {
    table: 'reasoning_chains',
    owner: 't.agent_id',
    pos: 't.id',
    key: 'NULL::text',
    json: 't.chain_data',
    scope: '$4',
  },
  conversations: {
    table: 'conversations',
    owner: 't.conversation_id',
    pos: '0::bigint',
    key: 'NULL::text',
    json: 't.data',
    scope: '$3',
  },
  chunk_info: {
    table: 'chunk_info',
    owner: 't.conversation_id',
    pos: '0::bigint',
    key: 'NULL::text',
    json: 't.chunk_data',
    scope: '$3',
  },
};

/**
 * The order of hits, which `LIMIT` cuts: the core's (`rankCandidates`), so the rows kept are
 * the ones it would keep. The score is the hit's (`hitScore`, the same float8 arithmetic as
 * the client's doubles; two BM25s the squash makes equal are a tie), ties as `compareRefs`
 * orders them: kind (the kinds are in `SEARCH_KINDS` order), owner id and memory id in code
 * point order (`COLLATE "C"`: UTF-8 byte order), then message index or chain id, which orders
 * an agent's chains as their positions do.
 */
const ORDER = 'score DESC, kind, owner COLLATE "C", key COLLATE "C", pos';

/**
 * The search statement. Parameters: $1 lexemes (text[]), $2 the row filter (tsquery), $3
 * conversation scope, $4 agent scope, $5 limit, $6 one tsquery per lexeme, $7 the searched
 * tables. Statistics cover the searched kinds, unscoped (as FTS5's cover its whole table).
 */
function searchSql(s: string, kinds: readonly SearchKind[], terms: number, dfFromHits: boolean): string {
  const tfs = Array.from({ length: terms }, (_, i) =>
    termFrequency('t.search_tokens', `($6::tsquery[])[${i + 1}]`),
  ).join(', ');
  const scoped = (kind: SearchKind): string =>
    `(${KIND_SQL[kind].scope}::text IS NULL OR ${KIND_SQL[kind].owner} = ${KIND_SQL[kind].scope})`;
  const hits = kinds.map((kind, i) => {
    const k = KIND_SQL[kind];
    return `SELECT ${i} AS kind, ${k.owner} AS owner, ${k.pos} AS pos, ${k.key} AS key,
        t.search_length AS len, ARRAY[${tfs}] AS tf
      FROM ${s}.${k.table} AS t WHERE t.search_tokens @@ $2::tsquery AND ${scoped(kind)}`;
  });
  const df = dfFromHits
    ? '(SELECT count(*) FROM hits AS h WHERE h.tf[q.n] > 0)'
    : kinds
        .map(
          (kind) =>
            `(SELECT count(*) FROM ${s}.${KIND_SQL[kind].table} AS t WHERE t.search_tokens @@ q.query)`,
        )
        .join(' + ');
  const records = kinds.map((kind, i) => {
    const k = KIND_SQL[kind];
    const position =
      kind === 'reasoning_chains'
        ? `(SELECT count(*) FROM ${s}.reasoning_chains AS c WHERE c.agent_id = r.owner AND c.id < r.pos)`
        : 'r.pos';
    const createdAt = kind === 'memories' ? 't.created_at' : 'NULL::text';
    return `SELECT r.kind, r.owner, r.pos, r.key, r.score, r.bm25, ${k.json} AS json,
        ${createdAt} AS created_at, ${position} AS position
      FROM ranked AS r JOIN ${s}.${k.table} AS t ON r.kind = ${i} AND ${k.owner} = r.owner AND ${k.pos} = r.pos`;
  });
  return `WITH terms AS (
      -- Names both scopes, so their types are known when the kinds use only one.
      SELECT lexeme, query, n, $3::text AS conversation_scope, $4::text AS agent_scope
      FROM unnest($1::text[], $6::tsquery[]) WITH ORDINALITY AS q(lexeme, query, n)),
    hits AS MATERIALIZED (${hits.join('\n UNION ALL ')}),
    corpus AS MATERIALIZED (SELECT coalesce(sum(docs), 0)::float8 AS docs, coalesce(sum(total), 0)::float8 AS total
      FROM ${s}.search_stats WHERE table_name = ANY($7::text[])),
    idf AS MATERIALIZED (SELECT q.n, ln((greatest(corpus.docs, d.df) - d.df + 0.5) / (d.df + 0.5)) AS v
      FROM terms AS q CROSS JOIN corpus CROSS JOIN LATERAL (SELECT (${df})::float8 AS df) AS d),
    scored AS (
      -- LATERAL, so each is computed once per row: as select-list subqueries, the score below
      -- (bm25 named three times in the inlined CTE) ran the BM25 sum three times.
      SELECT h.kind, h.owner, h.pos, h.key, m.matched, b.bm25
      FROM hits AS h CROSS JOIN corpus
        CROSS JOIN LATERAL (SELECT count(*) AS matched FROM unnest(h.tf) AS f WHERE f > 0) AS m
        CROSS JOIN LATERAL (SELECT coalesce(sum(CASE WHEN idf.v <= 0 THEN 1e-6 ELSE idf.v END * f.tf * ${BM25_K1 + 1}
            / (f.tf + ${BM25_K1} * (${1 - BM25_B} + ${BM25_B} * h.len
              / CASE WHEN corpus.docs > 0 AND corpus.total > 0 THEN corpus.total / corpus.docs ELSE 1 END))), 0) AS bm25
          FROM unnest(h.tf) WITH ORDINALITY AS f(tf, n) JOIN idf ON idf.n = f.n WHERE f.tf > 0) AS b),
    ranked AS (
      SELECT *, matched + greatest(bm25, 0) / (1 + greatest(bm25, 0)) AS score FROM scored
      ORDER BY ${ORDER} LIMIT $5)
    SELECT * FROM (${records.join('\n UNION ALL ')}) AS r ORDER BY ${ORDER}`;
}

/**
 * How often the one-lexeme query `query` occurs in `vector`, without unnesting the vector
 * (which costs several times more per row). `ts_rank` with every weight 1 scores a lexeme with
 * n positions as (1 + 1/4 + ... + 1/n^2) / (pi^2/6) (`calc_rank_or` in PostgreSQL's tsrank.c);
 * since pi^2/6 minus that sum is about 1/(n + 1/2), n is recovered exactly for every count
 * the index stores (1 to 256, checked in test/postgres/search-index.test.ts); 0 when absent.
 */
export function termFrequency(vector: string, query: string): string {
  return `round(1 / (1.64493406685 - ts_rank('{1,1,1,1}'::float4[], ${vector}, ${query}) * 1.64493406685) - 0.5)::int`;
}

/** A row of the search statement. */
interface SearchRow {
  kind: number;
  owner: string;
  key: string | null;
  bm25: number;
  json: string;
  created_at: string | null;
  position: string;
  /** The row's own position key: a chain's id, which is its sequence number. */
  pos: string;
}

/**
 * Runs a search on the index of the schema `s` (quoted) and returns the candidates, best
 * first. The ranking and the records come from one statement, so one snapshot: every
 * candidate exists.
 */
export async function searchPostgres(
  db: PostgresConnection,
  s: string,
  query: NormalizedSearchQuery,
): Promise<SearchCandidate[]> {
  if (query.kinds.length === 0) return [];
  const lexemes = query.terms.map(lexemeOf);
  const quoted = lexemes.map(quoteLexeme);
  const filter = quoted.join(query.match === 'all' ? ' & ' : ' | ');
  const unscoped = query.conversationId === null && query.agentId === null;
  // With one term, 'all' matches the rows 'any' does: every row holding the term is a hit.
  const dfFromHits = unscoped && (query.match === 'any' || query.terms.length === 1);
  const tables = query.kinds.map((kind) => KIND_SQL[kind].table);
  const params: SqlParam[] = [
    lexemes,
    filter,
    query.conversationId,
    query.agentId,
    query.limit,
    quoted,
    tables,
  ];
  const rows = await db.rows<SearchRow>(
    `search ${quoteName(query.text)}`,
    statement(searchSql(s, query.kinds, query.terms.length, dfFromHits)),
    params,
  );
  return rows.flatMap((row) => {
    const kind = query.kinds[row.kind] as SearchKind;
    try {
      return [toCandidate(kind, row, s)];
    } catch (error) {
      // With unreadable: 'skip', left out (the core asks again deeper when that leaves too few).
      skipUnreadable(query.skipped, error, kind, row.owner, recordIdOf(kind, row));
      return [];
    }
  });
}

/** The id a skipped row is logged with: message index, memory id or chain sequence (none for a whole object). */
function recordIdOf(kind: SearchKind, row: SearchRow): string | number | undefined {
  switch (kind) {
    case 'raw_messages':
      return Number(row.position);
    case 'memories':
      return row.key ?? '';
    case 'reasoning_chains':
      return Number(row.pos);
    default:
      return undefined;
  }
}

/** The candidate of a result row. */
function toCandidate(kind: SearchKind, row: SearchRow, s: string): SearchCandidate {
  const where = `postgres ${s}.${KIND_SQL[kind].table} (${quoteName(row.owner)})`;
  const bm25 = Number(row.bm25);
  const index = Number(row.position);
  switch (kind) {
    case 'raw_messages':
      return {
        kind,
        conversationId: row.owner,
        messageIndex: index,
        record: parseStoredJson(row.json, where),
        bm25,
      };
    case 'memories': {
      const memoryId = row.key ?? '';
      const columns = { memory_id: memoryId, created_at: row.created_at ?? 'null', memory_data: row.json };
      return { kind, conversationId: row.owner, memoryId, record: memoryFromRow(columns, () => where), bm25 };
    }
    case 'reasoning_chains':
      return {
        kind,
        agentId: row.owner,
        chainIndex: index,
        sequence: Number(row.pos),
        record: parseStoredJsonObject(row.json, where),
        bm25,
      };
    default:
      return { kind, conversationId: row.owner, record: parseStoredJsonObject(row.json, where), bm25 };
  }
}
