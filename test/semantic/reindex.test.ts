/**
 * reindex()'s re-embedding (`reembedAll`) on its own: the order of its steps against the owner
 * locks the semantic writes take. The store behaviour is in the conformance suite.
 */
import type { JsonObject, JsonValue } from '../../src/core/json.js';
import { TextExtractor } from '../../src/core/search/fields.js';
import { SemanticIndex } from '../../src/core/semantic/semantic-index.js';
import { reembedAll, type ReembedAccess } from '../../src/core/semantic/reindex.js';
import type { SequencedChain } from '../../src/core/storage-retention.js';
import {
  createEmbedder,
  type Embedder,
  EmbedderError,
  MemoryVectorStore,
  type VectorItem,
} from '../../src/semantic/index.js';

/** A memory vector store that notes which owner lock was held at each upsert. */
class WatchedVectorStore extends MemoryVectorStore {
  readonly upserts: Array<{ ids: string[]; held: string | null }> = [];
  held: () => string | null = () => null;
  override upsert(items: readonly VectorItem[]): Promise<void> {
    this.upserts.push({ ids: items.map((item) => item.id), held: this.held() });
    return super.upsert(items);
  }
}

interface Records {
  raw: Record<string, JsonValue[]>;
  memories: Record<string, JsonObject[]>;
  chains: Record<string, SequencedChain[]>;
}

/** Reads of `records` that note which owner lock each read held. */
function accessTo(records: Records, vectors: WatchedVectorStore) {
  let held: string | null = null;
  const reads: Array<{ owner: string; held: string | null }> = [];
  vectors.held = () => held;
  const access: ReembedAccess = {
    listStoredConversationIds: async () => Object.keys(records.raw),
    listAgentIds: async () => Object.keys(records.chains),
    readRawMessages: async (id) => {
      reads.push({ owner: `c/${id}`, held });
      return records.raw[id] ?? null;
    },
    readMemories: async (id) => {
      reads.push({ owner: `c/${id}`, held });
      return records.memories[id] ?? [];
    },
    readAllSequencedChains: async (id) => {
      reads.push({ owner: `a/${id}`, held });
      return records.chains[id] ?? [];
    },
    exclusive: async (owner, task) => {
      held = owner;
      try {
        return await task();
      } finally {
        held = null;
      }
    },
  };
  return { access, reads };
}

async function openIndex(vectors: WatchedVectorStore): Promise<SemanticIndex> {
  const index = new SemanticIndex({ vectorStore: vectors }, () => new TextExtractor(), undefined);
  await index.open();
  return index;
}

describe('reembedAll', () => {
  let vectors: WatchedVectorStore;
  afterEach(() => vectors.close());

  test("reads, embeds and upserts each owner under that owner's write lock", async () => {
    vectors = new WatchedVectorStore();
    const index = await openIndex(vectors);
    const records: Records = {
      raw: { c1: ['alpha apples'], c2: ['beta bananas'] },
      memories: { c1: [{ memory_id: 'm1', text: 'gamma grapes' }] },
      chains: { a1: [{ sequence: 0, chain: { t: 'delta dates' } }] },
    };
    const { access, reads } = accessTo(records, vectors);
    await reembedAll(index, access, undefined);
    expect(reads).toHaveLength(5);
    for (const read of reads) expect(read.held).toBe(read.owner);
    expect(vectors.upserts).toEqual([
      { ids: ['r/c1/0', 'c1/m1'], held: 'c/c1' },
      { ids: ['r/c2/0'], held: 'c/c2' },
      { ids: ['c/a1/0'], held: 'a/a1' },
    ]);
  });
});

describe('reembedAll: vectors no listed owner holds', () => {
  let vectors: WatchedVectorStore;
  afterEach(() => vectors.close());

  /** A hashing embedder whose document call number `failAt` (counted from 1) fails. */
  const failingAt = (failAt: number): Embedder => {
    const inner = createEmbedder('hashing');
    let calls = 0;
    return {
      id: inner.id,
      dimensions: inner.dimensions,
      embed: (texts, options) => {
        if (options.purpose === 'document' && ++calls === failAt)
          return Promise.reject(new EmbedderError(inner.id, 'timeout', 'no answer (test)'));
        return inner.embed(texts, options);
      },
    };
  };

  /** `count` memories of c1 (records and vectors) and one vector of a conversation that is gone. */
  async function bigStore(count: number, embedder: Embedder) {
    vectors = new WatchedVectorStore();
    const index = new SemanticIndex({ embedder, vectorStore: vectors }, () => new TextExtractor(), undefined);
    await index.open();
    const memories = Array.from({ length: count }, (_, i) => ({ memory_id: `m${i}`, text: `note ${i}` }));
    // Opposite to the probe reindex() lists a kind with (the first axis): the farthest vector,
    // beyond the 4,096 nearest when there are more.
    const vector = new Float32Array(embedder.dimensions);
    vector[0] = -1;
    const all = await createEmbedder('hashing').embed(
      memories.map((memory) => memory.text),
      { purpose: 'document' },
    );
    await vectors.upsert([
      ...memories.map((memory, i) => ({
        id: `c1/${memory.memory_id}`,
        vector: all[i]!,
        kind: 'memories',
        conversationId: 'c1',
      })),
      { id: 'gone/m0', vector, kind: 'memories', conversationId: 'gone' },
    ]);
    const { access } = accessTo({ raw: { c1: [] }, memories: { c1: memories }, chains: {} }, vectors);
    return { index, access };
  }

  test('below 4,096 vectors of a kind, a gone owner’s vectors are removed without emptying the index', async () => {
    const { index, access } = await bigStore(100, createEmbedder('hashing'));
    const resets = jest.spyOn(vectors, 'reset');
    await reembedAll(index, access, undefined);
    expect(await vectors.count()).toBe(100);
    expect(resets).not.toHaveBeenCalled();
  });

  test('from 4,096 vectors of a kind on, the index is emptied and refilled; a failed refill says it is partial', async () => {
    const errors: string[] = [];
    // Call 1-17: the pass (4,100 texts in batches of 256); 18: the refill's first.
    const { index, access } = await bigStore(4100, failingAt(18));
    const failure = reembedAll(index, access, { error: (message: string) => errors.push(message) });
    await expect(failure).rejects.toThrow(EmbedderError);
    await expect(failure).rejects.toThrow(/partial; run reindex\(\) again/);
    expect(errors).toEqual([expect.stringMatching(/partial/)]);
    expect(await vectors.count()).toBe(0);
    await reembedAll(index, access, undefined);
    expect(await vectors.count()).toBe(4100);
  });
});
