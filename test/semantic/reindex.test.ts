/**
 * reindex()'s re-embedding (`reembedAll`) on its own: the order of its steps against the owner
 * locks the semantic writes take. The store behaviour is in the conformance suite.
 */
import { StorageError } from '../../src/core/errors.js';
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

/**
 * A memory vector store without `listIds` (optional in the interface, as in a store of your
 * own): reindex() lists its vectors by queries.
 */
class UnlistedVectorStore extends WatchedVectorStore {
  // Hidden from reindex(), which looks for the method on the store.
  override listIds = undefined as unknown as WatchedVectorStore['listIds'];
}

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

  /**
   * A hashing embedder that, before each document call (so all through reindex()), searches the
   * store for the first and last memory of `count` and notes what it found and the count.
   */
  const searchingDuring = (count: number, seen: Array<{ found: string[]; count: number }>): Embedder => {
    const inner = createEmbedder('hashing');
    return {
      id: inner.id,
      dimensions: inner.dimensions,
      embed: async (texts, options) => {
        if (options.purpose === 'document') {
          const found: string[] = [];
          for (const text of ['note 0', `note ${count - 1}`]) {
            const [vector] = await inner.embed([text], { purpose: 'query' });
            const [nearest] = await vectors.query({ vector: vector!, k: 1, filter: { kinds: ['memories'] } });
            found.push(nearest?.id ?? '(none)');
          }
          seen.push({ found, count: await vectors.count() });
        }
        return inner.embed(texts, options);
      },
    };
  };

  /**
   * `count` memories of c1 (records and vectors), one vector of a conversation that is gone and
   * `leftovers` vectors of c1 memories that are gone.
   */
  async function bigStore(
    count: number,
    embedder: Embedder,
    store: WatchedVectorStore = new WatchedVectorStore(),
    leftovers = 0,
  ) {
    vectors = store;
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
      ...Array.from({ length: leftovers }, (_, i) => ({
        id: `c1/left${i}`,
        vector,
        kind: 'memories',
        conversationId: 'c1',
      })),
    ]);
    const { access } = accessTo({ raw: { c1: [] }, memories: { c1: memories }, chains: {} }, vectors);
    return { index, access };
  }

  test('below 4,096 vectors of a kind, a gone owner’s vectors are removed without emptying the index', async () => {
    for (const store of [new WatchedVectorStore(), new UnlistedVectorStore()]) {
      const { index, access } = await bigStore(100, createEmbedder('hashing'), store);
      const resets = jest.spyOn(vectors, 'reset');
      await reembedAll(index, access, undefined);
      expect(await vectors.count()).toBe(100);
      expect(resets).not.toHaveBeenCalled();
      await vectors.close();
    }
  });

  test('from 4,096 vectors of a kind on, a store that lists its ids keeps the index whole for searches meanwhile', async () => {
    const seen: Array<{ found: string[]; count: number }> = [];
    const { index, access } = await bigStore(4100, searchingDuring(4100, seen));
    const resets = jest.spyOn(vectors, 'reset');
    await reembedAll(index, access, undefined);
    expect(resets).not.toHaveBeenCalled();
    // 17 embedding calls of the pass (4,100 texts in batches of 256), one of the gone owner's
    // settling (it has no records: no call); each saw the whole index.
    expect(seen.length).toBeGreaterThanOrEqual(17);
    for (const search of seen) {
      expect(search.found).toEqual(['c1/m0', 'c1/m4099']);
      expect(search.count).toBeGreaterThanOrEqual(4100);
    }
    expect(await vectors.count()).toBe(4100);
    expect((await vectors.listIds({ limit: 10_000 })).items).not.toContain('gone/m0');
  });

  test('a listed owner holding more vectors than a query lists loses its leftovers without emptying the index', async () => {
    const seen: Array<{ found: string[]; count: number }> = [];
    // 200 vectors of c1 memories that are gone, beyond the 4,096 its sweep's query lists.
    const { index, access } = await bigStore(4100, searchingDuring(4100, seen), undefined, 200);
    const resets = jest.spyOn(vectors, 'reset');
    await reembedAll(index, access, undefined);
    expect(resets).not.toHaveBeenCalled();
    for (const search of seen) expect(search.found).toEqual(['c1/m0', 'c1/m4099']);
    expect(await vectors.count()).toBe(4100);
  });

  test('a store without listIds: from 4,096 vectors of a kind on, the index is emptied and refilled; a failed refill says it is partial', async () => {
    const errors: string[] = [];
    // Call 1-17: the pass (4,100 texts in batches of 256); 18: the refill's first.
    const { index, access } = await bigStore(4100, failingAt(18), new UnlistedVectorStore());
    const failure = reembedAll(index, access, { error: (message: string) => errors.push(message) });
    await expect(failure).rejects.toThrow(EmbedderError);
    await expect(failure).rejects.toThrow(/partial; run reindex\(\) again/);
    expect(errors).toEqual([expect.stringMatching(/partial/)]);
    expect(await vectors.count()).toBe(0);
    await reembedAll(index, access, undefined);
    expect(await vectors.count()).toBe(4100);
  });

  test('a store whose listIds() does not move forward fails reindex() with a StorageError, never walks for ever', async () => {
    /** A store of your own whose every page says the next one starts after `c1/m0`. */
    class StuckVectorStore extends WatchedVectorStore {
      override listIds = () => Promise.resolve({ items: ['c1/m0'], next: 'c1/m0' });
    }
    const { index, access } = await bigStore(3, createEmbedder('hashing'), new StuckVectorStore());
    await expect(reembedAll(index, access, undefined)).rejects.toThrow(
      /listIds\(\) did not move forward: after "c1\/m0" it gave next "c1\/m0"/,
    );
  });

  test.each([
    ['undefined', undefined, /it returned undefined, not \{ items: string\[\], next: string \| null \}/],
    ['no next', { items: ['c1/m0'] }, /it returned \{ items: an array, next: undefined \}/],
    ['items not strings', { items: [1], next: null }, /it returned \{ items: an array, next: null \}/],
  ])(
    'a store whose listIds() returns %s fails reindex() with a StorageError saying what it returned',
    async (_name, page, message) => {
      class OddVectorStore extends WatchedVectorStore {
        override listIds = () => Promise.resolve(page as never);
      }
      const { index, access } = await bigStore(3, createEmbedder('hashing'), new OddVectorStore());
      const failure = reembedAll(index, access, undefined);
      await expect(failure).rejects.toBeInstanceOf(StorageError);
      await expect(failure).rejects.toThrow(message);
    },
  );
});
