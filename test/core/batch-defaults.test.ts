/**
 * The batch defaults a registered backend gets (single primitives in a loop): a failure after
 * some items reports the prefix written with `BatchPartiallyAppliedError` (and a conversation
 * item written in part as such); a failure before anything was written is the failure itself.
 */
import {
  BackendUnavailableError,
  BatchPartiallyAppliedError,
  type CacheRecord,
  type JsonValue,
  type MemoryWrite,
  StorageError,
} from '../../src/core/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

/** A registered-style backend whose writes of one key / memory id fail. */
class FailingStorage extends InMemoryStorage {
  protected override async writeCacheRecord(key: string, record: CacheRecord): Promise<void> {
    if (key === 'boom') throw new BackendUnavailableError('disk went away');
    await super.writeCacheRecord(key, record);
  }

  protected override async upsertMemory(id: string, memory: MemoryWrite): Promise<void> {
    if (memory.memoryId === 'boom') throw new BackendUnavailableError('disk went away');
    await super.upsertMemory(id, memory);
  }

  protected override async writeRawMessages(id: string, messages: JsonValue[]): Promise<void> {
    if (id.startsWith('boom')) throw new BackendUnavailableError('disk went away');
    await super.writeRawMessages(id, messages);
  }
}

async function open(): Promise<FailingStorage> {
  const storage = new FailingStorage();
  await storage.initialize();
  return storage;
}

describe('batch defaults of a backend without native batches', () => {
  it('a cache batch failing at item 2 reports items 0 and 1 as written, and they are', async () => {
    const s = await open();
    const entries = ['a', 'b', 'boom', 'c'].map((key) => ({ key, data: { key } }));
    const error = await s.storeCacheEntries(entries).then(
      () => new Error('resolved'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BatchPartiallyAppliedError);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({
      code: 'BATCH_PARTIALLY_APPLIED',
      method: 'storeCacheEntries',
      total: 4,
      applied: 2,
      appliedItems: [0, 1],
    });
    expect((error as Error).cause).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain('2 of 4 item(s) written');
    expect(await s.loadCacheEntries(['a', 'b', 'boom', 'c'])).toEqual([
      { key: 'a' },
      { key: 'b' },
      null,
      null,
    ]);
  });

  it('a conversation batch failing in a later part of an item reports that item as written in part', async () => {
    const s = await open();
    const rawMessages = [{ role: 'user', content: 'hi' }];
    const item = (conversationId: string) => ({
      conversationId,
      conversation: { id: conversationId },
      rawMessages,
      chunkInfo: { n: 1 },
    });
    // The first item's conversation is written, then its raw messages fail.
    const first = await s.storeConversationBatch([item('boom-0'), item('c1')]).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(BatchPartiallyAppliedError);
    expect(first).toMatchObject({ applied: 0, appliedItems: [], partlyAppliedItems: [0], total: 2 });
    expect((first as Error).message).toContain('0 of 2 item(s) written (and 1 in part) before a failure');
    expect((first as Error).cause).toBeInstanceOf(BackendUnavailableError);
    expect(await s.loadConversation('boom-0')).toEqual({ id: 'boom-0' });
    expect(await s.loadChunkInfo('boom-0')).toBeNull();
    expect(await s.loadConversation('c1')).toBeNull();

    // A later item: the items before it are written, it in part.
    const later = await s.storeConversationBatch([item('c2'), item('boom-3')]).catch((e: unknown) => e);
    expect(later).toMatchObject({ appliedItems: [0], partlyAppliedItems: [1] });
    expect(await s.loadRawMessages('c2')).toEqual(rawMessages);
    expect(await s.loadConversation('boom-3')).toEqual({ id: 'boom-3' });

    // The failing part first: nothing of the item written, the failure itself.
    const none = await s
      .storeConversationBatch([{ conversationId: 'boom-4', rawMessages }, item('c5')])
      .catch((e: unknown) => e);
    expect(none).toBeInstanceOf(BackendUnavailableError);
    expect(await s.loadConversation('c5')).toBeNull();
  });

  it('a memory batch failing at its first item rejects with that failure and writes nothing', async () => {
    const s = await open();
    const memories = ['boom', 'm1'].map((memoryId) => ({ memoryId, data: { memoryId } }));
    await expect(s.storeMemories('c1', memories)).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await s.loadMemories('c1')).toEqual([]);
  });
});
