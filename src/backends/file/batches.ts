/**
 * Batches on the file backend, also used by the single writes (a single write is a batch of
 * one): a conversation's memories and an agent's chains are one file each, so such a batch is
 * one locked read-modify-replace of that file (all or nothing; chains: `FileChains.append`).
 * Cache entries are one file per key: a cache batch writes each file touched once, under that
 * key's lock, several at once, and a cache delete batch removes each key's files likewise; a
 * failure reports exactly the items written or removed (`BatchPartiallyAppliedError`).
 */
import {
  cacheBatchFailure,
  type CacheRecordWrite,
  keyedItems,
  lastWriteWins,
  type MemoryWrite,
  nowTimestamp,
  upsertMemoriesInList,
} from '../../core/index.js';
import { cacheEnvelope, type CacheFileEntry, memoriesEnvelope } from './envelopes.js';
import type { FolderFiles } from './folder-files.js';
import type { FolderReads } from './folder-reads.js';
import { writeKeyedBatch } from './keyed-batches.js';
import { removeKeyedBatch } from './keyed-batch-removals.js';
import type { FileLocks } from './file-lock.js';
import type { KeyedFiles } from './keyed-files.js';
import type { StoreLayout } from './layout.js';

/** The parts of a file store the batches write through. */
export interface FileBatchParts {
  folders: FolderFiles;
  reads: FolderReads;
  layout: StoreLayout;
  cache: KeyedFiles<CacheFileEntry>;
  locks: FileLocks;
}

/**
 * Upserts memories in order: one read (`readList`) and one atomic replace (`replaceList`) of the
 * memories file, under the conversation's lock.
 */
export async function upsertMemoryBatch(
  store: FileBatchParts,
  conversationId: string,
  writes: readonly MemoryWrite[],
): Promise<void> {
  await store.folders.withConversation(conversationId, async (assertHeld) => {
    const file = store.layout.conversationFile(conversationId, 'memories');
    // A corrupt file throws here, so the write never replaces memories it could not read.
    const read = await store.folders.readList(file, () => store.reads.memoriesFile(conversationId));
    const memories = upsertMemoriesInList(read.list, writes); // a copy: the cached list is never changed
    const envelope = memoriesEnvelope(conversationId, memories, nowTimestamp());
    await store.folders.replaceList(file, memories, envelope, read, assertHeld);
  });
}

/**
 * Writes each cache file touched once (a repeated key: its last record), all at once in the raw
 * writer's phases (see `keyed-batches.ts`). After a failure the error lists the items written.
 */
export async function writeCacheRecordBatch(
  store: FileBatchParts,
  method: string,
  writes: readonly CacheRecordWrite[],
): Promise<void> {
  const written = new Set<string>();
  const entries = lastWriteWins(writes).map((write) => ({
    key: write.key,
    envelope: cacheEnvelope(write.key, write.record),
  }));
  try {
    await writeKeyedBatch(store.cache, store.locks, entries, (key) => written.add(key));
  } catch (error) {
    throw cacheBatchFailure(method, writes, written, error);
  }
}

/**
 * Removes the cache entries of `keys` (repeated or absent keys are fine) with every lock of a
 * slice held at once and one folder fsync (see `keyed-batch-removals.ts`). After a failure the
 * error lists the items known removed.
 */
export async function removeCacheRecordBatch(store: FileBatchParts, keys: readonly string[]): Promise<void> {
  const removed = new Set<string>();
  try {
    await removeKeyedBatch(store.cache, store.locks, keys, (key) => removed.add(key));
  } catch (error) {
    throw cacheBatchFailure('deleteCacheEntries', keyedItems(keys), removed, error);
  }
}
