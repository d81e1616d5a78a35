/**
 * The file vector store: exact search over vectors held in memory and persisted, crash-safe,
 * beside a file store's data (see `files.ts` for the layout). Every write rewrites the
 * generation's files, so batch upserts; one process writes a folder at a time.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseBackendConfig } from '../../../core/config.js';
import { StorageError } from '../../../core/errors.js';
import { ensureDirDurable } from '../../../backends/file/atomic-json.js';
import { INTERNAL_DIR } from '../../../backends/file/layout.js';
import { BaseVectorStore } from '../base-store.js';
import type { IndexSignature, VectorMatch } from '../types.js';
import type { PreparedFilter, PreparedItem } from '../validation.js';
import { VectorTable } from '../vector-table.js';
import { readManifest, readSnapshot, removeOtherGenerations, writeSnapshot } from './files.js';

/** Config of {@link FileVectorStore}. */
export interface FileVectorStoreConfig {
  /** The file store's base folder (default `./storage_data`); vectors go to `<baseDir>/.connectome-storage/vectors/`. */
  baseDir?: string;
}

const fileSchema = z.object({ baseDir: z.string().min(1).default('./storage_data') });

/** Folder of the vector files under a base folder. */
export function vectorDirOf(baseDir: string): string {
  return path.join(path.resolve(baseDir), INTERNAL_DIR, 'vectors');
}

/** Vectors in a float32 file plus a JSON manifest, searched exactly in memory. */
export class FileVectorStore extends BaseVectorStore {
  readonly kind = 'file';
  /** Folder holding the manifest and data files. */
  readonly dir: string;
  #table: VectorTable | null = null;
  #signature: IndexSignature | null = null;
  #generation = 0;

  constructor(config: FileVectorStoreConfig = {}) {
    super();
    this.dir = vectorDirOf(
      parseBackendConfig('file vector store', fileSchema, config, { acceptSnakeCase: true }).baseDir,
    );
  }

  protected location(): string {
    return this.dir;
  }

  protected async readSignature(): Promise<IndexSignature | null> {
    return (await readManifest(this.dir))?.signature ?? null;
  }

  protected async createIndex(signature: IndexSignature): Promise<void> {
    await ensureDirDurable(this.dir);
    // A reset must also work on a damaged store: its generation number is then unknown, 1 will do.
    const manifest = await readManifest(this.dir).catch(() => null);
    const generation = (manifest?.generation ?? 0) + 1;
    const table = new VectorTable(signature.dimensions, signature.metric);
    await writeSnapshot(this.dir, signature, generation, { entries: [], vectors: table.vectors() });
    this.#adopt(signature, generation, table);
  }

  protected async openIndex(signature: IndexSignature): Promise<void> {
    const manifest = await readManifest(this.dir);
    if (manifest === null)
      throw new StorageError(`Vector store ${this.dir}: its manifest vanished while opening`);
    const snapshot = await readSnapshot(this.dir, manifest);
    // Leftovers of a write that crashed before its manifest: never committed, so dropped.
    await removeOtherGenerations(this.dir, manifest.generation);
    this.#adopt(
      signature,
      manifest.generation,
      VectorTable.from(signature.dimensions, signature.metric, snapshot.entries, snapshot.vectors),
    );
  }

  #adopt(signature: IndexSignature, generation: number, table: VectorTable): void {
    this.#signature = signature;
    this.#generation = generation;
    this.#table = table;
  }

  #open(): { table: VectorTable; signature: IndexSignature } {
    // BaseVectorStore calls the primitives only between ensureIndex() and close().
    if (this.#table === null || this.#signature === null)
      throw new StorageError(`Vector store ${this.dir}: no index is open`);
    return { table: this.#table, signature: this.#signature };
  }

  /** Applies `change` in memory and commits it as the next generation; on failure memory goes back to what is on disk. */
  async #commit(change: (table: VectorTable) => void): Promise<void> {
    const { table, signature } = this.#open();
    change(table);
    try {
      await writeSnapshot(this.dir, signature, this.#generation + 1, {
        entries: [...table.entries],
        vectors: table.vectors(),
      });
      this.#generation += 1;
    } catch (error) {
      this.#table = null;
      await this.openIndex(signature).catch(() => undefined);
      throw error;
    }
  }

  protected upsertItems(items: PreparedItem[]): Promise<void> {
    return this.#commit((table) => {
      for (const item of items) table.upsert(item);
    });
  }

  protected async deleteIds(ids: string[]): Promise<number> {
    const { table } = this.#open();
    if (!ids.some((id) => table.has(id))) return 0;
    let removed = 0;
    await this.#commit((open) => {
      removed = ids.filter((id) => open.delete(id)).length;
    });
    return removed;
  }

  protected search(vector: Float32Array, k: number, filter: PreparedFilter): Promise<VectorMatch[]> {
    return Promise.resolve(this.#open().table.search(vector, k, filter));
  }

  protected countItems(): Promise<number> {
    return Promise.resolve(this.#open().table.size);
  }

  protected closeStore(): Promise<void> {
    this.#table = null;
    return Promise.resolve();
  }
}
