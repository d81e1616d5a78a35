/**
 * Vector and hybrid search over a store's records: the query text is embedded, the vector
 * store is asked within the query's scope, and each vector id is resolved to its record as
 * loads return it now (ids whose record is gone or has no text any more are dropped). Hybrid fuses the full-text and
 * vector lists by reciprocal rank.
 */
import type { JsonObject, JsonValue } from '../json.js';
import type { TextExtractor } from '../search/fields.js';
import type { SearchHit, SearchRecordRef } from '../search/hits.js';
import { CONVERSATION_KINDS, type NormalizedSearchQuery } from '../search/query.js';
import { compareRefs } from '../search/rank.js';
import { buildSnippet } from '../search/snippet.js';
import { tokenize } from '../search/tokenizer.js';
import { DEFAULT_RRF_K, type FusedResult, reciprocalRankFusion } from '../../semantic/fusion.js';
import { MAX_QUERY_K, type VectorFilter } from '../../semantic/vector-stores/types.js';
import type { SemanticIndex } from './semantic-index.js';
import { embeddedText, idPart, isEmbeddedKind, parseVectorId, type VectorRef } from './vector-ids.js';
import { type RecordReader, Resolver } from './vector-resolver.js';

export type { RecordReader } from './vector-resolver.js';

/** How much deeper than `limit` each list of a hybrid search is fetched before fusion. */
export const HYBRID_DEPTH = 4;

/** The vector filters that cover a query's kinds and scopes (chains are scoped by agent, the rest by conversation). */
function filtersOf(query: NormalizedSearchQuery): VectorFilter[] {
  const kinds = query.kinds.filter(isEmbeddedKind);
  if (query.conversationId === null && query.agentId === null) return kinds.length > 0 ? [{ kinds }] : [];
  const filters: VectorFilter[] = [];
  const conversationKinds = kinds.filter((kind) => CONVERSATION_KINDS.has(kind));
  if (conversationKinds.length > 0) {
    filters.push({
      kinds: conversationKinds,
      ...(query.conversationId === null ? {} : { conversationId: query.conversationId }),
    });
  }
  if (kinds.includes('reasoning_chains')) {
    filters.push({
      kinds: ['reasoning_chains'],
      ...(query.agentId === null ? {} : { agentId: query.agentId }),
    });
  }
  return filters;
}

/** Record loads a search starts ahead of the hit it is resolving. */
const LOADS_AHEAD = 32;

/**
 * The `k` records nearest to the query text within its scope, nearest first, ties in
 * {@link compareRefs} order (as full-text search orders them), as hits: `score` is the
 * similarity, `matchedTerms` and `snippet` as full-text search builds them (a snippet without
 * marks when no query word is in the record). A vector store cuts its `k` with ties broken by
 * vector id, an order unlike the refs' (`r/c/10` before `r/c/2`), so each list is fetched one
 * deeper than needed, and deeper again while the hits tied with the `k`-th may run past its end:
 * a search with `limit: n` is then the first n hits of the same search with a larger limit.
 * Vectors left behind by a failed removal resolve to no record; when they took places among
 * the nearest `k`, the vector store is asked again, twice as deep, until `k` live hits are
 * found or it has no more.
 */
export async function vectorHits(
  index: SemanticIndex,
  reader: RecordReader,
  extractor: TextExtractor,
  query: NormalizedSearchQuery,
  k: number,
): Promise<SearchHit[]> {
  const filters = filtersOf(query);
  if (filters.length === 0) return [];
  const [vector] = await index.embed([query.text], 'query', () => 'the search text', query.signal);
  // Loads are cached per search, so a deeper round resolves only the matches it adds.
  const resolver = new Resolver(reader, query.skipped);
  const terms = new Set(query.terms);
  for (let depth = Math.min(k + 1, MAX_QUERY_K); ; depth = Math.min(depth * 2, MAX_QUERY_K)) {
    const lists = await Promise.all(filters.map((filter) => index.query(vector!, depth, filter)));
    // A list as long as asked holds every record nearer than its last one, but maybe not all of
    // those at the last one's score: only scores above the highest such last score are complete.
    // At the vector stores' largest `k` there is no asking deeper: the lists are taken as they are.
    let floor = -Infinity;
    if (depth < MAX_QUERY_K) {
      for (const list of lists) if (list.length >= depth) floor = Math.max(floor, list[depth - 1]!.score);
    }
    const matches = lists
      .flat()
      .filter((match) => match.score > floor)
      .flatMap((match) => {
        const ref = parseVectorId(match.id);
        return ref === null ? [] : [{ ref, order: orderRef(ref), score: match.score }];
      })
      .sort((a, b) => b.score - a.score || compareRefs(a.order, b.order));
    const hits = await resolveMatches(matches, k, resolver, extractor, terms);
    if (hits.length >= k || floor === -Infinity) return hits;
  }
}

/**
 * A vector ref as the ref {@link compareRefs} orders: a chain's position among its agent's
 * chains follows its sequence number, so the sequence stands in for the position.
 */
function orderRef(ref: VectorRef): SearchRecordRef {
  return ref.kind === 'reasoning_chains' ? { ...ref, chainIndex: ref.sequence } : ref;
}

/** A vector match with its parsed ref. */
interface RefMatch {
  ref: VectorRef;
  order: SearchRecordRef;
  score: number;
}

/**
 * The first `k` hits of `matches` (in order), without those whose record is gone or has no
 * text: only the records of those up to the `k`-th live one are loaded.
 */
async function resolveMatches(
  matches: readonly RefMatch[],
  k: number,
  resolver: Resolver,
  extractor: TextExtractor,
  terms: ReadonlySet<string>,
): Promise<SearchHit[]> {
  const hits: SearchHit[] = [];
  let started = 0;
  for (let i = 0; i < matches.length && hits.length < k; i += 1) {
    // The loads of the next matches still needed start at once: on a server backend each is a
    // round trip, and hits in 50 conversations were 50 round trips in a row.
    const end = Math.min(matches.length, i + Math.min(LOADS_AHEAD, k - hits.length));
    for (; started < end; started += 1) resolver.prefetch(matches[started]!.ref);
    const { ref, score } = matches[i]!;
    const found = await resolver.resolve(ref);
    // A record without text has no vector: this one is a leftover whose removal failed.
    if (found === null || embeddedText(extractor, ref.kind, found.record) === '') continue;
    const segments = extractor.extract(found.kind, found.record);
    const present = new Set<string>();
    for (const segment of segments)
      for (const token of tokenize(segment)) if (terms.has(token)) present.add(token);
    hits.push({
      ...found,
      score,
      matchedTerms: present.size,
      snippet: buildSnippet(segments, terms, () =>
        extractor.extract(found.kind, unlabelled(found.record, ref.kind)),
      ),
    } as SearchHit);
  }
  return hits;
}

/** The field that labels a record of `kind` rather than saying anything: a raw message's role, a memory's id. */
const LABELS: Partial<Record<VectorRef['kind'], string>> = { raw_messages: 'role', memories: 'memory_id' };

/** `record` without its label field, for a snippet that shows what the record says. */
function unlabelled(record: JsonValue, kind: VectorRef['kind']): JsonValue {
  const label = LABELS[kind];
  if (label === undefined || typeof record !== 'object' || record === null || Array.isArray(record))
    return record;
  const copy: JsonObject = { ...record };
  delete copy[label];
  return copy;
}

/**
 * A hit's kind and ids as one key (a chain by its sequence number: its position shifts with
 * trims). Ids escaped as in vector ids (`idPart`), so ids holding a `/` (a store the Python
 * reference wrote may hold a memory `x/1`) cannot make two records one key; the keys of ids
 * the id rule allows, and so the order of tied hits, are as before.
 */
export function hitKey(hit: SearchHit): string {
  switch (hit.kind) {
    case 'raw_messages':
      return `raw_messages/${idPart(hit.conversationId)}/${hit.messageIndex}`;
    case 'memories':
      return `memories/${idPart(hit.conversationId)}/${idPart(hit.memoryId)}`;
    case 'reasoning_chains':
      return `reasoning_chains/${idPart(hit.agentId)}/${hit.sequence}`;
    default:
      return `${hit.kind}/${idPart(hit.conversationId)}`;
  }
}

/**
 * Fuses full-text and vector hits by reciprocal rank (k = 60) and keeps the best `limit`; a
 * hit's `score` becomes its fused score, its other fields come from the full-text hit when
 * there is one (matched words, marked snippet). Equal fused scores go to the better best rank,
 * then in {@link compareRefs} order (as in the other modes; `reciprocalRankFusion` alone would
 * order them by key string), before `limit` cuts.
 */
export function fuseHits(
  textHits: readonly SearchHit[],
  vectorList: readonly SearchHit[],
  limit: number,
): SearchHit[] {
  const byKey = new Map<string, SearchHit>();
  for (const hit of [...vectorList, ...textHits]) byKey.set(hitKey(hit), hit);
  const fused = reciprocalRankFusion([textHits.map(hitKey), vectorList.map(hitKey)], { k: DEFAULT_RRF_K });
  const bestRank = ({ ranks }: FusedResult): number => Math.min(...ranks.map((rank) => rank ?? Infinity));
  return fused
    .map((result) => ({ hit: { ...byKey.get(result.id)!, score: result.score }, rank: bestRank(result) }))
    .sort((a, b) => b.hit.score - a.hit.score || a.rank - b.rank || compareRefs(a.hit, b.hit))
    .slice(0, limit)
    .map(({ hit }) => hit);
}
