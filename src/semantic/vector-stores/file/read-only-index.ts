/**
 * A read-only open of a file vector folder: it takes no writer lock and writes nothing (no
 * torn tail cut, no leftover removed, no version 1 store upgraded), so it can open a folder
 * that a writer (another instance, another process) has open. Before each read it follows the
 * writer: a new manifest generation (compaction, reset) is loaded anew, and the frames appended
 * to the log since the last read are applied. A frame still being written (a half-written last
 * frame) is left for a later read, never taken for corruption.
 */
import fs from 'node:fs';
import { CorruptDataError } from '../../../core/errors.js';
import { ioError } from '../../../backends/file/atomic-json.js';
import { checkRegularFile, READ_FLAGS } from '../../../backends/file/fd-io.js';
import { withDescriptorSlot } from '../../../backends/file/descriptor-budget.js';
import { isMissing } from '../../../backends/file/temp-files.js';
import type { IndexSignature } from '../types.js';
import { sameSignature, signatureMismatch } from '../validation.js';
import { VectorTable } from '../vector-table.js';
import { logFile, type Manifest, readGenerationFile, readManifest, readSnapshot } from './files.js';
import { type LogHandler, replayFrames } from './log.js';

/**
 * Reads of one refresh: a writer may replace the generation between the manifest read and the
 * reads of the files it names (which it then removes), so a failed read is retried while the
 * manifest keeps changing under it.
 */
const REFRESH_ATTEMPTS = 3;

function applyTo(table: VectorTable): LogHandler {
  return {
    reserve: (maxRecords) => table.reserve(table.size + maxRecords),
    upsert: (item) => table.upsert(item),
    delete: (id) => table.delete(id),
  };
}

/**
 * The bytes of `file` from `start` on; `null` when the file is shorter than `start` (it was
 * cut). Holds a slot of the file backend's descriptor budget (see `descriptor-budget.ts`).
 */
function readFrom(file: string, start: number): Promise<Buffer | null> {
  return withDescriptorSlot(file, () => readFromHoldingSlot(file, start));
}

async function readFromHoldingSlot(file: string, start: number): Promise<Buffer | null> {
  let handle: fs.promises.FileHandle;
  try {
    // O_NONBLOCK (READ_FLAGS): a FIFO in the log's place is refused by its fstat, never waited on.
    handle = await fs.promises.open(file, READ_FLAGS);
  } catch (error) {
    if (isMissing(error)) throw new CorruptDataError(file, 'missing (the manifest names it)', error);
    throw ioError('read', file, error);
  }
  try {
    const stat = await handle.stat({ bigint: true });
    checkRegularFile(file, stat);
    const size = Number(stat.size);
    if (size < start) return null;
    const bytes = Buffer.alloc(size - start);
    let read = 0;
    while (read < bytes.byteLength) {
      const { bytesRead } = await handle.read(bytes, read, bytes.byteLength - read, start + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return bytes.subarray(0, read);
  } catch (error) {
    if (error instanceof CorruptDataError) throw error;
    throw ioError('read', file, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The records of a file vector folder as last read, for searching without the writer lock. */
export class ReadOnlyIndex {
  #table: VectorTable;
  /** The generation loaded; `null` while the folder has no index. */
  #generation: number | null = null;
  /** Bytes of the generation's log applied so far (whole frames only). */
  #length = 0;

  private constructor(
    private readonly dir: string,
    private readonly signature: IndexSignature,
  ) {
    this.#table = new VectorTable(signature.dimensions, signature.metric);
  }

  /** Reads the folder's index (none: an empty one) for `signature`. */
  static async open(dir: string, signature: IndexSignature): Promise<ReadOnlyIndex> {
    const index = new ReadOnlyIndex(dir, signature);
    await index.refresh();
    return index;
  }

  /** The records as of the last {@link refresh}. */
  get table(): VectorTable {
    return this.#table;
  }

  /**
   * Catches up with the folder's writer: loads a new generation, or applies the log's new
   * frames. A manifest of another signature (the writer reset the index for another embedder)
   * is a `ConfigError`, as at open.
   */
  async refresh(): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const manifest = await readManifest(this.dir);
      try {
        await this.#follow(manifest);
        return;
      } catch (error) {
        if (attempt >= REFRESH_ATTEMPTS) throw error;
        const now = await readManifest(this.dir).catch(() => null);
        if (now?.generation === manifest?.generation) throw error;
      }
    }
  }

  async #follow(manifest: Manifest | null): Promise<void> {
    if (manifest === null) {
      // No index (yet, or any more): nothing to search.
      if (this.#generation !== null) this.#reset(null, 0);
      return;
    }
    if (!sameSignature(manifest.signature, this.signature))
      throw signatureMismatch(this.dir, manifest.signature, this.signature, true);
    if (manifest.generation !== this.#generation) return this.#load(manifest);
    // Version 1 (before the log) has no log file; a writer upgrades it to a new manifest.
    if (manifest.version === 1) return;
    const file = logFile(this.dir, manifest.generation);
    const bytes = await readFrom(file, this.#length);
    // Shorter than what was applied: not a writer's append; read the generation anew.
    if (bytes === null) return this.#load(manifest);
    const replay = replayFrames(bytes, file, this.signature.dimensions, applyTo(this.#table), this.#length);
    this.#length += replay.length;
  }

  async #load(manifest: Manifest): Promise<void> {
    const { dimensions, metric } = this.signature;
    const snapshot = await readSnapshot(this.dir, manifest);
    const table = VectorTable.from(dimensions, metric, snapshot.entries, snapshot.vectors);
    let length = 0;
    if (manifest.version !== 1) {
      const file = logFile(this.dir, manifest.generation);
      length = replayFrames(await readGenerationFile(file), file, dimensions, applyTo(table)).length;
    }
    this.#table = table;
    this.#reset(manifest.generation, length);
  }

  #reset(generation: number | null, length: number): void {
    if (generation === null) this.#table = new VectorTable(this.signature.dimensions, this.signature.metric);
    this.#generation = generation;
    this.#length = length;
  }
}
