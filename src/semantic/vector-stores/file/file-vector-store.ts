/**
 * The file vector store: exact search over vectors held in memory and persisted, crash-safe,
 * beside a file store's data (see `files.ts` for the layout). Each write appends one fsynced
 * frame to the generation's log; compaction rewrites the snapshot once most stored records are
 * dead. One instance writes a folder at a time: it holds the folder's writer lock from its open to
 * `close()` (`writer-lock.ts`). A read-only open takes no lock and follows the writer
 * (`read-only-index.ts`).
 */
import path from 'node:path';
import { z } from 'zod';
import { parseBackendConfig } from '../../../core/config.js';
import { CorruptDataError, StorageError } from '../../../core/errors.js';
import { ensureDirDurable } from '../../../backends/file/atomic-json.js';
import { INTERNAL_DIR } from '../../../backends/file/layout.js';
import { BaseVectorStore } from '../base-store.js';
import type { IndexSignature, VectorMatch } from '../types.js';
import type { PreparedFilter, PreparedItem } from '../validation.js';
import { VectorTable } from '../vector-table.js';
import {
  addLogToVersion1,
  logFile,
  readManifest,
  readSnapshot,
  removeOtherGenerations,
  writeSnapshot,
} from './files.js';
import { encodeDelete, encodeUpsert, replayLog } from './log.js';
import { LogAppender } from './log-appender.js';
import { ReadOnlyIndex } from './read-only-index.js';
import { lockVectorFolder, type WriterLock } from './writer-lock.js';

/**
 * Compaction runs when the files hold at least this many dead records (replaced or deleted
 * ones and tombstones) and at least as many dead as live ones, so each rewrite of the live
 * records is paid for by as many writes before it.
 */
export const COMPACTION_MIN_DEAD = 1000;

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

/** What is open between `ensureIndex()` and `close()`. */
interface OpenIndex {
  signature: IndexSignature;
  table: VectorTable;
  generation: number;
  log: LogAppender;
  /** Records the generation's files hold: the snapshot's, plus every upserted item and tombstone in the log. */
  stored: number;
}

/** Vectors in a float32 snapshot plus an append log, searched exactly in memory. */
export class FileVectorStore extends BaseVectorStore {
  readonly kind = 'file';
  /** Folder holding the manifest and data files. */
  readonly dir: string;
  #open: OpenIndex | null = null;
  #lock: WriterLock | null = null;
  /** The index of a read-only open (`#open` stays `null`). */
  #view: ReadOnlyIndex | null = null;
  // Raised after a failed compaction so a full disk is not retried on every write.
  #compactAtDead = COMPACTION_MIN_DEAD;

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

  /**
   * Runs `task` (an open or a reset) holding the folder's writer lock, taken first if this
   * instance does not hold it yet; if the task fails with no index open, the lock goes again.
   */
  async #locked(task: () => Promise<void>): Promise<void> {
    this.#lock ??= await lockVectorFolder(this.dir);
    try {
      await task();
    } catch (error) {
      if (this.#open === null) await this.#releaseLock();
      throw error;
    }
  }

  async #releaseLock(): Promise<void> {
    const lock = this.#lock;
    this.#lock = null;
    await lock?.release();
  }

  protected async createIndex(signature: IndexSignature): Promise<void> {
    await ensureDirDurable(this.dir);
    await this.#locked(async () => {
      // A reset must also work on a damaged store: its generation number is then unknown, 1 will do.
      const manifest = await readManifest(this.dir).catch(() => null);
      const generation = (manifest?.generation ?? this.#open?.generation ?? 0) + 1;
      await this.#writeGeneration(
        signature,
        generation,
        new VectorTable(signature.dimensions, signature.metric),
      );
    });
  }

  /** Commits `table` as generation `generation` and appends to its (empty) log from now on. */
  async #writeGeneration(signature: IndexSignature, generation: number, table: VectorTable): Promise<void> {
    await writeSnapshot(this.dir, signature, generation, {
      entries: [...table.entries],
      vectors: table.vectors(),
    });
    // The old generation's files are gone now: its log must never take another append.
    await this.#closeLog();
    this.#open = null;
    const log = await LogAppender.open(logFile(this.dir, generation), 0);
    this.#open = { signature, table, generation, log, stored: table.size };
  }

  protected async openIndex(signature: IndexSignature): Promise<void> {
    // Read-only (also when there is no index yet): no lock, no write, an empty folder stays so.
    if (this.readOnly) this.#view = await ReadOnlyIndex.open(this.dir, signature);
    else await this.#locked(() => this.#load(signature));
  }

  /** Reads the open generation's snapshot and replays its log (with the writer lock held). */
  async #load(signature: IndexSignature): Promise<void> {
    let manifest = await readManifest(this.dir);
    if (manifest === null)
      throw new StorageError(`Vector store ${this.dir}: its manifest vanished while opening`);
    const snapshot = await readSnapshot(this.dir, manifest);
    if (manifest.version === 1) manifest = await addLogToVersion1(this.dir, manifest);
    const table = VectorTable.from(
      signature.dimensions,
      signature.metric,
      snapshot.entries,
      snapshot.vectors,
    );
    const file = logFile(this.dir, manifest.generation);
    const replay = await replayLog(file, signature.dimensions, {
      reserve: (maxRecords) => table.reserve(table.size + maxRecords),
      upsert: (item) => table.upsert(item),
      delete: (id) => table.delete(id),
    });
    // Leftovers of a write that crashed before its manifest: never committed, so dropped.
    await removeOtherGenerations(this.dir, manifest.generation);
    // Opening at the committed length cuts off a torn last write, so appends follow whole frames.
    const log = await LogAppender.open(file, replay.length);
    await this.#closeLog();
    this.#open = {
      signature,
      table,
      generation: manifest.generation,
      log,
      stored: manifest.count + replay.records,
    };
  }

  #current(): OpenIndex {
    // BaseVectorStore calls the primitives only between ensureIndex() and close().
    if (this.#open === null) throw new StorageError(`Vector store ${this.dir}: no index is open`);
    return this.#open;
  }

  /** Commits one frame; memory changes only after it is on disk. */
  async #append(frame: Uint8Array): Promise<OpenIndex> {
    const open = this.#current();
    this.#lock?.assertHeld();
    try {
      await open.log.append(frame);
    } catch (error) {
      // The log is not the length this instance wrote: nothing was written, and reloading or
      // cutting the file would take another writer's frames for a torn write.
      if (error instanceof CorruptDataError) throw error;
      // The appender cut its file back; should that have failed too, reloading cuts it at open.
      await this.#closeLog();
      this.#open = null;
      await this.#load(open.signature).catch(() => undefined);
      throw error;
    }
    return open;
  }

  /** Rewrites the live records as a new generation once dead ones dominate the files. */
  async #compactIfDue(open: OpenIndex): Promise<void> {
    const dead = open.stored - open.table.size;
    if (dead < this.#compactAtDead || dead < open.table.size) return;
    try {
      await this.#writeGeneration(open.signature, open.generation + 1, open.table);
      this.#compactAtDead = COMPACTION_MIN_DEAD;
    } catch {
      // The write itself is committed; compaction is housekeeping and is retried after as many dead again.
      this.#compactAtDead = dead * 2;
      if (this.#open === null) await this.#load(open.signature).catch(() => undefined);
    }
  }

  protected async upsertItems(items: PreparedItem[]): Promise<void> {
    const open = await this.#append(encodeUpsert(items, this.#current().signature.dimensions));
    for (const item of items) open.table.upsert(item);
    open.stored += items.length;
    await this.#compactIfDue(open);
  }

  protected async deleteIds(ids: string[]): Promise<number> {
    const existing = ids.filter((id) => this.#current().table.has(id));
    if (existing.length === 0) return 0;
    const open = await this.#append(encodeDelete(existing));
    for (const id of existing) open.table.delete(id);
    open.stored += existing.length;
    await this.#compactIfDue(open);
    return existing.length;
  }

  protected async search(vector: Float32Array, k: number, filter: PreparedFilter): Promise<VectorMatch[]> {
    return (await this.#readable()).search(vector, k, filter);
  }

  protected async countItems(): Promise<number> {
    return (await this.#readable()).size;
  }

  protected async idsAfter(after: string | null, count: number): Promise<string[]> {
    return (await this.#readable()).idsAfter(after, count);
  }

  /** The table to read: a read-only open's after catching up with the writer, else the open index's. */
  async #readable(): Promise<VectorTable> {
    const view = this.#view;
    if (view === null) return this.#current().table;
    await view.refresh();
    return view.table;
  }

  async #closeLog(): Promise<void> {
    await this.#open?.log.close();
  }

  protected async closeStore(): Promise<void> {
    this.#view = null;
    await this.#closeLog();
    this.#open = null;
    await this.#releaseLock();
  }

  /** Nothing here is final: releasing the log and the lock is enough for a later open. */
  protected override releaseFailedOpen(): Promise<void> {
    return this.closeStore();
  }
}
