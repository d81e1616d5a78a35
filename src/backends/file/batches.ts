/**
 * Batches on the file backend, also used by the single writes (a single write is a batch of
 * one): a conversation's memories and an agent's chains are one file each, so such a batch is
 * one locked read-modify-replace of that file (all or nothing; chains: `FileChains.append`). Cache entries are one file per
 * key: a cache batch writes each file touched once, in order, under that key's lock; a failure
 * reports the items already written (`BatchPartiallyAppliedError`, a prefix).
 */
import {
  BatchPartiallyAppliedError,
  type CacheRecordWrite,
  indexesOfKeys,
  lastWriteWins,
  type MemoryWrite,
  nowTimestamp,
  upsertMemoryInList,
} from '../../core/index.js';
import { cacheEnvelope, type CacheFileEntry, memoriesEnvelope } from './envelopes.js';
import type { FolderFiles } from './folder-files.js';
import type { FolderReads } from './folder-reads.js';
import type { KeyedFiles } from './keyed-files.js';
import type { StoreLayout } from './layout.js';

/** The parts of a file store the batches write through. */
export interface FileBatchParts {
  folders: FolderFiles;
  reads: FolderReads;
  layout: StoreLayout;
  cache: KeyedFiles<CacheFileEntry>;
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
    let memories = read.list; // upsertMemoryInList copies: the cached list is never changed
    for (const write of writes) memories = upsertMemoryInList(memories, write);
    const envelope = memoriesEnvelope(conversationId, memories, nowTimestamp());
    await store.folders.replaceList(file, memories, envelope, read, assertHeld);
  });
}

/** Writes each cache file touched once (a repeated key: its last record), in batch order. */
export async function writeCacheRecordBatch(
  store: FileBatchParts,
  method: string,
  writes: readonly CacheRecordWrite[],
): Promise<void> {
  const written = new Set<string>();
  for (const write of lastWriteWins(writes)) {
    try {
      await store.cache.write(write.key, cacheEnvelope(write.key, write.record));
    } catch (error) {
      if (written.size === 0) throw error;
      const applied = indexesOfKeys(writes, written).sort((a, b) => a - b);
      throw new BatchPartiallyAppliedError(method, writes.length, applied, error);
    }
    written.add(write.key);
  }
}
