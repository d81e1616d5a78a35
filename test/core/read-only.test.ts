/**
 * The core enforces read-only for every backend, a registered one included: a backend that
 * reports `isReadOnly` never sees a write primitive called.
 */
import { ReadOnlyError, StorageError } from '../../src/core/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

/** A user backend that opens read-only, counting the write primitives that reach it. */
class ReadOnlyMemoryStorage extends InMemoryStorage {
  writesReached = 0;

  override get isReadOnly(): boolean {
    return true;
  }

  protected override async writeConversation(): Promise<void> {
    this.writesReached += 1;
  }

  protected override async removeExpiredCache(): Promise<number> {
    this.writesReached += 1;
    return 0;
  }
}

describe('read-only in the core', () => {
  it('refuses writes of a registered backend that reports isReadOnly, before any primitive runs', async () => {
    const storage = new ReadOnlyMemoryStorage();
    await storage.initialize();
    const store = storage.storeConversation('c', { title: 'x' });
    await expect(store).rejects.toThrow(ReadOnlyError);
    await expect(store).rejects.toMatchObject({
      code: 'READ_ONLY',
      method: 'storeConversation',
      store: 'in-memory',
      message:
        'in-memory storage in-memory is open read-only: storeConversation() refused, nothing was written',
    });
    await expect(storage.purgeExpiredCache()).rejects.toBeInstanceOf(StorageError);
    expect(storage.writesReached).toBe(0);
    // Reads still work, and health says read-only.
    expect(await storage.loadConversation('c')).toBeNull();
    expect(await storage.healthCheck()).toMatchObject({ status: 'healthy', read_only: true });
    await storage.shutdown();
  });

  it('leaves a backend that does not report isReadOnly writable', async () => {
    const storage = new InMemoryStorage();
    await storage.initialize();
    expect(storage.isReadOnly).toBe(false);
    await storage.storeConversation('c', { title: 'x' });
    expect(await storage.loadConversation('c')).toEqual({ title: 'x' });
    expect(await storage.healthCheck()).not.toHaveProperty('read_only');
    await storage.shutdown();
  });
});
