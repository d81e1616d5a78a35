/**
 * Conformance: full-text search against the core's default scan (a seeded differential run).
 * One fixed sequence of writes (every write path: single, replace, upsert, batch, trim, delete)
 * with texts mixing ASCII, accented Latin in NFC and NFD, CJK, emoji, digits, apostrophes,
 * hyphens, query syntax and long tokens goes to the backend and to the in-memory user backend,
 * whose search is the core's scan. Then fixed random queries must find, on the backend, what
 * the scan finds: for every match (limit 1,000) the same records with the same matched terms,
 * snippets and records, in the same order of matched terms; a smaller limit the first hits of
 * the larger one. Scores are not compared: each backend ranks with its own corpus figures
 * (README, Ranking). The same again through a second instance on the store, where instances share it.
 */
import {
  type JsonObject,
  type JsonValue,
  type SearchHit,
  type SearchKind,
  type SearchQuery,
  type StorageInterface,
} from '../../../src/core/index.js';
import { InMemoryStorage } from '../../support/memory-storage.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';

const SEED = 20261205;
const WRITES = 60;
const QUERIES = 30;

/** xorshift32: the same sequence on every run and backend. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

// Words that fold together (case, NFD, diacritics), split (apostrophes, hyphens, dots, `_`),
// look like query syntax, or pass the Redis (64 characters) and PostgreSQL (1,000 bytes) token limits.
const WORDS = [
  'fox',
  'FOX',
  'dog',
  'café',
  'cafe\u0301',
  'CAFÉ',
  "don't",
  'don’t',
  'dont',
  'well-known',
  'the',
  'the',
  '東京',
  '日本語',
  '😀',
  'a😀b',
  '42',
  'user_42',
  'report.pdf',
  'Straße',
  'ö',
  'o\u0308',
  'NEAR',
  'NOT',
  '"quoted"',
  '*star',
  '(paren)',
  'x'.repeat(70),
  '東'.repeat(340),
];
const CONVERSATIONS = ['c1', 'c2', 'é', 'e\u0301', '\u{1F600}'];
const AGENTS = ['a1', 'a2', 'ä'];
const MEMORY_IDS = ['m1', 'm2', 'fox'];
const KINDS: readonly SearchKind[] = [
  'raw_messages',
  'memories',
  'reasoning_chains',
  'conversations',
  'chunk_info',
];

/** One write, applied alike to the backend and to the reference. */
type Write = (s: StorageInterface) => Promise<unknown>;

/** Builds the writes and queries from the seed (records carry their own timestamps, so both sides store the same). */
function plan(): { writes: Write[]; queries: SearchQuery[] } {
  const next = random(SEED);
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  const text = (): string =>
    Array.from({ length: 1 + int(8) }, () => pick(WORDS)).join(pick([' ', ', ', '/', '. ', '']));
  const value = (): JsonValue =>
    pick<JsonValue>([text(), 7, true, null, [text(), { k: text() }], { [pick(WORDS)]: 1 }]);
  const at = '2026-01-02T03:04:05.000Z';
  const memory = (): JsonObject => ({ summary: text(), tags: [text()], extra: value(), created_at: at });
  const chain = (): JsonObject => ({ steps: [text(), text()], stored_at: at });
  const writes: Write[] = [];
  for (let i = 0; i < WRITES; i += 1) {
    const c = pick(CONVERSATIONS);
    const a = pick(AGENTS);
    const m = pick(MEMORY_IDS);
    const r = int(16);
    if (r === 0) {
      const data = { title: text(), messages: [] };
      writes.push((s) => s.storeConversation(c, data));
    } else if (r <= 2) {
      const messages = Array.from({ length: int(4) }, () => (next() < 0.7 ? { content: text() } : value()));
      writes.push((s) => s.storeRawMessages(c, messages));
    } else if (r === 3) {
      // A replace that keeps most messages: one appended, changed or removed.
      const message = { content: text() };
      const k = int(8);
      writes.push(async (s) => {
        const list = await s.loadRawMessages(c);
        if (k % 3 === 0 || list.length === 0) list.push(message);
        else if (k % 3 === 1) list[k % list.length] = message;
        else list.splice(k % list.length, 1);
        return s.storeRawMessages(c, list);
      });
    } else if (r <= 6) {
      const data = memory();
      writes.push((s) => s.storeMemory(c, m, data));
    } else if (r === 7) {
      writes.push((s) => s.deleteMemory(c, m));
    } else if (r === 8) {
      const items = [memory(), memory()].map((data, j) => ({
        memoryId: j === 0 ? m : pick(MEMORY_IDS),
        data,
      }));
      writes.push((s) => s.storeMemories(c, items));
    } else if (r <= 10) {
      const data = chain();
      writes.push((s) => s.storeReasoningChain(a, data));
    } else if (r === 11) {
      const chains = [chain(), chain()];
      writes.push((s) => s.appendReasoningChains(a, chains));
    } else if (r === 12) {
      const keep = int(3);
      const all = next() < 0.3;
      writes.push((s) => (all ? s.deleteReasoningChains(a) : s.trimReasoningChains(a, keep)));
    } else if (r === 13) {
      const data = { chunks: [{ text: text() }] };
      writes.push((s) => s.storeChunkInfo(c, data));
    } else if (r === 14) {
      const item = {
        conversationId: c,
        conversation: { title: text() },
        rawMessages: [{ content: text() }],
        memories: [{ memoryId: m, data: memory() }],
        chunkInfo: { chunks: [{ text: text() }] },
      };
      writes.push((s) => s.storeConversationBatch([item]));
    } else {
      writes.push((s) => s.deleteConversation(c));
    }
  }
  const queries: SearchQuery[] = [];
  for (let i = 0; i < QUERIES; i += 1) {
    const query: SearchQuery = { text: Array.from({ length: 1 + int(3) }, () => pick(WORDS)).join(' ') };
    if (next() < 0.5) query.match = pick(['any', 'all'] as const);
    const kinds = KINDS.filter(() => next() < 0.5);
    if (next() < 0.5 && kinds.length > 0) query.kinds = kinds;
    if (next() < 0.3) query.conversationId = pick(CONVERSATIONS);
    if (next() < 0.3) query.agentId = pick(AGENTS);
    queries.push(query);
  }
  return { writes, queries };
}

/** What must agree with the scan, per hit: ids, matched terms, snippet and record. */
const shown = (hit: SearchHit) => ({
  id: hitId(hit),
  matchedTerms: hit.matchedTerms,
  snippet: hit.snippet,
  record: hit.record,
});

/** A search's hits, or the name of the error it rejected with. */
async function outcome(s: StorageInterface, query: SearchQuery): Promise<SearchHit[] | string> {
  return s.search(query).catch((error: Error) => error.name);
}

async function expectLikeScan(s: StorageInterface, reference: StorageInterface, query: SearchQuery) {
  const all = { ...query, limit: 1000 };
  const [got, want] = [await outcome(s, all), await outcome(reference, all)];
  if (typeof got === 'string' || typeof want === 'string') {
    expect({ query, got }).toEqual({ query, got: want });
    return;
  }
  const byId = (hits: SearchHit[]) =>
    hits.map(shown).sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  expect({ query, hits: byId(got) }).toEqual({ query, hits: byId(want) });
  expect({ query, order: got.map((h) => h.matchedTerms) }).toEqual({
    query,
    order: want.map((h) => h.matchedTerms),
  });
  for (const hit of got) {
    expect(hit.score).toBeGreaterThanOrEqual(hit.matchedTerms);
    expect(hit.score).toBeLessThan(hit.matchedTerms + 1);
  }
  for (const limit of [1, 3]) {
    if (limit >= got.length) break;
    expect({ query, limit, hits: await s.search({ ...query, limit }) }).toEqual({
      query,
      limit,
      hits: got.slice(0, limit),
    });
  }
}

/** Registers the seeded differential search test. */
export function searchModelTests(ctx: SuiteContext): void {
  describe('search: against the default scan', () => {
    it('finds what the scan finds after a seeded sequence of writes, also from another instance', async () => {
      const { writes, queries } = plan();
      const s = ctx.storage();
      const reference = new InMemoryStorage();
      await reference.initialize();
      try {
        for (const write of writes) {
          const [got, want] = [await write(s), await write(reference)];
          expect(got).toEqual(want);
        }
        for (const query of queries) await expectLikeScan(s, reference, query);
        if (ctx.harness.sharedStore) {
          const other = await ctx.openAnother();
          for (const query of queries) await expectLikeScan(other, reference, query);
        }
      } finally {
        await reference.shutdown();
      }
    });
  });
}
