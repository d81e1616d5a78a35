/**
 * Leftover vectors (a removal after a delete failed, which the README calls harmless until the
 * next `reindex()`) must not take the places of live records: vector search asks the vector
 * store for more when some of its nearest ids resolve to records that are gone.
 */
import { createVectorStore, type StorageInterface, type VectorStore } from '../../src/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

/** A memory vector store whose deletes fail, as a vector store that is down for a moment. */
function failingDeletes(): VectorStore {
  const store = createVectorStore('memory');
  store.delete = () => Promise.reject(new Error('vector store down'));
  return store;
}

async function storeWithLeftovers(): Promise<StorageInterface> {
  const storage = new InMemoryStorage({ semantic: { vectorStore: failingDeletes() } });
  await storage.initialize();
  await storage.storeMemory('c', 'm1', { content: 'apple pie recipe' });
  await storage.storeMemory('c', 'm2', { content: 'apple pie recipe with cream' });
  await storage.storeMemory('c', 'm3', { content: 'apple orchard visit' });
  // The vectors of m1 and m2 stay behind; the deletes themselves succeed (a warn is logged).
  expect(await storage.deleteMemory('c', 'm1')).toBe(true);
  expect(await storage.deleteMemory('c', 'm2')).toBe(true);
  return storage;
}

describe('vector search past leftover vectors of deleted records', () => {
  it.each(['vector', 'hybrid'] as const)('%s: fills the limit with live records', async (mode) => {
    const storage = await storeWithLeftovers();
    const hits = await storage.search({ text: 'apple pie recipe', mode, limit: 1 });
    expect(hits.map((hit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind))).toEqual(['m3']);
    await storage.close();
  });

  it('vector: returns every live record when the limit covers them all', async () => {
    const storage = await storeWithLeftovers();
    const hits = await storage.search({ text: 'apple pie recipe', mode: 'vector', limit: 2 });
    expect(hits.map((hit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind))).toEqual(['m3']);
    await storage.close();
  });
});
