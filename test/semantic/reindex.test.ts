/**
 * reindex()'s re-embedding (`reembedAll`) on its own: the order of its steps against the owner
 * locks the semantic writes take. The store behaviour is in the conformance suite.
 */
import type { JsonObject, JsonValue } from '../../src/core/json.js';
import { TextExtractor } from '../../src/core/search/fields.js';
import { SemanticIndex } from '../../src/core/semantic/semantic-index.js';
import { reembedAll, type ReembedAccess } from '../../src/core/semantic/reindex.js';
import type { SequencedChain } from '../../src/core/storage-retention.js';
import { MemoryVectorStore, type VectorItem } from '../../src/semantic/index.js';

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
