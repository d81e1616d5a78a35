/**
 * Conformance: vector and hybrid search order tied scores as full-text search does
 * (`compareRefs`: kind, owner id in code point order, then message index, chain position or
 * memory id), and `limit` cuts that one order: a search with `limit: n` returns the first n hits
 * of the same search with a larger limit, with every vector store. Identical texts embed to
 * identical vectors (hashing embedder), so they tie. The ids are chosen where the vector ids'
 * string order (which the vector stores break ties by) differs from the refs' order: message
 * 10 before 2, `c1-x/…` before `c1/…`, chains (`c/…`) before memories and raw messages (`r/…`),
 * an owner above U+FFFF before one at U+FFFD.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareRefs,
  type SearchHit,
  type SearchQuery,
  type StorageInterface,
} from '../../../src/core/index.js';
import {
  createEmbedder,
  FileVectorStore,
  MemoryVectorStore,
  SqliteVecStore,
  type VectorStore,
} from '../../../src/semantic/index.js';
import type { SuiteContext } from '../context.js';
import { expectLimitPrefixes, hitId } from './hit-ids.js';

const TEXT = 'tied words here';
const VECTOR_STORES: ReadonlyArray<[string, (dir: string) => VectorStore]> = [
  ['memory', () => new MemoryVectorStore()],
  ['file', (dir) => new FileVectorStore({ baseDir: dir })],
  ['sqlite-vec', (dir) => new SqliteVecStore({ path: join(dir, 'vectors.db') })],
];

/** Conversation ids in a scrambled order, with ids whose vector ids sort unlike the ids. */
const CONVERSATIONS = [
  ...Array.from({ length: 12 }, (_, i) => `c${(i * 7) % 12}`),
  'c1-x',
  'c\u{1F600}',
  'c\uFFFD',
];
const AGENTS = [...Array.from({ length: 8 }, (_, i) => `g${(i * 3) % 8}`), 'g-1'];

/** Writes the tied records, then two that rank below them. */
async function populate(s: StorageInterface): Promise<void> {
  for (const id of CONVERSATIONS) {
    await s.storeMemories(id, [
      { memoryId: 'm', data: { text: TEXT } },
      { memoryId: 'a', data: { text: TEXT } },
    ]);
    await s.storeRawMessages(id, [{ text: TEXT }, { text: TEXT }]);
  }
  // Twelve messages in one conversation: 10 and 11 come before 2 in vector id order.
  await s.storeRawMessages(
    'c3',
    Array.from({ length: 12 }, () => ({ text: TEXT })),
  );
  for (const id of AGENTS) await s.storeReasoningChain(id, { text: TEXT });
  await s.appendReasoningChains(
    'g5',
    Array.from({ length: 11 }, () => ({ text: TEXT })),
  );
  await s.storeMemory('c0', 'z', { text: 'tied words elsewhere' });
  await s.storeRawMessages('c11', [{ text: TEXT }, { text: TEXT }, { text: 'unrelated sentence' }]);
}

/** Fails unless scores never rise and equal scores follow `compareRefs`. */
function expectTieOrder(hits: readonly SearchHit[], label: string): void {
  for (let i = 1; i < hits.length; i += 1) {
    const [a, b] = [hits[i - 1]!, hits[i]!];
    if (a.score < b.score) throw new Error(`${label}: score rises at ${i}: ${hitId(a)} before ${hitId(b)}`);
    if (a.score === b.score && compareRefs(a, b) >= 0) {
      throw new Error(`${label}: tied hits out of ref order at ${i}: ${hitId(a)} before ${hitId(b)}`);
    }
  }
}

const QUERIES: SearchQuery[] = [
  { text: TEXT },
  { text: TEXT, kinds: ['memories'] },
  { text: TEXT, kinds: ['raw_messages', 'reasoning_chains'] },
  { text: TEXT, conversationId: 'c3' },
  { text: TEXT, kinds: ['reasoning_chains'], agentId: 'g5' },
];
const LIMITS = [1, 2, 3, 5, 17, 40, 60, 61, 62, 100];

/** Every query's full result (`limit` 1000) as hit ids, after checking order and limit prefixes. */
async function checkedResults(s: StorageInterface, mode: 'vector' | 'hybrid'): Promise<string[][]> {
  const results: string[][] = [];
  for (const base of QUERIES) {
    const query: SearchQuery = { ...base, mode, match: 'any' };
    const full = await s.search({ ...query, limit: 1000 });
    expectTieOrder(full, `${mode} ${JSON.stringify(base)}`);
    await expectLimitPrefixes(s, query, full, LIMITS);
    results.push(full.map(hitId));
  }
  return results;
}

/** Registers the semantic tie tests. */
export function semanticTieTests(ctx: SuiteContext): void {
  describe('semantic search: tied scores', () => {
    it('vector and hybrid limits cut the one order of ties, the same with every vector store', async () => {
      const seen = new Map<string, string[][]>();
      for (const [name, open] of VECTOR_STORES) {
        const dir = await mkdtemp(join(tmpdir(), 'semantic-ties-'));
        try {
          const store = await ctx.newStore();
          const s = await store.open({
            semantic: { embedder: createEmbedder('hashing'), vectorStore: open(dir) },
          });
          try {
            await populate(s);
            for (const mode of ['vector', 'hybrid'] as const) {
              const results = await checkedResults(s, mode);
              const first = seen.get(mode);
              if (first === undefined) seen.set(mode, results);
              else expect({ store: name, mode, results }).toEqual({ store: name, mode, results: first });
            }
          } finally {
            await s.shutdown();
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      // Every tied record, in ref order, then the two below them (vector, unscoped).
      const vector = seen.get('vector')![0]!;
      expect(vector).toHaveLength(CONVERSATIONS.length * 4 + 10 + AGENTS.length + 11 + 2);
    });
  });
}
