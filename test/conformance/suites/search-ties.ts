/**
 * Conformance: records with the same score are ordered by their refs (`compareRefs`: kind, owner
 * id in code point order, then message index, chain position or memory id), and `limit` cuts
 * that one order, so a search with `limit: n` returns the first n hits of the same search with
 * a larger limit. Backends rank in their index and may cut before the core orders ties: each
 * must hand over every record tied with the last one it keeps. The records are written in an
 * order unlike the refs' (shuffled owners, memory `m` before `a`), across 80 conversations and
 * 30 agents so Redis's buckets each hold some.
 */
import {
  compareRefs,
  type SearchHit,
  type SearchQuery,
  type StorageInterface,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { expectLimitPrefixes, hitId } from './hit-ids.js';

const TEXT = 'tied words here';
const CONVERSATIONS = 80;
const AGENTS = 30;

/** Owner ids in a scrambled order; a few outside ASCII, where UTF-16 and code point order differ. */
function owners(prefix: string, count: number): string[] {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${(i * 37) % count}`);
  return [...ids, `${prefix}\u{1F600}`, `${prefix}\uFFFD`, `${prefix}é`];
}

/** Writes the tied records: per conversation memories `m` then `a` and two messages; one chain per agent. */
async function populate(s: StorageInterface): Promise<void> {
  for (const id of owners('c', CONVERSATIONS)) {
    await s.storeMemory(id, 'm', { text: TEXT });
    await s.storeMemory(id, 'a', { text: TEXT });
    await s.storeRawMessages(id, [{ text: TEXT }, { text: TEXT }]);
  }
  for (const id of owners('g', AGENTS)) await s.storeReasoningChain(id, { text: TEXT });
  // A record that outranks the ties under 'any' (both words) and one ranked below them.
  await s.storeMemory('c0', 'z', { text: 'tied tied words extra' });
  await s.storeRawMessages('c1', [{ text: 'words only in this much longer message of many words' }]);
}

function expectTieOrder(hits: readonly SearchHit[]): void {
  for (let i = 1; i < hits.length; i += 1) {
    const [a, b] = [hits[i - 1]!, hits[i]!];
    expect(a.score).toBeGreaterThanOrEqual(b.score);
    if (a.score === b.score && compareRefs(a, b) >= 0) {
      throw new Error(`tied hits out of ref order at ${i}: ${hitId(a)} before ${hitId(b)}`);
    }
  }
}

/** Registers the tie tests. */
export function searchTieTests(ctx: SuiteContext): void {
  describe('search: tied scores', () => {
    it('a limit cuts the one order of ties: the first n hits of the same search with a larger limit', async () => {
      const s = ctx.storage();
      await populate(s);
      const queries: SearchQuery[] = [
        { text: 'tied words', match: 'all' },
        { text: 'tied words', match: 'any' },
        { text: 'tied nowhere', match: 'any' },
        { text: 'words', match: 'all', kinds: ['memories'] },
        { text: 'here tied', match: 'all', kinds: ['raw_messages', 'reasoning_chains'] },
        { text: 'tied words', match: 'any', kinds: ['raw_messages', 'memories'], conversationId: 'c7' },
        { text: 'tied', match: 'all', kinds: ['reasoning_chains'], agentId: 'g3' },
      ];
      for (const query of queries) {
        const full = await s.search({ ...query, limit: 1000 });
        expectTieOrder(full);
        await expectLimitPrefixes(s, query, full, [1, 2, 3, 5, 40, 83, 84, 170, 250]);
      }
    });
  });
}
