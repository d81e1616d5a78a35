/**
 * The files of the file vector store, in `<baseDir>/.connectome-storage/vectors/`:
 *
 * - `manifest.json`: `{ format, version, signature, count, generation }`, naming the live generation;
 * - `vectors-<generation>.f32`: the snapshot's `count × dimensions` little-endian float32 values, slot after slot;
 * - `items-<generation>.json`: the snapshot's `[[id, kind, agentId|null, conversationId|null], ...]` in slot order;
 * - `log-<generation>.bin`: the writes made since the snapshot (see `log.ts`).
 *
 * Writes append to the log. A new generation (creating the index, `reset()`, compaction) puts
 * its three data files in place (each temp file, fsync, rename), then the manifest naming it
 * (the commit point), then removes the old generation: a crash at any point leaves the last
 * committed generation readable, and its leftovers are removed at the next open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CorruptDataError, type JsonValue } from '../../../core/index.js';
import { atomicWriteJson, fsyncDir, ioError, readdirOrEmpty } from '../../../backends/file/atomic-json.js';
import { readJsonFile } from '../../../backends/file/json-reads.js';
import { readFileAndStat } from '../../../backends/file/fd-io.js';
import { withDescriptorSlot } from '../../../backends/file/descriptor-budget.js';
import {
  isMissing,
  releaseTempEntry,
  removeAbandonedTempEntries,
  tempEntryName,
} from '../../../backends/file/temp-files.js';
import type { IndexSignature } from '../types.js';
import { validateSignature } from '../validation.js';
import type { TableEntry } from '../vector-table.js';

/** Name of the manifest file. */
export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'connectome-vectors';
// Version 1 (before the log) has no log file; it is read as a generation with an empty log.
const VERSION = 2;
const GENERATION_FILE = /^(?:vectors|items|log)-(\d+)\.(?:f32|json|bin)$/;

/** What the manifest says. */
export interface Manifest {
  signature: IndexSignature;
  count: number;
  generation: number;
  /** Format version: 1 has no log file. */
  version: number;
}

/** One committed generation: its records and their packed vectors. */
export interface Snapshot {
  entries: TableEntry[];
  vectors: Float32Array;
}

const vectorsFile = (dir: string, generation: number): string => path.join(dir, `vectors-${generation}.f32`);
const itemsFile = (dir: string, generation: number): string => path.join(dir, `items-${generation}.json`);
/** Path of a generation's log. */
export const logFile = (dir: string, generation: number): string => path.join(dir, `log-${generation}.bin`);

/** Reads and checks the manifest; `null` when there is none (an empty store). */
export async function readManifest(dir: string): Promise<Manifest | null> {
  const file = path.join(dir, MANIFEST_FILE);
  const value = (await readJsonFile(file)) as Record<string, unknown> | undefined;
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || value.format !== FORMAT) {
    throw new CorruptDataError(file, `not a ${FORMAT} manifest`);
  }
  if (value.version !== VERSION && value.version !== 1)
    throw new CorruptDataError(
      file,
      `format version ${String(value.version)} is not supported (this library writes ${VERSION})`,
    );
  const { count, generation } = value;
  if (
    !Number.isSafeInteger(count) ||
    (count as number) < 0 ||
    !Number.isSafeInteger(generation) ||
    (generation as number) < 0
  ) {
    throw new CorruptDataError(file, 'count and generation must be whole numbers');
  }
  let signature: IndexSignature;
  try {
    signature = validateSignature(value.signature);
  } catch (error) {
    throw new CorruptDataError(file, `bad signature: ${(error as Error).message}`, error);
  }
  return { signature, count: count as number, generation: generation as number, version: value.version };
}

/**
 * The bytes of a file the manifest names. Read through the file backend's descriptor calls
 * (`fd-io.ts`), not `fs.readFile`: anything but a regular file (a FIFO, whose `open` would
 * wait for a writer forever, a folder) is a {@link CorruptDataError} naming it, as a missing
 * one is; other failures are I/O errors naming it.
 */
export async function readGenerationFile(file: string): Promise<Buffer> {
  try {
    return (await readFileAndStat(file)).bytes;
  } catch (error) {
    if (error instanceof CorruptDataError) throw error;
    if (isMissing(error)) throw new CorruptDataError(file, 'missing (the manifest names it)', error);
    throw ioError('read', file, error);
  }
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** Reads the data files of the manifest's generation and checks they agree with it. */
export async function readSnapshot(dir: string, manifest: Manifest): Promise<Snapshot> {
  const { count, generation, signature } = manifest;
  const vectorPath = vectorsFile(dir, generation);
  const itemPath = itemsFile(dir, generation);
  const bytes = await readGenerationFile(vectorPath);
  if (bytes.byteLength !== count * signature.dimensions * 4) {
    throw new CorruptDataError(
      vectorPath,
      `holds ${bytes.byteLength} bytes, expected ${count} × ${signature.dimensions} float32`,
    );
  }
  // The table takes the vectors over and writes into them: view the bytes only when they own
  // their whole ArrayBuffer (never a slice of a shared pool); otherwise copy (also when unaligned).
  const ownsBuffer = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength;
  const vectors = ownsBuffer
    ? new Float32Array(bytes.buffer, 0, bytes.byteLength / 4)
    : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const rows = await readJsonFile(itemPath);
  if (!Array.isArray(rows) || rows.length !== count)
    throw new CorruptDataError(itemPath, `expected a list of ${count} records`);
  const entries = rows.map((row, index): TableEntry => {
    if (!Array.isArray(row) || row.length !== 4)
      throw new CorruptDataError(itemPath, `record ${index} is not [id, kind, agentId, conversationId]`);
    const [id, kind, agentId, conversationId] = row as JsonValue[];
    if (
      typeof id !== 'string' ||
      typeof kind !== 'string' ||
      !isNullableString(agentId) ||
      !isNullableString(conversationId)
    ) {
      throw new CorruptDataError(itemPath, `record ${index} has a field of the wrong type`);
    }
    return { id, kind, agentId, conversationId };
  });
  return { entries, vectors };
}

/**
 * Writes `bytes` to `file` atomically and durably (temp file, fsync, rename), holding a slot of
 * the file backend's descriptor budget (see `descriptor-budget.ts`).
 */
function writeBinaryAtomic(file: string, bytes: Uint8Array): Promise<void> {
  return withDescriptorSlot(file, () => writeBinaryHoldingSlot(file, bytes));
}

async function writeBinaryHoldingSlot(file: string, bytes: Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(file), tempEntryName(path.basename(file)));
  try {
    const handle = await fs.promises.open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  } catch (error) {
    await fs.promises.unlink(temp).catch(() => undefined);
    throw ioError('write', file, error);
  } finally {
    releaseTempEntry(temp);
  }
}

/**
 * Commits `snapshot` as generation `generation` (see the module comment), then removes the
 * files of every other generation.
 */
export async function writeSnapshot(
  dir: string,
  signature: IndexSignature,
  generation: number,
  snapshot: Snapshot,
): Promise<void> {
  const { vectors, entries } = snapshot;
  await writeBinaryAtomic(
    vectorsFile(dir, generation),
    new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength),
  );
  const rows = entries.map((entry) => [entry.id, entry.kind, entry.agentId, entry.conversationId]);
  await atomicWriteJson(itemsFile(dir, generation), rows, { pretty: false });
  await writeBinaryAtomic(logFile(dir, generation), new Uint8Array(0));
  await writeManifest(dir, { signature, count: entries.length, generation, version: VERSION });
  await removeOtherGenerations(dir, generation);
}

/** Commits `manifest` (after syncing the folder, so the files it names are there after a crash). */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await fsyncDir(dir);
  const { signature, count, generation } = manifest;
  const value = { format: FORMAT, version: VERSION, signature: { ...signature }, count, generation };
  await atomicWriteJson(path.join(dir, MANIFEST_FILE), value, { pretty: true });
}

/** Upgrades a version 1 generation in place: adds its empty log, then says so in the manifest. */
export async function addLogToVersion1(dir: string, manifest: Manifest): Promise<Manifest> {
  await writeBinaryAtomic(logFile(dir, manifest.generation), new Uint8Array(0));
  const upgraded = { ...manifest, version: VERSION };
  await writeManifest(dir, upgraded);
  return upgraded;
}

/**
 * Removes data files of generations other than `keep` (a crashed or superseded write) and
 * temp files of dead writers. `keep` = -1 removes every generation.
 */
export async function removeOtherGenerations(dir: string, keep: number): Promise<void> {
  let removed = false;
  for (const name of await readdirOrEmpty(dir)) {
    const match = GENERATION_FILE.exec(name);
    if (!match || Number(match[1]) === keep) continue;
    await fs.promises.unlink(path.join(dir, name)).catch((error: unknown) => {
      if (!isMissing(error)) throw ioError('remove', path.join(dir, name), error);
    });
    removed = true;
  }
  if ((await removeAbandonedTempEntries(dir, Date.now())) > 0 || removed) await fsyncDir(dir);
}
