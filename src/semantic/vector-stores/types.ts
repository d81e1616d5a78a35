/** The vector store contract: nearest-neighbour search over embedded records, scoped by agent, conversation and kind. */
import type { Page } from '../../core/paging.js';

/** How nearness is measured: `cosine` (1 − cosine similarity) or `l2` (Euclidean distance). */
export type VectorMetric = 'cosine' | 'l2';

/** What an index was filled with; two different signatures are never mixed in one index. */
export interface IndexSignature {
  /** The embedder's id, e.g. `hashing:v1`. */
  embedderId: string;
  /** Vector size. */
  dimensions: number;
  /** Distance measure. */
  metric: VectorMetric;
}

/** A vector as given: numbers or a `Float32Array`. */
export type VectorInput = readonly number[] | Float32Array;

/** One embedded record. */
export interface VectorItem {
  /** The record's id in the vector store (unique; the caller's own scheme, e.g. `memory:conv_1:mem_0`). */
  id: string;
  /** Its vector, of the index's `dimensions`. */
  vector: VectorInput;
  /** What kind of record it is (e.g. `memory`, `reasoning_chain`, `raw_message`); queries can filter by it. */
  kind: string;
  /** The agent it belongs to, for scoped queries. */
  agentId?: string;
  /** The conversation it belongs to, for scoped queries. */
  conversationId?: string;
}

/** Which records a query considers; every given field must match. */
export interface VectorFilter {
  /** Only this agent's records. */
  agentId?: string;
  /** Only this conversation's records. */
  conversationId?: string;
  /** Only records of these kinds (at least one). */
  kinds?: readonly string[];
}

/** A nearest-neighbour query. */
export interface VectorQuery {
  /** The query vector. */
  vector: VectorInput;
  /** How many results at most (1 to {@link MAX_QUERY_K}); fewer only when fewer records match the filter. */
  k: number;
  /** Scope of the search. */
  filter?: VectorFilter;
}

/** One result, nearest first. */
export interface VectorMatch {
  /** The record's id. */
  id: string;
  /** Distance by the index's metric (0 = identical direction or position). */
  distance: number;
  /** Similarity, higher is nearer: cosine similarity (`1 − distance`) or `1 / (1 + distance)` for `l2`. */
  score: number;
}

/** How {@link VectorStore.ensureIndex} opens a store. */
export interface EnsureIndexOptions {
  /**
   * Open for reading only (default `false`): create, change and lock nothing, so a reader can
   * open a store that a writer (another instance or process) has open; `upsert`, `delete` and
   * `reset` then reject with a `ReadOnlyError`. A store without an index opens empty. A store
   * that has no read-only mode may ignore the option (a read-only storage never writes to it).
   */
  readOnly?: boolean;
}

/**
 * A page of {@link VectorStore.listIds}: a keyset page like the storage's listings (README
 * "Paging"), but `after` and `next` are plain record ids, so a store of your own needs no
 * cursor format.
 */
export interface VectorIdPageOptions {
  /** List the ids after this one (the `next` of the previous page); omit it or `null` for the first page. */
  after?: string | null;
  /** Ids per page, 1 to `MAX_PAGE_SIZE` (10,000); default `DEFAULT_PAGE_SIZE` (1,000). */
  limit?: number;
}

/** Largest `k` a query takes (sqlite-vec's `vec0` limit, applied to every store alike). */
export const MAX_QUERY_K = 4096;

/**
 * Stores vectors and finds the nearest ones. Call {@link ensureIndex} first; every other
 * method before it rejects.
 */
export interface VectorStore {
  /** Store name, e.g. `memory`, `file`, `sqlite-vec`. */
  readonly kind: string;
  /**
   * Opens the index for `signature`, creating it when the store is empty. A store filled with
   * another signature is refused with a `ConfigError` (use {@link reset} to re-index). With
   * `readOnly`, see {@link EnsureIndexOptions}. The built-in stores release what a failed call
   * opened and can be opened again once its cause is gone.
   */
  ensureIndex(signature: IndexSignature, options?: EnsureIndexOptions): Promise<void>;
  /** Drops every vector and starts an empty index for `signature` (before re-embedding with a new model). */
  reset(signature: IndexSignature): Promise<void>;
  /** The signature the store was filled with, `null` when it has none yet. */
  signature(): Promise<IndexSignature | null>;
  /** Adds or replaces records by id (ids within one call must be distinct). */
  upsert(items: readonly VectorItem[]): Promise<void>;
  /** Removes records by id; unknown ids are ignored. Returns how many were removed. */
  delete(ids: readonly string[]): Promise<number>;
  /** The `k` nearest records matching the filter, nearest first (ties by id). */
  query(query: VectorQuery): Promise<VectorMatch[]>;
  /** Number of records stored. */
  count(): Promise<number>;
  /**
   * Optional: the stored record ids, one page at a time, in code point order (as the storage's
   * listings; UTF-8 byte order). `items` are the first `limit` ids after `after`; `next` is the
   * last of them when more follow, `null` on the last page (no empty page after it). A walk is
   * stable under concurrent writes: an id stored for the whole walk is listed exactly once.
   * `reindex()` uses it to check every vector against the records; a store without it is
   * checked with queries, which list at most {@link MAX_QUERY_K} vectors of a kind (beyond
   * that, `reindex()` empties the index and fills it again). The built-in stores have it.
   */
  listIds?(options?: VectorIdPageOptions): Promise<Page<string>>;
  /** Releases files and connections; the store cannot be used afterwards. */
  close(): Promise<void>;
}

/** Builds a vector store from its config object. */
export type VectorStoreFactory = (config: unknown) => VectorStore;
