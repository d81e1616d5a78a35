/**
 * A delete of records that do not parse cannot name their vectors, so it lists the vector
 * store's ids by the owner's prefix. When that listing fails the delete still lands, and the
 * vectors left behind are reported with the `warn` event a failed removal logs (until f5860c7
 * the listing's failure was swallowed: nothing was logged, the vectors stayed unannounced).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createEmbedder,
  FileStorage,
  type Page,
  type StorageInterface,
  type VectorStore,
} from '../../src/index.js';
import { useTempDir } from '../support/temp-dir.js';
import { delegatingVectorStore } from './delegating-vectors.js';

/** A memory vector store whose `listIds` (optional in a store of your own) fails, as one that is down for a moment. */
function unlistableVectors(): VectorStore {
  return delegatingVectorStore('unlistable-memory', () => ({
    listIds: (): Promise<Page<string>> => Promise.reject(new Error('vector listing down')),
  }));
}

/** One `warn` event as the store's logger received it. */
interface Warned {
  message: string;
  details: Record<string, unknown> | undefined;
}

describe('a delete of unreadable records whose vector listing fails', () => {
  const dir = useTempDir('connectome-stale-listing-');

  async function openStorage(vectorStore: VectorStore, warned: Warned[]): Promise<StorageInterface> {
    const storage = new FileStorage({
      baseDir: dir(),
      logger: { warn: (message, details) => warned.push({ message, details }) },
      semantic: { embedder: createEmbedder('hashing'), vectorStore },
    });
    await storage.initialize();
    return storage;
  }

  it('deleteConversation deletes the conversation and logs the vectors it could not remove', async () => {
    const warned: Warned[] = [];
    const vectors = unlistableVectors();
    const storage = await openStorage(vectors, warned);
    try {
      await storage.storeRawMessages('c1', [{ content: 'apple pie' }]);
      await storage.storeMemory('c1', 'm1', { summary: 'apple crumble' });
      expect(await vectors.count()).toBe(2);
      await writeFile(join(dir(), 'conversations', 'c1', 'memories.json'), '{"memories": [ {');

      await expect(storage.deleteConversation('c1')).resolves.toBe(true);
      expect(await storage.listAllConversationIds()).toEqual([]);
      expect(await vectors.count()).toBe(2); // left to reindex(), as the event says
      expect(warned).toEqual([
        {
          message: 'deleteConversation: stale vectors could not be removed; reindex() clears them',
          details: {
            method: 'deleteConversation',
            vectors: null,
            error: expect.stringContaining('vector listing down'),
          },
        },
      ]);
    } finally {
      await storage.shutdown();
    }
  });

  it('deleteReasoningChains deletes the chains and logs the vectors it could not remove', async () => {
    const warned: Warned[] = [];
    const vectors = unlistableVectors();
    const storage = await openStorage(vectors, warned);
    try {
      await storage.storeReasoningChain('a1', { thought: 'apple harvest' });
      expect(await vectors.count()).toBe(1);
      await writeFile(join(dir(), 'agents', 'a1', 'reasoning_chains.json'), '{"chains": [ {');

      await expect(storage.deleteReasoningChains('a1')).resolves.toBe(true);
      expect(await storage.loadReasoningChains('a1')).toEqual([]);
      expect(await vectors.count()).toBe(1);
      expect(warned).toEqual([
        {
          message: 'deleteReasoningChains: stale vectors could not be removed; reindex() clears them',
          details: {
            method: 'deleteReasoningChains',
            vectors: null,
            error: expect.stringContaining('vector listing down'),
          },
        },
      ]);
    } finally {
      await storage.shutdown();
    }
  });
});
