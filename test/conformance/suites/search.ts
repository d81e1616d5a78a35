/**
 * Conformance: full-text search (issue 13). Every backend finds the same records for
 * `match: 'all'` queries (checked against sets of ids computed by hand from the data below),
 * follows deletes and replaces, honours scopes, kinds and limits, marks words in snippets,
 * ranks records with more query words first, and refuses bad queries before any I/O.
 */
import {
  InvalidIdError,
  type SearchHit,
  type SearchQuery,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';

async function ids(s: StorageInterface, query: SearchQuery): Promise<string[]> {
  return (await s.search(query)).map(hitId).sort();
}

/** The data every search test starts from. */
async function populate(s: StorageInterface): Promise<void> {
  await s.storeConversation('c1', { title: 'Fox and dog story', messages: [] });
  await s.storeRawMessages('c1', [
    { role: 'user', content: 'The quick brown fox' },
    { role: 'assistant', content: 'A lazy dog sleeps' },
    'plain string message about the FOX and the Dog',
  ]);
  await s.storeRawMessages('c2', [{ content: 'Café au lait for user_97531' }, { content: 'see report.pdf' }]);
  await s.storeMemory('c1', 'm1', { summary: 'fox hunting season' });
  await s.storeMemory('c1', 'm2', { summary: 'dog training tips', tags: ['brown', 'dog'] });
  await s.storeMemory('c2', 'm1', { summary: 'a visit to the cafe' });
  await s.storeReasoningChain('a1', { steps: ['think about the fox', 'decide on the dog'] });
  await s.storeReasoningChain('a1', { steps: ['nothing relevant'] });
  await s.storeReasoningChain('a2', { thought: 'brown bears and dogs', score: 97532 });
  await s.storeChunkInfo('c1', { chunks: [{ text: 'fox chunk' }] });
}

const isStorageType = (hit: SearchHit): boolean => typeof hit.score === 'number' && hit.snippet.length > 0;

/** Registers the search tests. */
export function searchTests(ctx: SuiteContext): void {
  describe('search', () => {
    beforeEach(async () => populate(ctx.storage()));

    it("match 'all' finds exactly the records holding every word, whatever the case", async () => {
      const s = ctx.storage();
      expect(await ids(s, { text: 'FOX dog', match: 'all' })).toEqual([
        'raw_messages:c1:2',
        'reasoning_chains:a1:0',
      ]);
      expect(
        await ids(s, {
          text: 'fox dog',
          match: 'all',
          kinds: ['raw_messages', 'memories', 'reasoning_chains', 'conversations', 'chunk_info'],
        }),
      ).toEqual(['conversations:c1', 'raw_messages:c1:2', 'reasoning_chains:a1:0']);
      expect(await ids(s, { text: 'brown dog', match: 'all' })).toEqual(['memories:c1:m2']);
      expect(await ids(s, { text: 'fox unicorn', match: 'all' })).toEqual([]);
    });

    it("match 'any' (the default) finds records holding any word", async () => {
      expect(await ids(ctx.storage(), { text: 'fox brown', limit: 100 })).toEqual([
        'memories:c1:m1',
        'memories:c1:m2',
        'raw_messages:c1:0',
        'raw_messages:c1:2',
        'reasoning_chains:a1:0',
        'reasoning_chains:a2:0',
      ]);
    });

    it('splits on punctuation and folds case and accents, as FTS5 unicode61 remove_diacritics 2', async () => {
      const s = ctx.storage();
      expect(await ids(s, { text: 'user' })).toEqual(['raw_messages:c1:0', 'raw_messages:c2:0']); // role 'user' too
      expect(await ids(s, { text: '97531' })).toEqual(['raw_messages:c2:0']);
      expect(await ids(s, { text: '97532' })).toEqual([]); // numbers are not text: a2's score is not indexed
      expect(await ids(s, { text: 'PDF' })).toEqual(['raw_messages:c2:1']);
      expect(await ids(s, { text: 'cafe' })).toEqual(['memories:c2:m1', 'raw_messages:c2:0']);
      expect(await ids(s, { text: 'CAFÉ' })).toEqual(['memories:c2:m1', 'raw_messages:c2:0']);
      expect(await ids(s, { text: 'dogs' })).toEqual(['reasoning_chains:a2:0']); // no stemming
    });

    it('treats query syntax as plain words', async () => {
      const s = ctx.storage();
      expect(await ids(s, { text: 'NEAR(fox "dog") OR -lazy:* AND', match: 'all' })).toEqual([]);
      expect(await ids(s, { text: '"fox" (dog)', match: 'all' })).toEqual([
        'raw_messages:c1:2',
        'reasoning_chains:a1:0',
      ]);
      expect(await ids(s, { text: 'lazy*' })).toEqual(['raw_messages:c1:1']);
      expect(await ids(s, { text: 'laz*' })).toEqual([]); // no prefix query: "laz" is a word of its own
      const foxAndDog = ['raw_messages:c1:2', 'reasoning_chains:a1:0'];
      expect(await ids(s, { text: 'fox -dog', match: 'all' })).toEqual(foxAndDog); // "-" is no NOT
      expect(await ids(s, { text: 'fox NOT dog', match: 'all' })).toEqual([]); // "not" is a word
      expect(await ids(s, { text: 'fox OR unicorn', match: 'all' })).toEqual([]); // "or" is a word
      expect(await ids(s, { text: 'content:lazy' })).toEqual(['raw_messages:c1:1']); // no column filter
      expect(await s.search({ text: '*** ??? ---' })).toEqual([]); // no words at all
    });

    it('returns the ids, the record as loads return it, a score and a marked snippet', async () => {
      const s = ctx.storage();
      const [memory] = await s.search({ text: 'hunting', kinds: ['memories'] });
      expect(memory).toMatchObject({
        kind: 'memories',
        conversationId: 'c1',
        memoryId: 'm1',
        matchedTerms: 1,
      });
      expect(memory?.record).toEqual((await s.loadMemories('c1'))[0]);
      expect(memory?.snippet).toBe('fox «hunting» season');
      const [chain] = await s.search({ text: 'decide', kinds: ['reasoning_chains'] });
      expect(chain).toMatchObject({ kind: 'reasoning_chains', agentId: 'a1', chainIndex: 0 });
      expect(chain?.record).toEqual((await s.loadReasoningChains('a1'))[0]);
      const [message] = await s.search({ text: 'lazy' });
      expect(message).toMatchObject({ kind: 'raw_messages', conversationId: 'c1', messageIndex: 1 });
      expect(message?.record).toEqual({ role: 'assistant', content: 'A lazy dog sleeps' });
      expect(message?.snippet).toBe('A «lazy» dog sleeps');
      const [chunks] = await s.search({ text: 'chunk', kinds: ['chunk_info'] });
      expect(chunks).toMatchObject({
        kind: 'chunk_info',
        conversationId: 'c1',
        record: { chunks: [{ text: 'fox chunk' }] },
      });
      expect([memory, chain, message, chunks].every((hit) => hit !== undefined && isStorageType(hit))).toBe(
        true,
      );
    });

    it('cuts long texts around the first match and marks every matched word in it', async () => {
      const s = ctx.storage();
      const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
      words[20] = 'Needle';
      words[22] = 'needle';
      await s.storeMemory('c9', 'long', { text: words.join(' ') });
      const [hit] = await s.search({ text: 'needle' });
      expect(hit?.snippet).toBe(
        '…w17 w18 w19 «Needle» w21 «needle» w23 w24 w25 w26 w27 w28 w29 w30 w31 w32…',
      );
    });

    it('ranks a record matching more query words above one matching fewer', async () => {
      const s = ctx.storage();
      await s.storeMemory('c3', 'one', { text: 'zebra zebra zebra zebra zebra' });
      await s.storeMemory('c3', 'two', { text: 'zebra giraffe and a long tail of other words here' });
      await s.storeMemory('c3', 'three', { text: 'okapi zebra giraffe' });
      const hits = await s.search({ text: 'zebra giraffe okapi', conversationId: 'c3' });
      expect(hits.map((h) => (h.kind === 'memories' ? h.memoryId : '?'))).toEqual(['three', 'two', 'one']);
      expect(hits.map((h) => h.matchedTerms)).toEqual([3, 2, 1]);
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
      expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);
    });

    it('scopes: conversationId narrows the conversation kinds and leaves chains out; agentId the reverse', async () => {
      const s = ctx.storage();
      expect(await ids(s, { text: 'fox dog brown', conversationId: 'c1', limit: 100 })).toEqual([
        'memories:c1:m1',
        'memories:c1:m2',
        'raw_messages:c1:0',
        'raw_messages:c1:1',
        'raw_messages:c1:2',
      ]);
      expect(await ids(s, { text: 'fox dog brown', agentId: 'a2' })).toEqual(['reasoning_chains:a2:0']);
      expect(await ids(s, { text: 'fox dog brown', conversationId: 'c2', agentId: 'a1' })).toEqual([
        'reasoning_chains:a1:0',
      ]);
      expect(await ids(s, { text: 'fox', conversationId: 'nowhere' })).toEqual([]);
    });

    it('kinds narrow the search; conversations and chunk info only when asked', async () => {
      const s = ctx.storage();
      expect(await ids(s, { text: 'fox', kinds: ['conversations', 'chunk_info'] })).toEqual([
        'chunk_info:c1',
        'conversations:c1',
      ]);
      expect(await ids(s, { text: 'story' })).toEqual([]);
      expect(await ids(s, { text: 'fox', kinds: ['reasoning_chains'] })).toEqual(['reasoning_chains:a1:0']);
    });

    it('limit: 10 by default, at most the limit, best first', async () => {
      const s = ctx.storage();
      for (let i = 0; i < 15; i += 1)
        await s.storeMemory('c4', `n${i}`, { text: i === 7 ? 'pick pick me' : 'pick' });
      expect(await s.search({ text: 'pick' })).toHaveLength(10);
      const top = await s.search({ text: 'pick', limit: 3 });
      expect(top).toHaveLength(3);
      expect(top[0]).toMatchObject({ kind: 'memories', memoryId: 'n7' });
      expect(await s.search({ text: 'pick', limit: 1000 })).toHaveLength(15);
    });

    it('follows replaces and deletes: old entries are gone, new ones found', async () => {
      const s = ctx.storage();
      await s.storeRawMessages('c1', [{ content: 'walrus' }]);
      expect(await ids(s, { text: 'lazy quick walrus' })).toEqual(['raw_messages:c1:0']);
      await s.storeMemory('c1', 'm1', { summary: 'penguin colony' });
      expect(await ids(s, { text: 'hunting', kinds: ['memories'] })).toEqual([]);
      expect(await ids(s, { text: 'penguin' })).toEqual(['memories:c1:m1']);
      await s.deleteMemory('c1', 'm2');
      expect(await ids(s, { text: 'training' })).toEqual([]);
      await s.deleteReasoningChains('a1');
      expect(await ids(s, { text: 'decide' })).toEqual([]);
      await s.storeReasoningChain('a1', { steps: ['decide again'] });
      expect(await ids(s, { text: 'decide' })).toEqual(['reasoning_chains:a1:0']);
      await s.storeConversation('c1', { title: 'renamed' });
      await s.storeChunkInfo('c1', { chunks: [] });
      expect(await ids(s, { text: 'fox', kinds: ['conversations', 'chunk_info'] })).toEqual([]);
      await s.deleteConversation('c1');
      expect(
        await ids(s, {
          text: 'walrus penguin renamed',
          kinds: ['raw_messages', 'memories', 'conversations'],
        }),
      ).toEqual([]);
      expect(await ids(s, { text: 'cafe' })).toEqual(['memories:c2:m1', 'raw_messages:c2:0']);
    });

    it('follows partial replaces of a raw-message list as a rebuilt index would', async () => {
      const s = ctx.storage();
      const list = (...words: string[]) => words.map((word) => ({ content: `${word} call` }));
      const found = (text: string) => ids(s, { text, kinds: ['raw_messages'] });
      // Ranked hits with their scores: what a rebuild from the stored records must reproduce.
      const ranked = async () =>
        (await s.search({ text: 'otter heron ibis crane stork egret call fox', limit: 50 })).map(
          (hit) => [hitId(hit), hit.matchedTerms, hit.score] as const,
        );
      await s.storeRawMessages('c3', list('otter', 'heron', 'ibis', 'crane'));
      // One message changed, one dropped, the rest unchanged.
      await s.storeRawMessages('c3', list('otter', 'stork', 'ibis'));
      expect(await found('heron crane')).toEqual([]);
      expect(await found('otter stork ibis')).toEqual([
        'raw_messages:c3:0',
        'raw_messages:c3:1',
        'raw_messages:c3:2',
      ]);
      // The same list again, then one message added: a turn of an agent.
      await s.storeRawMessages('c3', list('otter', 'stork', 'ibis'));
      await s.storeRawMessages('c3', list('otter', 'stork', 'ibis', 'egret'));
      expect(await found('egret')).toEqual(['raw_messages:c3:3']);
      // Texts that move to another position are found there only.
      await s.storeRawMessages('c3', [...list('stork', 'otter'), 'otter call', { content: 'egret call' }]);
      expect(await found('stork')).toEqual(['raw_messages:c3:0']);
      expect(await found('otter')).toEqual(['raw_messages:c3:1', 'raw_messages:c3:2']);
      expect(await found('ibis')).toEqual([]);
      expect(await s.loadRawMessages('c3')).toEqual([
        ...list('stork', 'otter'),
        'otter call',
        { content: 'egret call' },
      ]);
      const before = await ranked();
      expect(before.length).toBeGreaterThan(4);
      await s.reindex();
      const after = await ranked();
      expect(after.map(([id, terms]) => [id, terms])).toEqual(before.map(([id, terms]) => [id, terms]));
      after.forEach(([, , score], i) => expect(score).toBeCloseTo(before[i]?.[2] ?? NaN, 9));
      expect((await s.getStorageStats()).raw_message_count).toBe(3 + 2 + 4);
    });

    it('finds what another instance on the same store wrote', async () => {
      if (!ctx.harness.sharedStore) return;
      const other = await ctx.openAnother();
      await other.storeMemory('c5', 'x', { text: 'xylophone' });
      expect(await ids(ctx.storage(), { text: 'xylophone' })).toEqual(['memories:c5:x']);
      await other.deleteMemory('c5', 'x');
      expect(await ids(ctx.storage(), { text: 'xylophone' })).toEqual([]);
    });

    it('a read-only instance searches; reindex() rebuilds and is refused there', async () => {
      const s = ctx.storage();
      expect(await s.reindex()).toBeGreaterThanOrEqual(0);
      expect(await ids(s, { text: 'fox dog', match: 'all' })).toEqual([
        'raw_messages:c1:2',
        'reasoning_chains:a1:0',
      ]);
      if (!ctx.harness.sharedStore) return;
      const readOnly = await ctx.openAnother({ readOnly: true });
      expect(await ids(readOnly, { text: 'fox dog', match: 'all' })).toEqual([
        'raw_messages:c1:2',
        'reasoning_chains:a1:0',
      ]);
    });

    it('a read-only instance ranks what a live writer just stored as the writer does', async () => {
      if (!ctx.harness.sharedStore) return;
      const writer = ctx.storage();
      // A few small writes: a backend that batches index work may still hold them apart.
      await writer.storeMemory('c6', 'three', { text: 'quokka numbat wombat' });
      await writer.storeMemory('c6', 'two', { text: 'numbat quokka' });
      await writer.storeReasoningChain('a6', { text: 'quokka only' });
      const readOnly = await ctx.openAnother({ readOnly: true });
      const ranked = async (s: StorageInterface, query: SearchQuery): Promise<string[]> =>
        (await s.search(query)).map((hit) => `${hitId(hit)}/${hit.matchedTerms}`);
      for (const query of [
        { text: 'quokka numbat wombat' },
        { text: 'quokka numbat', match: 'all' as const },
        { text: 'quokka', conversationId: 'c6', kinds: ['memories' as const] },
      ]) {
        const expected = await ranked(writer, query);
        expect(await ranked(readOnly, query)).toEqual(expected);
      }
      expect(await ranked(writer, { text: 'quokka numbat wombat' })).toEqual([
        'memories:c6:three/3',
        'memories:c6:two/2',
        'reasoning_chains:a6:0/1',
      ]);
    });

    it('searchFields narrows the indexed text per kind to JSON paths', async () => {
      if (!ctx.harness.sharedStore) return;
      const narrowed = await ctx.openAnother({
        searchFields: { memories: ['tags[*]'], raw_messages: ['content'] },
      });
      await narrowed.reindex();
      expect(await ids(narrowed, { text: 'dog', kinds: ['memories'] })).toEqual(['memories:c1:m2']);
      expect(await ids(narrowed, { text: 'training', kinds: ['memories'] })).toEqual([]);
      // 'plain string message...' is a string, not an object with `content`: not indexed.
      expect(await ids(narrowed, { text: 'fox', kinds: ['raw_messages'] })).toEqual(['raw_messages:c1:0']);
    });

    it('refuses a bad query with a typed error before any I/O', async () => {
      const closed = await ctx.newStore().then((store) => store.open());
      await closed.shutdown();
      const bad: Array<[unknown, new (...args: never[]) => Error]> = [
        [{ text: '' }, ValidationError],
        [{ text: ' \t\n ' }, ValidationError],
        // Unicode white space that String.prototype.trim keeps (NEL): until 2026-12-06 searched.
        [{ text: ' \u0085\u3000 ' }, ValidationError],
        [{ text: 42 }, ValidationError],
        [{}, ValidationError],
        [null, ValidationError],
        ['fox', ValidationError],
        [{ text: 'fox', limit: 0 }, ValidationError],
        [{ text: 'fox', limit: 1001 }, ValidationError],
        [{ text: 'fox', limit: 2.5 }, ValidationError],
        [{ text: 'fox', limit: '5' }, ValidationError],
        [{ text: 'fox', signal: 'soon' }, ValidationError],
        [{ text: 'fox', kinds: [] }, ValidationError],
        [{ text: 'fox', kinds: ['cache_entries'] }, ValidationError],
        [{ text: 'fox', kinds: 'memories' }, ValidationError],
        [{ text: 'fox', match: 'some' }, ValidationError],
        [{ text: 'fox', mode: 'hybrid' }, ValidationError],
        [{ text: 'fox', agentId: 'a1', kinds: ['memories'] }, ValidationError],
        [{ text: 'fox', conversationId: '../x' }, InvalidIdError],
        [{ text: 'fox', agentId: '' }, InvalidIdError],
        [{ text: Array.from({ length: 65 }, (_, i) => `w${i}`).join(' ') }, ValidationError],
      ];
      for (const [query, type] of bad) {
        for (const target of [closed, ctx.storage()]) {
          const error = await target.search(query as SearchQuery).then(
            () => new Error(`resolved for ${JSON.stringify(query)}`),
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(type);
        }
      }
      const valid = await closed.search({ text: 'fox' }).catch((e: unknown) => e);
      expect(valid).toMatchObject({ code: 'NOT_INITIALIZED' });
    });
  });
}
