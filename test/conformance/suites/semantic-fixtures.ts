/** What the semantic conformance suites share: an embedder and a vector store that fail on demand. */
import { type StorageInterface, StorageError } from '../../../src/core/index.js';
import {
  createEmbedder,
  EmbedderError,
  type EmbedOptions,
  type Embedder,
  MemoryVectorStore,
  type VectorItem,
  type VectorMatch,
  type VectorQuery,
} from '../../../src/semantic/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';

/** A hashing embedder that fails while `failing` is set. */
export class SwitchableEmbedder implements Embedder {
  failing = false;
  /** Every text embedded as a document, in order. */
  readonly documents: string[] = [];
  private readonly inner = createEmbedder('hashing');
  readonly id = this.inner.id;
  readonly dimensions = this.inner.dimensions;
  /** Runs once, inside the next document embedding (another writer acting meanwhile). */
  meanwhile: (() => Promise<void>) | undefined;
  /** Runs inside every document embedding while set (not within itself: its own writes embed too). */
  eachDocumentCall: (() => Promise<void>) | undefined;
  #inEachCall = false;
  /** When set, the document embedding call with this number (counted down) fails. */
  failDocumentCall = 0;
  async embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]> {
    if (this.failing) throw new EmbedderError(this.id, 'http', 'service down (test)');
    if (options.purpose === 'document' && this.failDocumentCall > 0 && --this.failDocumentCall === 0)
      throw new EmbedderError(this.id, 'timeout', 'no answer (test)');
    if (options.purpose === 'document') {
      this.documents.push(...texts);
      const meanwhile = this.meanwhile;
      this.meanwhile = undefined;
      await meanwhile?.();
      if (this.eachDocumentCall !== undefined && !this.#inEachCall) {
        this.#inEachCall = true;
        try {
          await this.eachDocumentCall();
        } finally {
          this.#inEachCall = false;
        }
      }
    }
    return this.inner.embed(texts, options);
  }
}

/** An in-memory vector store whose upserts (deletes) fail while `failUpserts` (`failDeletes`) is set. */
export class SwitchableVectorStore extends MemoryVectorStore {
  failUpserts = false;
  failDeletes = false;
  failQueries = false;
  /** Failures as a user's store may throw them: plain `Error`s. */
  plainErrors = false;
  private failure(): Error {
    return this.plainErrors
      ? new Error('vector store down (plain)')
      : new StorageError('vector store down (test)');
  }
  override upsert(items: readonly VectorItem[]): Promise<void> {
    if (this.failUpserts) return Promise.reject(this.failure());
    return super.upsert(items);
  }
  override delete(ids: readonly string[]): Promise<number> {
    if (this.failDeletes) return Promise.reject(this.failure());
    return super.delete(ids);
  }
  override query(query: VectorQuery): Promise<VectorMatch[]> {
    if (this.failQueries) return Promise.reject(this.failure());
    return super.query(query);
  }
}

export interface SemanticStore {
  s: StorageInterface;
  embedder: SwitchableEmbedder;
  vectors: SwitchableVectorStore;
  /** Opens another instance on the same store (meaningful when the harness shares stores). */
  openAnother(extra: Record<string, unknown>): Promise<StorageInterface>;
}

/** A fresh store of the harness's backend with semantic search on. */
export async function openSemantic(
  ctx: SuiteContext,
  extra: Record<string, unknown> = {},
): Promise<SemanticStore> {
  const embedder = new SwitchableEmbedder();
  const vectors = new SwitchableVectorStore();
  const store = await ctx.newStore();
  const s = await store.open({ semantic: { embedder, vectorStore: vectors }, ...extra });
  return { s, embedder, vectors, openAnother: (more) => store.open(more) };
}

export async function vectorIds(s: StorageInterface, text: string, extra: object = {}): Promise<string[]> {
  return (await s.search({ text, mode: 'vector', limit: 50, ...extra })).map(hitId);
}
