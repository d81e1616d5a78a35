/**
 * The default search: reads every record of the searched kinds and scope through the
 * backend's primitives and ranks them in memory. Correct on any backend (a registered one
 * too), and the reference the native indexes must agree with; its cost grows with the store.
 */
import { throwIfAborted } from '../abort.js';
import { mapConcurrent } from '../concurrency.js';
import type { JsonObject, JsonValue } from '../json.js';
import { sortedByCodePoint } from '../order.js';
import type { SequencedChain } from '../storage-retention.js';
import type { TextExtractor } from './fields.js';
import type { SearchCandidate } from './hits.js';
import type { NormalizedSearchQuery, SearchKind } from './query.js';
import { compareRefs } from './rank.js';
import { bm25Idf, bm25Score, hitScore, termFrequencies } from './scoring.js';
import { tokenize } from './tokenizer.js';
import { readOwnerList, type SkipItem, skipUnreadable } from './unreadable.js';

/** The primitives the scan reads with (bound to a backend); listings may repeat an id. */
export interface ScanSource {
  /** Ids with a stored conversation, in any order. */
  listConversationIds(): Promise<string[]>;
  /** Ids with any stored kind, in any order (an id may repeat, e.g. once per kind). */
  listStoredConversationIds(): Promise<string[]>;
  /** Agents holding a reasoning chain, in any order. */
  listAgentIds(): Promise<string[]>;
  /** The conversation object of the id, or `null` when none is stored. */
  readConversation(conversationId: string): Promise<JsonObject | null>;
  /** `skip` (a search with `unreadable: 'skip'`): the items that do not parse go there (see {@link SkipItem}). */
  readRawMessages(conversationId: string, skip?: SkipItem): Promise<JsonValue[] | null>;
  /** The conversation's memories in insertion order (`[]` when none); `skip` as for raw messages. */
  readMemories(conversationId: string, skip?: SkipItem): Promise<JsonObject[]>;
  /** Every chain of the agent with its sequence number, oldest first. */
  readSequencedChains(agentId: string, skip?: SkipItem): Promise<SequencedChain[]>;
  /** The chunk info of the conversation, or `null` when none is stored. */
  readChunkInfo(conversationId: string): Promise<JsonObject | null>;
}

/** Reads in flight at once while scanning. */
const SCAN_CONCURRENCY = 8;

/** A candidate without its score yet, with its query-term frequencies and length. */
interface Scanned {
  candidate: SearchCandidate;
  frequencies: number[];
  length: number;
}

/**
 * `read()`, or `[]` when the record it reads (a conversation, a chunk info) does not parse and
 * the query skips unreadable records.
 */
async function readOwner<T>(
  query: NormalizedSearchQuery,
  kind: SearchKind,
  owner: string,
  read: () => Promise<T[]>,
): Promise<T[]> {
  try {
    return await read();
  } catch (error) {
    skipUnreadable(query.skipped, error, kind, owner);
    return [];
  }
}

/** The records of one kind, as candidates with a zero score. */
async function readKind(
  source: ScanSource,
  kind: SearchKind,
  query: NormalizedSearchQuery,
): Promise<SearchCandidate[]> {
  if (kind === 'reasoning_chains') {
    const agents = query.agentId !== null ? [query.agentId] : sortedByCodePoint(await source.listAgentIds());
    const lists = await mapConcurrent(agents, SCAN_CONCURRENCY, (agentId) =>
      readOwnerList(query.skipped, kind, agentId, (skip) => source.readSequencedChains(agentId, skip)),
    );
    return agents.flatMap((agentId, a) => {
      const { items, positions } = lists[a]!;
      return items.map(({ sequence, chain }, i) => ({
        kind,
        agentId,
        chainIndex: positions?.[i] ?? i,
        sequence,
        record: chain,
        bm25: 0,
      }));
    });
  }
  // A registered backend's listing may name an id once per kind it holds (the primitives'
  // contract does not forbid it): each id is read once.
  const ids =
    query.conversationId !== null
      ? [query.conversationId]
      : sortedByCodePoint(
          kind === 'conversations'
            ? await source.listConversationIds()
            : await source.listStoredConversationIds(),
        );
  const perId = await mapConcurrent(ids, SCAN_CONCURRENCY, (conversationId) =>
    readConversationKind(source, kind, conversationId, query),
  );
  return perId.flat();
}

/** The records of one kind of a conversation, as candidates with a zero score. */
async function readConversationKind(
  source: ScanSource,
  kind: Exclude<SearchKind, 'reasoning_chains'>,
  conversationId: string,
  query: NormalizedSearchQuery,
): Promise<SearchCandidate[]> {
  switch (kind) {
    case 'raw_messages': {
      const { items, positions } = await readOwnerList(query.skipped, kind, conversationId, (skip) =>
        source.readRawMessages(conversationId, skip),
      );
      return items.map((record, i) => ({
        kind,
        conversationId,
        messageIndex: positions?.[i] ?? i,
        record,
        bm25: 0,
      }));
    }
    case 'memories': {
      const { items } = await readOwnerList(query.skipped, kind, conversationId, (skip) =>
        source.readMemories(conversationId, skip),
      );
      return items.map((record) => ({
        kind,
        conversationId,
        memoryId: String(record.memory_id),
        record,
        bm25: 0,
      }));
    }
    case 'conversations':
    case 'chunk_info':
      return readOwner(query, kind, conversationId, async () => {
        const record = await (kind === 'conversations'
          ? source.readConversation(conversationId)
          : source.readChunkInfo(conversationId));
        return record === null ? [] : [{ kind, conversationId, record, bm25: 0 }];
      });
  }
}

/**
 * Searches by reading every record in scope: BM25 over the scanned records (the corpus is
 * what the query's kinds and scope cover), records with the most distinct query words first.
 * Returns at most `query.limit` candidates, best first.
 */
export async function scanSearch(
  source: ScanSource,
  query: NormalizedSearchQuery,
  extractor: TextExtractor,
): Promise<SearchCandidate[]> {
  const scanned: Scanned[] = [];
  const documentFrequency = new Array<number>(query.terms.length).fill(0);
  let documents = 0;
  let totalLength = 0;
  for (const kind of query.kinds) {
    throwIfAborted(query.signal, 'search');
    for (const candidate of await readKind(source, kind, query)) {
      const tokens = extractor.extract(kind, candidate.record).flatMap(tokenize);
      documents += 1;
      totalLength += tokens.length;
      const frequencies = termFrequencies(tokens, query.terms);
      const matched = frequencies.filter((f) => f > 0).length;
      frequencies.forEach((f, i) => {
        if (f > 0) documentFrequency[i] = (documentFrequency[i] as number) + 1;
      });
      if (matched === 0 || (query.match === 'all' && matched < query.terms.length)) continue;
      scanned.push({ candidate, frequencies, length: tokens.length });
    }
  }
  const corpus = { documentCount: documents, averageLength: documents === 0 ? 0 : totalLength / documents };
  const idfs = documentFrequency.map((df) => bm25Idf(df, documents));
  const ranked = scanned.map(({ candidate, frequencies, length }) => {
    const bm25 = bm25Score(frequencies, idfs, length, corpus);
    return {
      candidate: { ...candidate, bm25 },
      score: hitScore(frequencies.filter((f) => f > 0).length, bm25),
    };
  });
  // The hits' own score, not (matched, BM25): two BM25s the squash makes equal are a tie the
  // core orders by ref, so the cut must too.
  ranked.sort((a, b) => b.score - a.score || compareRefs(a.candidate, b.candidate));
  return ranked.slice(0, query.limit).map((r) => r.candidate);
}
