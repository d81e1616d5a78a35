/**
 * What a search returns (hits), and what a backend's index hands the core (candidates).
 */
import type { JsonObject, JsonValue } from '../json.js';

/** Which record a hit or candidate is: its kind and ids. */
export type SearchRecordRef =
  /** One raw message: its conversation and its position in the conversation's list (0-based). */
  | { kind: 'raw_messages'; conversationId: string; messageIndex: number }
  /** One memory: its conversation and memory id. */
  | { kind: 'memories'; conversationId: string; memoryId: string }
  /**
   * One reasoning chain: its agent, its position in the agent's oldest-first list (0-based;
   * a trim shifts it) and its sequence number (as `loadSequencedReasoningChains` reports it;
   * stable under trims).
   */
  | { kind: 'reasoning_chains'; agentId: string; chainIndex: number; sequence: number }
  /** A whole conversation object. */
  | { kind: 'conversations'; conversationId: string }
  /** The chunk info of a conversation. */
  | { kind: 'chunk_info'; conversationId: string };

/** The record of a ref's kind as loads return it (a raw message may be any JSON value). */
type RecordOf<R extends SearchRecordRef> = R extends { kind: 'raw_messages' } ? JsonValue : JsonObject;

/**
 * A record a backend's index found, before the core scores it: the ref, the record as loads
 * return it, and the record's BM25 (FTS5's formula, higher better, >= 0) as the index computed it.
 */
export type SearchCandidate = {
  [K in SearchRecordRef['kind']]: Extract<SearchRecordRef, { kind: K }> & {
    record: RecordOf<Extract<SearchRecordRef, { kind: K }>>;
    bm25: number;
  };
}[SearchRecordRef['kind']];

/** One search result. */
export type SearchHit = {
  [K in SearchRecordRef['kind']]: Extract<SearchRecordRef, { kind: K }> & {
    /** The record as loads return it. */
    record: RecordOf<Extract<SearchRecordRef, { kind: K }>>;
    /**
     * Higher is better: the number of distinct query words the record contains, plus its BM25
     * squashed into [0, 1) (see `hitScore`). Comparable within one search only.
     */
    score: number;
    /** How many distinct query words the record contains. */
    matchedTerms: number;
    /** A short excerpt with the matched words between `«` and `»`; `…` where text was cut. */
    snippet: string;
  };
}[SearchRecordRef['kind']];
