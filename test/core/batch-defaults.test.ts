/**
 * The batch defaults a registered backend gets (single primitives in a loop): a failure after
 * some items reports the prefix written with `BatchPartiallyAppliedError`; a failure of the
 * first item is the failure itself, with nothing written.
 */
import {
  BackendUnavailableError,
  BatchPartiallyAppliedError,
  type CacheRecord,
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

  it('a memory batch failing at its first item rejects with that failure and writes nothing', async () => {
    const s = await open();
    const memories = ['boom', 'm1'].map((memoryId) => ({ memoryId, data: { memoryId } }));
    await expect(s.storeMemories('c1', memories)).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await s.loadMemories('c1')).toEqual([]);
  });
});
