/**
 * A query against the file index's segments: BM25 over the segments in scope (their own
 * corpus figures, the same corpus the default scan reads, so scores match it), the best
 * `limit` records, and the candidates with their records read from the data files.
 */
import {
  bm25Idf,
  bm25Score,
  cloneStoredJson,
  compareRefs,
  CorruptDataError,
  hitScore,
  type JsonValue,
  type NormalizedSearchQuery,
  type SearchCandidate,
  type SearchRecordRef,
} from '../../core/index.js';
import { type Segment, termsOf } from './search-segments.js';
import type { FileIdentity } from './atomic-json.js';
import type { SourceContent } from './search-sources.js';

/** One record of a segment holding query terms, with its figures. */
export interface RankedDoc {
  segment: Segment;
  position: number;
  matched: number;
  bm25: number;
  /** The hit's score (`hitScore`), which orders records. */
  score: number;
}

/** The ids of a segment's record (what hits report), for ordering and for the candidate. */
function refOf(segment: Segment, position: number, firstSequence = 0): SearchRecordRef {
  const { kind, owner } = segment;
  switch (kind) {
    case 'raw_messages':
      return { kind, conversationId: owner, messageIndex: position };
    case 'memories':
      return { kind, conversationId: owner, memoryId: segment.ids?.[position] ?? '' };
    case 'reasoning_chains':
      return { kind, agentId: owner, chainIndex: position, sequence: firstSequence + position };
    default:
      return { kind, conversationId: owner };
  }
}

/**
 * The best `query.limit` records of `segments` holding a query term (every term for `'all'`):
 * by the hits' score (most distinct terms, then BM25), then the ids' order (as the core and the
 * default scan).
 */
export function rankSegments(segments: readonly Segment[], query: NormalizedSearchQuery): RankedDoc[] {
  const { terms } = query;
  const documentFrequency = new Array<number>(terms.length).fill(0);
  let documents = 0;
  let totalLength = 0;
  const found: Array<{ segment: Segment; frequencies: Map<number, number[]> }> = [];
  for (const segment of segments) {
    documents += segment.lengths.length;
    totalLength += segment.totalLength;
    let frequencies: Map<number, number[]> | undefined;
    const postingsOf = termsOf(segment);
    terms.forEach((term, t) => {
      const postings = postingsOf.get(term);
      if (postings === undefined) return;
      documentFrequency[t] = (documentFrequency[t] as number) + postings.length / 2;
      frequencies ??= new Map();
      for (let i = 0; i < postings.length; i += 2) {
        const position = postings[i] as number;
        let row = frequencies.get(position);
        if (row === undefined) frequencies.set(position, (row = new Array<number>(terms.length).fill(0)));
        row[t] = postings[i + 1] as number;
      }
    });
    if (frequencies !== undefined) found.push({ segment, frequencies });
  }
  const corpus = { documentCount: documents, averageLength: documents === 0 ? 0 : totalLength / documents };
  const idfs = documentFrequency.map((df) => bm25Idf(df, documents));
  const ranked: RankedDoc[] = [];
  for (const { segment, frequencies } of found) {
    for (const [position, row] of frequencies) {
      const matched = row.reduce((n, f) => (f > 0 ? n + 1 : n), 0);
      if (query.match === 'all' && matched < terms.length) continue;
      const length = segment.lengths[position] as number;
      const bm25 = bm25Score(row, idfs, length, corpus);
      ranked.push({ segment, position, matched, bm25, score: hitScore(matched, bm25) });
    }
  }
  // By the hits' own score (two BM25s the squash makes equal are a tie), then as the core orders
  // ties, so the cut keeps the records the core would.
  ranked.sort(
    (a, b) => b.score - a.score || compareRefs(refOf(a.segment, a.position), refOf(b.segment, b.position)),
  );
  return ranked.slice(0, query.limit);
}

/**
 * The candidates of ranked records, each with its record (a copy: the caller may change it)
 * from `contents`, the data read for each segment (`firsts`: a chains segment's first sequence
 * number); `null` when a data file is no longer the one its segment indexed (the caller checks
 * the index again and retries).
 */
export function toCandidates(
  ranked: readonly RankedDoc[],
  contents: ReadonlyMap<Segment, SourceContent | null>,
  firsts: ReadonlyMap<Segment, number>,
): SearchCandidate[] | null {
  const out: SearchCandidate[] = [];
  for (const { segment, position, bm25 } of ranked) {
    const content = contents.get(segment);
    if (content === null || content === undefined || content.identity !== segment.source) return null;
    const record = cloneStoredJson(content.records[position] as JsonValue);
    if (record === undefined) return null;
    out.push({ ...refOf(segment, position, firsts.get(segment)), record, bm25 } as SearchCandidate);
  }
  return out;
}

/** The sequence file of a chains segment's agent does not parse (`cause`). */
export class UnreadableSequence extends Error {
  constructor(
    readonly segment: Segment,
    override readonly cause: CorruptDataError,
  ) {
    super(cause.message);
  }
}

/**
 * The sequence number of the first chain of each chains segment in `segments`, read with the
 * records in `contents` (`firstOf`: the store's `firstChainSequence`); `null` when a chains file
 * changed since those were read (a trim landing between the two reads would shift the hits'
 * numbers: the caller searches again). A sequence file that does not parse is an
 * {@link UnreadableSequence} naming the segment.
 */
export async function chainFirsts(
  segments: readonly Segment[],
  contents: ReadonlyMap<Segment, SourceContent | null>,
  firstOf: (agentId: string, chains: readonly JsonValue[], identity: FileIdentity) => Promise<number | null>,
): Promise<Map<Segment, number> | null> {
  const firsts = new Map<Segment, number>();
  for (const segment of segments) {
    const content = contents.get(segment);
    if (segment.kind !== 'reasoning_chains' || content === null || content === undefined) continue;
    const { records, identity } = content;
    const first = await firstOf(segment.owner, records, identity).catch((error: unknown) => {
      throw error instanceof CorruptDataError ? new UnreadableSequence(segment, error) : error;
    });
    if (first === null) return null;
    firsts.set(segment, first);
  }
  return firsts;
}
