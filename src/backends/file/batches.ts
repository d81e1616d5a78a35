/**
 * Batches on the file backend, also used by the single writes (a single write is a batch of
 * one): a conversation's memories and an agent's chains are one file each, so such a batch is
 * one locked read-modify-replace of that file (all or nothing; chains: `FileChains.append`).
 * Cache entries are one file per key: a cache batch writes each file touched once, under that
 * key's lock, several at once; a failure reports exactly the items written
 * (`BatchPartiallyAppliedError`).
 */
import { mapConcurrent } from '../../core/concurrency.js';
import {
  cacheBatchFailure,
  type CacheRecordWrite,
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

/**
 * Cache key files a batch writes at once. One at a time, each write waited for its own file's
 * and its folder's fsync (a batch of 100 ran as fast as 100 single calls); at once, the file
 * fsyncs overlap and writes into `cache/` share the folder's (see `folder-sync.ts`).
 */
export const CACHE_BATCH_WRITES_AT_ONCE = 32;

/**
 * Writes each cache file touched once (a repeated key: its last record), up to
 * {@link CACHE_BATCH_WRITES_AT_ONCE} at a time, starting them in batch order. After a failure no
 * further write starts, the ones running finish, and the error lists the items written.
 */
export async function writeCacheRecordBatch(
  store: FileBatchParts,
  method: string,
  writes: readonly CacheRecordWrite[],
): Promise<void> {
  const written = new Set<string>();
  try {
    await mapConcurrent(lastWriteWins(writes), CACHE_BATCH_WRITES_AT_ONCE, async (write) => {
      await store.cache.write(write.key, cacheEnvelope(write.key, write.record));
      written.add(write.key);
    });
  } catch (error) {
    throw cacheBatchFailure(method, writes, written, error);
  }
}
