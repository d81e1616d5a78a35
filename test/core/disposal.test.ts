/** `close()` and `await using`: a store shut down at the end of its scope. */
import { createStorage, NotInitializedError, type StorageInterface } from '../../src/index.js';
import { useTempDir } from '../support/temp-dir.js';

describe('disposal', () => {
  const tempDir = useTempDir('connectome-dispose-');

  it('`await using` shuts a file store down at scope end', async () => {
    let escaped: StorageInterface | undefined;
    {
      await using storage = createStorage('file', { baseDir: tempDir() });
      await storage.initialize();
      await storage.storeConversation('conv_1', { title: 'kept' });
      escaped = storage;
      expect(storage.isInitialized).toBe(true);
    }
    expect(escaped.isInitialized).toBe(false);
    await expect(escaped.loadConversation('conv_1')).rejects.toBeInstanceOf(NotInitializedError);
    // The data was written before the scope closed.
    await using reopened = createStorage('file', { baseDir: tempDir() });
    await reopened.initialize();
    expect(await reopened.loadConversation('conv_1')).toEqual({ title: 'kept' });
  });

  it('`await using` shuts the store down when the scope throws', async () => {
    let escaped: StorageInterface | undefined;
    await expect(
      (async () => {
        await using storage = createStorage('file', { baseDir: tempDir() });
        await storage.initialize();
        escaped = storage;
        throw new Error('boom');
      })(),
    ).rejects.toThrow('boom');
    expect(escaped?.isInitialized).toBe(false);
  });

  it('close() is shutdown(): resolves true and closes the store', async () => {
    const storage = createStorage('file', { baseDir: tempDir() });
    await storage.initialize();
    expect(await storage.close()).toBe(true);
    expect(storage.isInitialized).toBe(false);
    expect(await storage.close()).toBe(true);
  });
});
