/** Conformance: conversations, raw messages, chunk info, listing and deletion. */
import { compareCodePoints, type JsonObject, type JsonValue } from '../../../src/core/index.js';
import { awkwardValue, type SuiteContext } from '../context.js';

// '😀' (above U+FFFF) and '\uff01' (U+FF01) sort differently by code point than by UTF-16 code unit.
const UNSORTED_IDS = [
  'conv_b',
  'Conv_Z',
  'conv_a',
  '會話-ü',
  'with space',
  'support-ticket.42',
  '10',
  '9',
  '😀',
  '\uff01',
];

export function conversationTests(ctx: SuiteContext): void {
  describe('conversations', () => {
    it('loads exactly what was stored, JSON edge cases included', async () => {
      const s = ctx.storage();
      const data = { conversation_id: 'c1', title: 'T', ...awkwardValue() };
      await expect(s.storeConversation('c1', data as JsonObject)).resolves.toBe(true);
      expect(await s.loadConversation('c1')).toEqual(JSON.parse(JSON.stringify(data)));
    });

    it('stores Date values as ISO strings and drops undefined properties', async () => {
      const s = ctx.storage();
      const when = new Date('2025-03-06T10:00:00.123Z');
      await s.storeConversation('c1', { when, gone: undefined } as unknown as JsonObject);
      expect(await s.loadConversation('c1')).toEqual({ when: '2025-03-06T10:00:00.123Z' });
    });

    it('keeps an own "__proto__" key as data', async () => {
      const s = ctx.storage();
      const data = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as JsonObject;
      await s.storeConversation('c1', data);
      const loaded = await s.loadConversation('c1');
      expect(Object.keys(loaded ?? {})).toEqual(['__proto__', 'y']);
      expect(JSON.stringify(loaded)).toBe('{"__proto__":{"x":1},"y":2}');
    });

    it('returns null for a missing conversation and replaces on store', async () => {
      const s = ctx.storage();
      expect(await s.loadConversation('missing')).toBeNull();
      await s.storeConversation('c1', { v: 1, old: true });
      await s.storeConversation('c1', { v: 2 });
      expect(await s.loadConversation('c1')).toEqual({ v: 2 });
    });

    it('lists conversation ids in code point order, whatever the insertion order', async () => {
      const s = ctx.storage();
      expect(await s.listConversations()).toEqual([]);
      for (const id of UNSORTED_IDS) await s.storeConversation(id, { id });
      expect(await s.listConversations()).toEqual([...UNSORTED_IDS].sort(compareCodePoints));
      for (const id of UNSORTED_IDS) expect(await s.loadConversation(id)).toEqual({ id });
    });

    it('accepts ids of exactly 255 UTF-8 bytes', async () => {
      const s = ctx.storage();
      const id = 'é'.repeat(127) + 'a'; // 254 + 1 bytes
      await s.storeConversation(id, { ok: true });
      expect(await s.loadConversation(id)).toEqual({ ok: true });
      expect(await s.listConversations()).toEqual([id]);
    });

    it('does not list raw data stored before its conversation, but listAllConversationIds does', async () => {
      const s = ctx.storage();
      await s.storeRawMessages('raw-only', [{ m: 1 }]);
      await s.storeMemory('mem-only', 'm1', { text: 'x' });
      await s.storeChunkInfo('chunk-only', { chunks: [] });
      await s.storeConversation('full', { a: 1 });
      expect(await s.listConversations()).toEqual(['full']);
      expect(await s.listAllConversationIds()).toEqual(['chunk-only', 'full', 'mem-only', 'raw-only']);
    });

    it('deletes a conversation with its raw messages, memories and chunk info', async () => {
      const s = ctx.storage();
      for (const id of ['keep', 'drop']) {
        await s.storeConversation(id, { id });
        await s.storeRawMessages(id, [{ id }]);
        await s.storeMemory(id, 'm1', { id });
        await s.storeChunkInfo(id, { id });
      }
      await expect(s.deleteConversation('drop')).resolves.toBe(true);
      expect(await s.loadConversation('drop')).toBeNull();
      expect(await s.loadRawMessages('drop')).toEqual([]);
      expect(await s.loadMemories('drop')).toEqual([]);
      expect(await s.loadChunkInfo('drop')).toBeNull();
      expect(await s.listConversations()).toEqual(['keep']);
      expect(await s.listAllConversationIds()).toEqual(['keep']);
      expect(await s.loadConversation('keep')).toEqual({ id: 'keep' });
      expect(await s.loadRawMessages('keep')).toEqual([{ id: 'keep' }]);
      expect(await s.loadMemories('keep')).toHaveLength(1);
      expect(await s.loadChunkInfo('keep')).toEqual({ id: 'keep' });
    });

    it('deleting an absent conversation succeeds', async () => {
      await expect(ctx.storage().deleteConversation('never-stored')).resolves.toBe(true);
    });

    it('deletes raw data that has no conversation', async () => {
      const s = ctx.storage();
      await s.storeRawMessages('orphan', [{ m: 1 }]);
      await s.deleteConversation('orphan');
      expect(await s.loadRawMessages('orphan')).toEqual([]);
      expect(await s.listAllConversationIds()).toEqual([]);
    });
  });

  describe('raw messages', () => {
    it('round-trips and replaces the whole list', async () => {
      const s = ctx.storage();
      const messages: JsonValue[] = [
        { role: 'user', content: 'hi 👋', turn: 0 },
        { role: 'assistant', content: 'a\u0000b', turn: 1 },
        'a bare string',
        [1, 2],
      ];
      await expect(s.storeRawMessages('c1', messages)).resolves.toBe(true);
      expect(await s.loadRawMessages('c1')).toEqual(messages);
      await s.storeRawMessages('c1', [{ only: true }]);
      expect(await s.loadRawMessages('c1')).toEqual([{ only: true }]);
      await s.storeRawMessages('c1', []);
      expect(await s.loadRawMessages('c1')).toEqual([]);
    });

    it('returns [] for a conversation without raw messages', async () => {
      expect(await ctx.storage().loadRawMessages('nothing')).toEqual([]);
    });

    it('keeps the order of many messages', async () => {
      const s = ctx.storage();
      const messages = Array.from({ length: 500 }, (_, i) => ({ i, text: `message ${i}` }));
      await s.storeRawMessages('c1', messages);
      expect(await s.loadRawMessages('c1')).toEqual(messages);
    });

    // Until 2026-12-04 Redis spread a script's arguments (two per message) into one call, which
    // overflowed the stack from about 60,000 messages: a RangeError, reported as the server down.
    // Its search named every hit tied with the last one asked for (here all of them) copying
    // the list once per hit (minutes), then spread them into one call (a RangeError again).
    it('stores, loads, windows, searches and replaces a list of 120,000 messages in one call', async () => {
      const s = ctx.storage();
      const messages = Array.from({ length: 120_000 }, (_, i) => `walrus ${i}`);
      await s.storeRawMessages('c1', messages);
      const loaded = await s.loadRawMessages('c1');
      expect(loaded.length).toBe(messages.length);
      expect(loaded.every((message, i) => message === messages[i])).toBe(true);
      expect(await s.loadRawMessages('c1', { offset: 119_998 })).toEqual(['walrus 119998', 'walrus 119999']);
      const hits = await s.search({ text: 'walrus', limit: 3 });
      expect(hits.map((hit) => ('messageIndex' in hit ? hit.messageIndex : null))).toEqual([0, 1, 2]);
      await s.storeRawMessages('c1', ['short']);
      expect(await s.loadRawMessages('c1')).toEqual(['short']);
    });
  });

  describe('chunk info', () => {
    it('loads exactly what was stored, without storage metadata', async () => {
      const s = ctx.storage();
      const chunks = {
        chunks: [{ start: 0, end: 9, tokens: 471 }],
        strategy: 'token-window',
        note: 'ü\u0000',
      };
      await expect(s.storeChunkInfo('c1', chunks)).resolves.toBe(true);
      expect(await s.loadChunkInfo('c1')).toEqual(chunks);
      expect(await s.loadChunkInfo('other')).toBeNull();
      await s.storeChunkInfo('c1', { replaced: 1 });
      expect(await s.loadChunkInfo('c1')).toEqual({ replaced: 1 });
    });
  });
}
