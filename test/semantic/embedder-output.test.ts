/**
 * What an embedder returns is checked before any record is written: a vector the vector store
 * would refuse is the embedder's fault (an `EmbedderError`), not the caller's, and must surface
 * before the write, since a chain append cannot be taken back.
 */
import { createVectorStore, type Embedder, EmbedderError, type StorageInterface } from '../../src/index.js';
import { checkedEmbedder } from '../../src/semantic/embedders/checks.js';
import { InMemoryStorage } from '../support/memory-storage.js';

/** An embedder whose every vector is `values` (4 dimensions). */
function fixed(values: number[]): Embedder {
  return {
    id: 'fixed:v1',
    dimensions: values.length,
    embed: async (texts) => texts.map(() => Float32Array.from(values)),
  };
}

/** Like {@link fixed}, but returns plain number arrays (as a user's JSON-speaking embedder may). */
function fixedArrays(values: number[]): Embedder {
  return {
    id: 'fixed:v1',
    dimensions: values.length,
    embed: async (texts) => texts.map(() => [...values]) as unknown as Float32Array[],
  };
}

describe('an embedder vector outside the float32 range', () => {
  // 1e39 is a finite double but Infinity once stored as a float32, which every vector store refuses.
  it('is an EmbedderError (malformed) from the checked embedder', async () => {
    const error: unknown = await checkedEmbedder(fixedArrays([1, 1e39, 0, 0]))
      .embed(['text'], { purpose: 'document' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(EmbedderError);
    expect((error as EmbedderError).failure).toBe('malformed');
    expect((error as EmbedderError).message).toContain('1e+39');
  });

  it.each<[string, (storage: StorageInterface) => Promise<unknown>]>([
    ['storeReasoningChain', (s) => s.storeReasoningChain('a', { thought: 'plan' })],
    ['storeMemory', (s) => s.storeMemory('c', 'm', { content: 'note' })],
  ])('makes %s reject with it and write nothing', async (_, write) => {
    const storage = new InMemoryStorage({
      semantic: { embedder: fixedArrays([1, -1e39, 0, 0]), vectorStore: createVectorStore('memory') },
    });
    await storage.initialize();
    await expect(write(storage)).rejects.toBeInstanceOf(EmbedderError);
    expect(await storage.loadReasoningChains('a')).toEqual([]);
    expect(await storage.loadMemories('c')).toEqual([]);
    await storage.close();
  });

  it('leaves float32-sized values alone', async () => {
    const [vector] = await checkedEmbedder(fixed([1, 3.4e38, 0, 0])).embed(['text'], { purpose: 'query' });
    expect(Array.from(vector ?? [])).toEqual([1, Math.fround(3.4e38), 0, 0]);
  });
});

describe('an embedder vector of all zeros', () => {
  // The store's index is always cosine, where a zero vector has no direction: every vector store
  // refuses it, and only after the record's write would that refusal come.
  it.each<[string, (storage: StorageInterface) => Promise<unknown>]>([
    ['storeReasoningChain', (s) => s.storeReasoningChain('a', { thought: 'plan' })],
    ['storeMemory', (s) => s.storeMemory('c', 'm', { content: 'note' })],
    ['storeRawMessages', (s) => s.storeRawMessages('c', ['hello'])],
  ])('makes %s reject with an EmbedderError (malformed) and write nothing', async (_, write) => {
    const storage = new InMemoryStorage({
      semantic: { embedder: fixed([0, 0, 0, 0]), vectorStore: createVectorStore('memory') },
    });
    await storage.initialize();
    const error: unknown = await write(storage).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EmbedderError);
    expect((error as EmbedderError).failure).toBe('malformed');
    expect(await storage.loadReasoningChains('a')).toEqual([]);
    expect(await storage.loadMemories('c')).toEqual([]);
    expect(await storage.loadRawMessages('c')).toEqual([]);
    await storage.close();
  });

  it('as a query embedding is an EmbedderError too, not a complaint about the caller', async () => {
    const storage = new InMemoryStorage({
      semantic: { embedder: fixed([0, 0, 0, 0]), vectorStore: createVectorStore('memory') },
    });
    await storage.initialize();
    await expect(storage.search({ text: 'plan', mode: 'vector' })).rejects.toBeInstanceOf(EmbedderError);
    await storage.close();
  });
});
