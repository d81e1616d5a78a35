/**
 * A failed `initialize()` leaves a built-in vector store reusable: it releases what the call
 * opened (the file store's writer lock, the sqlite-vec connection) without closing the store
 * for good, so the same storage and vector-store instances open once the cause is gone.
 */
import { join } from 'node:path';
import {
  ConfigError,
  createEmbedder,
  FileStorage,
  FileVectorStore,
  StorageError,
  VectorStoreInUseError,
} from '../../src/index.js';
import { SqliteVecStore } from '../../src/semantic/vector-stores/sqlite-vec/sqlite-vec-store.js';
import { useTempDir } from '../support/temp-dir.js';
import { delegatingVectorStore } from './delegating-vectors.js';

describe('reopen after a failed initialize()', () => {
  const dir = useTempDir('connectome-reopen-');

  test('file vectors held by another instance: the same instances open once it has closed', async () => {
    const baseDir = dir();
    const holder = new FileVectorStore({ baseDir });
    const embedder = createEmbedder('hashing');
    await holder.ensureIndex({ embedderId: embedder.id, dimensions: embedder.dimensions, metric: 'cosine' });
    const vectorStore = new FileVectorStore({ baseDir });
    const storage = new FileStorage({ baseDir, semantic: { embedder, vectorStore } });
    await expect(storage.initialize()).rejects.toBeInstanceOf(VectorStoreInUseError);
    expect(storage.isInitialized).toBe(false);
    await holder.close();
    await storage.initialize();
    try {
      await storage.storeMemory('c1', 'm1', { summary: 'password recovery' });
      expect(await vectorStore.count()).toBe(1);
    } finally {
      await storage.shutdown();
    }
  });

  test('sqlite-vec vectors of another embedder: reset on the same instance, then initialize() again', async () => {
    const path = join(dir(), 'vectors.db');
    const old = new SqliteVecStore({ path });
    await old.reset({ embedderId: 'old:v1', dimensions: 8, metric: 'cosine' });
    await old.close();
    const embedder = createEmbedder('hashing', { dimensions: 16 });
    const vectorStore = new SqliteVecStore({ path });
    const storage = new FileStorage({ baseDir: join(dir(), 'data'), semantic: { embedder, vectorStore } });
    const refusal = storage.initialize();
    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(refusal).rejects.toThrow(
      /call the vector store's reset\(.*\) \(this instance may be given again\)/,
    );
    await vectorStore.reset({ embedderId: embedder.id, dimensions: 16, metric: 'cosine' });
    await storage.initialize();
    try {
      await storage.storeMemory('c1', 'm1', { summary: 'password recovery' });
      expect(await storage.search({ text: 'password', mode: 'vector' })).toHaveLength(1);
    } finally {
      await storage.shutdown();
    }
  });

  test('a vector store of your own is closed after a failed open (it may hold what it opened)', async () => {
    let closed = 0;
    const own = delegatingVectorStore('own', (inner) => ({
      ensureIndex: () => Promise.reject(new StorageError('index server down (test)')),
      close: () => {
        closed += 1;
        return inner.close();
      },
    }));
    const storage = new FileStorage({ baseDir: dir(), semantic: { vectorStore: own } });
    await expect(storage.initialize()).rejects.toThrow(/index server down/);
    expect(closed).toBe(1);
  });
});
