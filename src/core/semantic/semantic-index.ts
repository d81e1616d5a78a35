/**
 * The storage's side of semantic search: one embedder and one vector store, opened and closed
 * with the store, and the steps the write and search paths share (embed records, upsert,
 * remove, query). Knows nothing of any backend.
 */
import { ConfigError, StorageError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { logEvent, type StorageLogger } from '../logger.js';
import type { Page } from '../paging.js';
import type { TextExtractor } from '../search/fields.js';
import { checkedEmbedder } from '../../semantic/embedders/checks.js';
import { HashingEmbedder } from '../../semantic/embedders/hashing.js';
import type { Embedder, EmbedPurpose } from '../../semantic/embedders/types.js';
import {
  type IndexSignature,
  MAX_QUERY_K,
  type VectorFilter,
  type VectorItem,
  type VectorMatch,
} from '../../semantic/vector-stores/types.js';
import { BaseVectorStore } from '../../semantic/vector-stores/base-store.js';
import { EmbedderError } from '../../semantic/errors.js';
import { DEFAULT_MAX_INPUT_CHARS, type SemanticOptions } from './options.js';
import { describeRef, namedEmbedderError } from './embed-errors.js';
import { switchAdvice } from './switch-advice.js';
import { embeddedText, type VectorRef, vectorIdOf } from './vector-ids.js';

/** Texts per `embed()` call: big enough to batch, small enough to bound one request. */
const EMBED_BATCH = 256;

/** A record to embed, with where it lives. */
export interface RecordToEmbed {
  ref: VectorRef;
  record: JsonValue;
}

/** What a write does to the vector store: vectors to upsert, and ids of records that now have no text. */
export interface VectorChanges {
  upserts: VectorItem[];
  /** Records that have no text any more: their old vectors go. */
  emptyIds: string[];
}

/**
 * Runs one call of the vector store: a failure that is no `StorageError` (a user's store
 * throwing a plain `Error`) becomes one naming the call, with the store's error as its cause,
 * as every public method rejects with a `StorageError` (embedders: `checkedEmbedder`).
 */
async function storeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof StorageError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new StorageError(`vector store ${operation} failed: ${reason}`, { cause: error });
  }
}

/**
 * `page` when it is a page of ids (`{ items: string[], next: string | null }`), else a
 * `StorageError` saying what a store of your own returned, rather than a `TypeError` later.
 */
function checkedIdPage(page: unknown, after: string | null): Page<string> {
  const { items, next } = (typeof page === 'object' && page !== null ? page : {}) as Partial<Page<unknown>>;
  if (
    Array.isArray(items) &&
    items.every((id) => typeof id === 'string') &&
    (next === null || typeof next === 'string')
  ) {
    return page as Page<string>;
  }
  const got =
    page === null || typeof page !== 'object'
      ? String(page)
      : `{ items: ${Array.isArray(items) ? 'an array' : typeof items}, next: ${next === null ? 'null' : typeof next} }`;
  throw new StorageError(
    `vector store listIds failed: after ${JSON.stringify(after)} it returned ${got}, not { items: string[], next: string | null }`,
  );
}

/** Embedder + vector store of one storage instance. */
export class SemanticIndex {
  readonly signature: IndexSignature;
  private readonly embedder: Embedder;
  private readonly maxInputChars: number;

  constructor(
    private readonly options: SemanticOptions,
    private readonly extractor: () => TextExtractor,
    private readonly logger: StorageLogger | undefined,
  ) {
    // Every embedder is checked, one given as an instance too: a wrong count or size of vectors
    // would otherwise pair vectors with the wrong records, and a plain Error would reach the
    // caller untyped. (One made by createEmbedder() is checked twice; the checks cost little.)
    const embedder = checkedEmbedder(options.embedder ?? new HashingEmbedder());
    this.embedder = embedder;
    this.maxInputChars = options.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS;
    this.signature = { embedderId: embedder.id, dimensions: embedder.dimensions, metric: 'cosine' };
  }

  /**
   * Opens the vector store for the embedder's signature (`readOnly`: for reading only, see
   * `EnsureIndexOptions`); a mismatch says how to re-embed. On failure a built-in vector store
   * has released what the call opened and can be opened again once the cause is gone (a
   * writer's lock freed); any other store is closed, since what its `ensureIndex` opened to read
   * the signature (a connection) must not outlive a failed `initialize()`.
   */
  async open(readOnly = false): Promise<void> {
    const store = this.options.vectorStore;
    const reusable = store instanceof BaseVectorStore;
    try {
      // Without the option when writable, as before it existed (a user's store may check its arguments).
      await storeCall('ensureIndex', () =>
        readOnly ? store.ensureIndex(this.signature, { readOnly }) : store.ensureIndex(this.signature),
      );
    } catch (error) {
      if (!reusable) await this.close().catch(() => undefined);
      if (!(error instanceof ConfigError)) throw error;
      const advice = switchAdvice(this.signature, readOnly, reusable);
      throw new ConfigError(`${error.message} ${advice}`, 'semantic', error);
    }
  }

  /** Closes the vector store. */
  close(): Promise<void> {
    return storeCall('close', () => this.options.vectorStore.close());
  }

  /**
   * One vector per text, in order, embedded in batches; each text cut to `maxInputChars`, made
   * well-formed. An embedder failure is an `EmbedderError` naming what was embedded: `name(i)`
   * names text `i` (the one whose vector was wrong, or the first of the failed call).
   */
  async embed(
    texts: readonly string[],
    purpose: EmbedPurpose,
    name: (index: number) => string,
    signal?: AbortSignal,
  ): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let at = 0; at < texts.length; at += EMBED_BATCH) {
      // A lone surrogate (which records may hold) becomes U+FFFD, as full-text search reads it:
      // embedders refuse ill-formed text, which would refuse a record the store accepts.
      const batch = texts
        .slice(at, at + EMBED_BATCH)
        .map((text) => cut(text, this.maxInputChars).toWellFormed());
      const options = signal === undefined ? { purpose } : { purpose, signal };
      try {
        const vectors = await this.embedder.embed(batch, options);
        vectors.forEach((vector, index) => {
          // The index is cosine, where a zero vector has no direction: the vector store would refuse
          // it with a ValidationError, after the record's write, blaming the caller for the model.
          if (vector.every((value) => value === 0)) {
            throw new EmbedderError(
              this.embedder.id,
              'malformed',
              `vector ${index} is all zeros, which has no direction for the cosine metric`,
              { index },
            );
          }
        });
        out.push(...vectors);
      } catch (error) {
        if (!(error instanceof EmbedderError)) throw error;
        throw namedEmbedderError(error, at, batch.length, name);
      }
    }
    return out;
  }

  /**
   * One vector per record (purpose `document`), in order; `null` for a record without text.
   * `name(i)` names record `i` in an embedder failure.
   */
  async embedRecords(
    records: ReadonlyArray<{ ref: Pick<VectorRef, 'kind'>; record: JsonValue }>,
    name: (index: number) => string,
  ): Promise<Array<Float32Array | null>> {
    const extractor = this.extractor();
    const texts = records.map(({ ref, record }) => embeddedText(extractor, ref.kind, record));
    // Which record each embedded text is: records without text are not sent.
    const positions = texts.flatMap((text, index) => (text === '' ? [] : [index]));
    const vectors = await this.embed(
      positions.map((index) => texts[index]!),
      'document',
      (index) => name(positions[index]!),
    );
    let next = 0;
    return texts.map((text) => (text === '' ? null : vectors[next++]!));
  }

  /** Embeds records and pairs each vector with its record's id (see {@link VectorChanges}). */
  async prepare(records: readonly RecordToEmbed[]): Promise<VectorChanges> {
    return changesOf(
      records.map((entry) => entry.ref),
      await this.embedRecords(records, (index) => describeRef(records[index]!.ref)),
    );
  }

  /** Upserts vectors (one call: all or none). */
  async upsert(items: readonly VectorItem[]): Promise<void> {
    if (items.length > 0) await storeCall('upsert', () => this.options.vectorStore.upsert(items));
  }

  /** Removes vectors; rejects when the vector store does. */
  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await storeCall('delete', () => this.options.vectorStore.delete(ids));
  }

  /**
   * Removes vectors of records that are gone, after the main write committed: `ids`, or those a
   * function lists (records that could not be read to name them). A failure, of the listing
   * too, is logged, not thrown: search drops ids whose record is gone, and `reindex()` clears them.
   */
  async removeStale(stale: readonly string[] | (() => Promise<string[]>), method: string): Promise<void> {
    let ids: readonly string[] | null = typeof stale === 'function' ? null : stale;
    try {
      ids ??= await (stale as () => Promise<string[]>)();
      await this.remove(ids);
    } catch (error) {
      logEvent(this.logger, 'warn', `${method}: stale vectors could not be removed; reindex() clears them`, {
        method,
        vectors: ids?.length ?? null,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** The nearest vectors to `vector` within `filter`, at most `k` (capped at the stores' limit). */
  query(vector: Float32Array, k: number, filter: VectorFilter): Promise<VectorMatch[]> {
    return storeCall('query', () =>
      this.options.vectorStore.query({ vector, k: Math.min(k, MAX_QUERY_K), filter }),
    );
  }

  /** True when the vector store lists its ids (`listIds`, optional in a store of your own). */
  get listsIds(): boolean {
    return typeof this.options.vectorStore.listIds === 'function';
  }

  /** A page of the vector store's ids, in code point order (only when {@link listsIds}). */
  listIds(after: string | null, limit: number): Promise<Page<string>> {
    const store = this.options.vectorStore;
    return storeCall('listIds', async () => {
      if (store.listIds === undefined) throw new StorageError('vector store listIds failed: it has none');
      // No `after` for the first page: a store of your own may not expect `null`.
      const page: unknown = await store.listIds(after === null ? { limit } : { after, limit });
      return checkedIdPage(page, after);
    });
  }

  /** The vector ids of those of `records` that have text (so a vector), without embedding them. */
  vectorIdsOf(records: readonly RecordToEmbed[]): string[] {
    const extractor = this.extractor();
    return records
      .filter(({ ref, record }) => embeddedText(extractor, ref.kind, record) !== '')
      .map(({ ref }) => vectorIdOf(ref));
  }

  /** How many vectors the vector store holds. */
  count(): Promise<number> {
    return storeCall('count', () => this.options.vectorStore.count());
  }

  /** Drops every vector and starts an empty index (before `reindex()` re-embeds everything). */
  reset(): Promise<void> {
    return storeCall('reset', () => this.options.vectorStore.reset(this.signature));
  }
}

/** The first `max` UTF-16 code units of `text`, never ending in half a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** The vector item of a record. */
export function vectorItem(ref: VectorRef, vector: Float32Array): VectorItem {
  const scope =
    ref.kind === 'reasoning_chains' ? { agentId: ref.agentId } : { conversationId: ref.conversationId };
  return { id: vectorIdOf(ref), vector, kind: ref.kind, ...scope };
}

/** The changes for records `refs` whose vectors (or `null`: no text) are `vectors`, aligned. */
export function changesOf(
  refs: readonly VectorRef[],
  vectors: ReadonlyArray<Float32Array | null>,
): VectorChanges {
  const changes: VectorChanges = { upserts: [], emptyIds: [] };
  refs.forEach((ref, index) => {
    const vector = vectors[index];
    if (vector === null || vector === undefined) changes.emptyIds.push(vectorIdOf(ref));
    else changes.upserts.push(vectorItem(ref, vector));
  });
  return changes;
}
