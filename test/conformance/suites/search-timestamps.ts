/**
 * Conformance: what the default full-text rule leaves out. Every backend (and the core's scan
 * for a user backend) indexes every string of a record except the timestamp the library adds
 * to it, the top-level `created_at` of a memory and `stored_at` of a reasoning chain, also
 * when the caller supplied it; `memory_id` and every other string stay words. Listing paths
 * (`['$']`: the whole record) indexes the timestamps again.
 */
import { SEARCH_KINDS, type SearchQuery, type StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';

/** A caller-supplied timestamp in the Python reference's format, of a year no other string holds. */
const CREATED_AT = '2031-07-19T08:45:12.345678+00:00';
const STORED_AT = '2031-07-19T09:05:07.654321+00:00';
const TIMED_KINDS = ['memories', 'reasoning_chains'] as const;

async function ids(s: StorageInterface, query: SearchQuery): Promise<string[]> {
  return (await s.search({ limit: 100, kinds: [...SEARCH_KINDS], ...query })).map(hitId).sort();
}

/** Registers the tests of the default text rule. */
export function searchTimestampTests(ctx: SuiteContext): void {
  describe('search: timestamps the library adds are not words', () => {
    it('a memory is not found by its created_at nor a chain by its stored_at; their data and memory_id are', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'quokka_42', {
        created_at: CREATED_AT,
        note: 'marsupial sighting',
        // Not the library's field: a nested created_at is the caller's text.
        meta: { created_at: 'logged in 2044' },
      });
      await s.storeMemory('c1', 'plain', { note: 'library stamped' }); // created_at added by the library
      await s.storeReasoningChain('a1', { stored_at: STORED_AT, thought: 'wombat burrow' });
      await s.storeReasoningChain('a1', { thought: 'numbat' }); // stored_at added by the library
      // The other kinds have no library timestamp among their strings: a caller's is a word.
      await s.storeRawMessages('c2', [{ content: 'hello', created_at: CREATED_AT }]);
      await s.storeConversation('c3', { title: 'meeting', stored_at: CREATED_AT });
      await s.storeChunkInfo('c4', { created_at: CREATED_AT });

      const memory = (await s.loadMemories('c1')).find((m) => m.memory_id === 'quokka_42');
      expect(memory?.created_at).toBe(CREATED_AT); // the record keeps it
      const timed = { kinds: [...TIMED_KINDS] };
      for (const text of ['2031', '07', '19', '08', '45', '12', '345678', '09', '05', '654321', '00'])
        expect(await ids(s, { text, ...timed })).toEqual([]);
      // The library's own timestamps (now) are not words either.
      const now = new Date();
      const year = String(now.getUTCFullYear());
      const month = String(now.getUTCMonth() + 1).padStart(2, '0');
      expect(await ids(s, { text: `${year} ${month}`, ...timed })).toEqual([]);
      expect(await ids(s, { text: '2031' })).toEqual([
        'chunk_info:c4',
        'conversations:c3',
        'raw_messages:c2:0',
      ]);

      expect(await ids(s, { text: 'marsupial sighting', match: 'all' })).toEqual(['memories:c1:quokka_42']);
      expect(await ids(s, { text: 'quokka 42', match: 'all' })).toEqual(['memories:c1:quokka_42']);
      expect(await ids(s, { text: 'plain' })).toEqual(['memories:c1:plain']);
      expect(await ids(s, { text: '2044' })).toEqual(['memories:c1:quokka_42']);
      expect(await ids(s, { text: 'wombat burrow', match: 'all' })).toEqual(['reasoning_chains:a1:0']);
      expect(await ids(s, { text: 'numbat' })).toEqual(['reasoning_chains:a1:1']);
      const [hit] = await s.search({ text: 'wombat', kinds: ['reasoning_chains'] });
      expect(hit?.record).toEqual({ stored_at: STORED_AT, thought: 'wombat burrow' });
    });

    it('a memory upsert and a batch follow the same rule', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'm1', { created_at: CREATED_AT, note: 'first' });
      await s.storeMemory('c1', 'm1', { note: 'second' }); // keeps the stored created_at
      await s.storeMemories('c1', [{ memoryId: 'm2', data: { created_at: CREATED_AT, note: 'third' } }]);
      await s.appendReasoningChains('a1', [{ stored_at: STORED_AT, thought: 'fourth' }]);
      expect((await s.loadMemories('c1')).map((m) => m.created_at)).toEqual([CREATED_AT, CREATED_AT]);
      expect(await ids(s, { text: '2031 19 07', kinds: [...TIMED_KINDS] })).toEqual([]);
      expect(await ids(s, { text: 'first' })).toEqual([]);
      expect(await ids(s, { text: 'second third fourth' })).toEqual([
        'memories:c1:m1',
        'memories:c1:m2',
        'reasoning_chains:a1:0',
      ]);
    });

    it("searchFields ['$'] indexes the whole record, timestamps included", async () => {
      const whole = await (
        await ctx.newStore()
      ).open({ searchFields: { memories: ['$'], reasoning_chains: ['$'] } });
      await whole.storeMemory('c1', 'm1', { created_at: CREATED_AT, note: 'marsupial' });
      await whole.storeReasoningChain('a1', { stored_at: STORED_AT, thought: 'wombat' });
      await whole.storeRawMessages('c2', [{ content: 'no year here' }]);
      expect(await ids(whole, { text: '2031' })).toEqual(['memories:c1:m1', 'reasoning_chains:a1:0']);
      expect(await ids(whole, { text: 'marsupial 2031 45', match: 'all' })).toEqual(['memories:c1:m1']);
      expect(await ids(whole, { text: 'wombat 654321', match: 'all' })).toEqual(['reasoning_chains:a1:0']);
      // The library's own timestamp is a word too, like the memory id. Its year is read from the
      // record: a clock read before the write is a year behind it across New Year's midnight.
      await whole.storeMemory('c1', 'm2', { note: 'stamped' });
      const stamped = (await whole.loadMemories('c1')).find((m) => m.memory_id === 'm2');
      const year = String(stamped?.created_at).slice(0, 4);
      expect(await ids(whole, { text: `stamped ${year} m2`, match: 'all' })).toEqual(['memories:c1:m2']);
    });
  });
}
