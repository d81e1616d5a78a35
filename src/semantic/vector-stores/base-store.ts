/**
 * What every vector store shares: argument checks before any I/O, the open/closed state, the
 * signature check, the read-only mode (writes refused before any I/O), and one queue so a
 * store's calls run one at a time. A store implements only the primitives below.
 */
import { NotInitializedError, ReadOnlyError } from '../../core/errors.js';
import { KeyedMutex } from '../../core/keyed-mutex.js';
import type { Page } from '../../core/paging.js';
import type {
  EnsureIndexOptions,
  IndexSignature,
  VectorIdPageOptions,
  VectorItem,
  VectorMatch,
  VectorQuery,
  VectorStore,
} from './types.js';
import {
  prepareFilter,
  prepareIds,
  prepareItems,
  type PreparedFilter,
  type PreparedItem,
  sameSignature,
  signatureMismatch,
  validateIdPage,
  validateK,
  validateSignature,
  validateVector,
} from './validation.js';

/** Base of the built-in vector stores; a user's store can implement {@link VectorStore} directly instead. */
export abstract class BaseVectorStore implements VectorStore {
  /** Store name, e.g. `file`. */
  abstract readonly kind: string;
  #state: 'new' | 'open' | 'closed' = 'new';
  #signature: IndexSignature | null = null;
  #readOnly = false;
  readonly #queue = new KeyedMutex();

  /**
   * True while the store is being opened or is open with `readOnly`: the primitives then open
   * files and connections for reading only, and `readSignature()` / `openIndex()` (called for a
   * store without an index too) create nothing.
   */
  protected get readOnly(): boolean {
    return this.#readOnly;
  }

  /** Where the store lives, for messages (a path, `memory`). */
  protected abstract location(): string;
  /** Reads the signature the store was filled with (opening files or connections as needed). */
  protected abstract readSignature(): Promise<IndexSignature | null>;
  /** Drops whatever is stored and starts an empty index for `signature`. */
  protected abstract createIndex(signature: IndexSignature): Promise<void>;
  /** Loads an existing index of `signature` (after its signature matched). */
  protected abstract openIndex(signature: IndexSignature): Promise<void>;
  /** Adds or replaces records, all or none. */
  protected abstract upsertItems(items: PreparedItem[]): Promise<void>;
  /** Removes records; returns how many existed. */
  protected abstract deleteIds(ids: string[]): Promise<number>;
  /** Nearest first, ties by id. */
  protected abstract search(vector: Float32Array, k: number, filter: PreparedFilter): Promise<VectorMatch[]>;
  /** Number of records. */
  protected abstract countItems(): Promise<number>;
  /** The first `count` ids after `after` (all from the first with `null`), in code point order. */
  protected abstract idsAfter(after: string | null, count: number): Promise<string[]>;
  /** Releases files and connections. */
  protected abstract closeStore(): Promise<void>;

  /**
   * Releases what a failed open (`ensureIndex()` or `reset()` of a store not yet open) left
   * open, without making the store final as `closeStore()` may: the store is then opened again
   * from scratch by the next call. Default: nothing.
   */
  protected releaseFailedOpen(): Promise<void> {
    return Promise.resolve();
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.#queue.run('store', task);
  }

  #notReady(method: string, state: 'new' | 'closed'): NotInitializedError {
    const error = new NotInitializedError(`${this.kind} vector`, method, state, this.location());
    error.message =
      state === 'new'
        ? `${this.kind} vector store ${this.location()}: ${method}() called before ensureIndex()`
        : `${this.kind} vector store ${this.location()}: ${method}() called after close()`;
    return error;
  }

  /** The open signature; rejects before `ensureIndex()` and after `close()`. */
  #openSignature(method: string): IndexSignature {
    if (this.#state === 'closed') throw this.#notReady(method, 'closed');
    if (this.#state === 'new' || this.#signature === null) throw this.#notReady(method, 'new');
    return this.#signature;
  }

  /** Refuses a write (`method`) while the store is open read-only, before any I/O. */
  #refuseWrite(method: string): void {
    if (!this.#readOnly || this.#state !== 'open') return;
    const error = new ReadOnlyError(`${this.kind} vector`, method, this.location());
    error.message = `${this.kind} vector store ${this.location()} is open read-only: ${method}() refused, nothing was written`;
    throw error;
  }

  /**
   * Runs an open of a store not yet open (`task`); when it fails, releases what it opened and
   * leaves the store new, so that an open once the cause is gone (a writer's lock freed, a
   * database reachable again) starts from scratch.
   */
  async #opening(readOnly: boolean, task: () => Promise<void>): Promise<void> {
    this.#readOnly = readOnly;
    try {
      await task();
    } catch (error) {
      if (this.#state === 'new') {
        this.#readOnly = false;
        await this.releaseFailedOpen().catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * Marks the store open after `ensureIndex()` or `reset()` did its work, unless `close()` was
   * called meanwhile: the store then stays closed (its `closeStore()` is queued behind this task)
   * and the call rejects, so a closed store never becomes usable again.
   */
  #markOpen(method: string, signature: IndexSignature): void {
    if (this.#state === 'closed') throw this.#notReady(method, 'closed');
    this.#signature = signature;
    this.#state = 'open';
  }

  /**
   * Opens the index (see {@link VectorStore.ensureIndex}). An open store keeps the mode it was
   * opened in: asking an open read-only store for a writable open is a `ReadOnlyError`, while a
   * writable one also serves a read-only open.
   */
  async ensureIndex(signature: IndexSignature, options?: EnsureIndexOptions): Promise<void> {
    const wanted = validateSignature(signature);
    const readOnly = options?.readOnly === true;
    if (this.#state === 'closed') throw this.#notReady('ensureIndex', 'closed');
    await this.#exclusive(async () => {
      // close() may have come while this call waited in the queue: then there is nothing to open.
      if (this.#state === 'closed') throw this.#notReady('ensureIndex', 'closed');
      if (this.#state === 'open' && this.#signature !== null) {
        if (!readOnly) this.#refuseWrite('ensureIndex');
        if (!sameSignature(this.#signature, wanted))
          throw signatureMismatch(this.location(), this.#signature, wanted, readOnly || this.#readOnly);
        return;
      }
      await this.#opening(readOnly, async () => {
        const stored = await this.readSignature();
        if (stored !== null && !sameSignature(stored, wanted))
          throw signatureMismatch(this.location(), stored, wanted, readOnly);
        // A read-only open creates nothing: the store opens what there is, possibly no index.
        if (stored === null && !readOnly) await this.createIndex(wanted);
        else await this.openIndex(wanted);
        this.#markOpen('ensureIndex', wanted);
      });
    });
  }

  async reset(signature: IndexSignature): Promise<void> {
    const wanted = validateSignature(signature);
    if (this.#state === 'closed') throw this.#notReady('reset', 'closed');
    this.#refuseWrite('reset');
    await this.#exclusive(async () => {
      if (this.#state === 'closed') throw this.#notReady('reset', 'closed');
      this.#refuseWrite('reset');
      const task = async (): Promise<void> => {
        await this.createIndex(wanted);
        this.#markOpen('reset', wanted);
      };
      await (this.#state === 'new' ? this.#opening(false, task) : task());
    });
  }

  async signature(): Promise<IndexSignature | null> {
    if (this.#state === 'closed') throw this.#notReady('signature', 'closed');
    return this.#exclusive(async () => (this.#state === 'open' ? this.#signature : this.readSignature()));
  }

  async upsert(items: readonly VectorItem[]): Promise<void> {
    const signature = this.#openSignature('upsert');
    this.#refuseWrite('upsert');
    const prepared = prepareItems(items, signature);
    if (prepared.length === 0) return;
    await this.#exclusive(() => this.upsertItems(prepared));
  }

  async delete(ids: readonly string[]): Promise<number> {
    this.#openSignature('delete');
    this.#refuseWrite('delete');
    const checked = [...new Set(prepareIds(ids))];
    if (checked.length === 0) return 0;
    return this.#exclusive(() => this.deleteIds(checked));
  }

  async query(query: VectorQuery): Promise<VectorMatch[]> {
    const signature = this.#openSignature('query');
    const { vector, k, filter } = (query ?? {}) as Partial<VectorQuery>;
    const checkedVector = validateVector('vector', vector, signature);
    const checkedK = validateK(k);
    const checkedFilter = prepareFilter(filter);
    return this.#exclusive(() => this.search(checkedVector, checkedK, checkedFilter));
  }

  async count(): Promise<number> {
    this.#openSignature('count');
    return this.#exclusive(() => this.countItems());
  }

  /** Record ids, a page at a time (see {@link VectorStore.listIds}). */
  async listIds(options?: VectorIdPageOptions): Promise<Page<string>> {
    this.#openSignature('listIds');
    const { after, limit } = validateIdPage(options);
    // One id more than the page tells whether another page follows, so the last one says so.
    const ids = await this.#exclusive(() => this.idsAfter(after, limit + 1));
    const items = ids.slice(0, limit);
    return { items, next: ids.length > limit ? (items[items.length - 1] as string) : null };
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#exclusive(() => this.closeStore());
  }
}
