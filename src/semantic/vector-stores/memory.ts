/** The in-memory vector store: exact search, gone when the process ends. For tests and small, short-lived indexes. */
import { z } from 'zod';
import { parseBackendConfig } from '../../core/config.js';
import { StorageError } from '../../core/errors.js';
import { BaseVectorStore } from './base-store.js';
import type { IndexSignature, VectorMatch } from './types.js';
import type { PreparedFilter, PreparedItem } from './validation.js';
import { VectorTable } from './vector-table.js';

/** Vectors held in this process only. */
export class MemoryVectorStore extends BaseVectorStore {
  readonly kind = 'memory';

  /** Takes no options; any key is refused with a `ConfigError`. */
  constructor(config: Record<string, never> = {}) {
    super();
    parseBackendConfig('memory vector store', z.object({}), config);
  }

  #table: VectorTable | null = null;
  #stored: IndexSignature | null = null;

  protected location(): string {
    return '(in memory)';
  }

  protected readSignature(): Promise<IndexSignature | null> {
    return Promise.resolve(this.#stored);
  }

  protected createIndex(signature: IndexSignature): Promise<void> {
    this.#table = new VectorTable(signature.dimensions, signature.metric);
    this.#stored = signature;
    return Promise.resolve();
  }

  protected openIndex(signature: IndexSignature): Promise<void> {
    // A read-only open of an empty store: an empty table, stored nowhere.
    this.#table ??= new VectorTable(signature.dimensions, signature.metric);
    return Promise.resolve();
  }

  #open(): VectorTable {
    // BaseVectorStore calls this only between ensureIndex() and close().
    if (this.#table === null) throw new StorageError('memory vector store: no index is open');
    return this.#table;
  }

  protected upsertItems(items: PreparedItem[]): Promise<void> {
    const table = this.#open();
    for (const item of items) table.upsert(item);
    return Promise.resolve();
  }

  protected deleteIds(ids: string[]): Promise<number> {
    const table = this.#open();
    return Promise.resolve(ids.filter((id) => table.delete(id)).length);
  }

  protected search(vector: Float32Array, k: number, filter: PreparedFilter): Promise<VectorMatch[]> {
    return Promise.resolve(this.#open().search(vector, k, filter));
  }

  protected countItems(): Promise<number> {
    return Promise.resolve(this.#open().size);
  }

  protected idsAfter(after: string | null, count: number): Promise<string[]> {
    return Promise.resolve(this.#open().idsAfter(after, count));
  }

  protected closeStore(): Promise<void> {
    this.#table = null;
    return Promise.resolve();
  }
}
