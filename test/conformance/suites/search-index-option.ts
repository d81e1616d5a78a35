/**
 * Conformance: the `searchIndex` option. An instance with the native index off writes without
 * maintaining it and still searches correctly (the default scan); an instance with the index on,
 * whether it stays open meanwhile or opens later, never trusts what those writes left stale: it
 * finds every record they stored or changed, and none they replaced or deleted.
 */
import type { StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';

const EVERY_KIND = ['raw_messages', 'memories', 'reasoning_chains', 'conversations', 'chunk_info'] as const;

async function ids(s: StorageInterface, text: string): Promise<string[]> {
  return (await s.search({ text, kinds: [...EVERY_KIND], limit: 100 })).map(hitId).sort();
}

/** Registers the `searchIndex` option tests. */
export function searchIndexOptionTests(ctx: SuiteContext): void {
  describe('searchIndex option', () => {
    it('writes made with searchIndex: false are found by it, by an indexed instance kept open and after a reopen; what they replaced or deleted is not', async () => {
      if (!ctx.harness.sharedStore) return;
      const s = ctx.storage();
      await s.storeMemory('c1', 'm1', { text: 'alpha' });
      await s.storeMemory('c1', 'm2', { text: 'bravo' });
      await s.storeRawMessages('c2', [{ content: 'charlie' }, { content: 'delta' }]);
      await s.storeConversation('c3', { title: 'echo' });
      await s.storeReasoningChain('a1', { step: 'foxtrot' });
      await s.storeReasoningChain('a2', { step: 'lima' });
      expect(await ids(s, 'alpha bravo charlie echo lima')).toEqual([
        'conversations:c3',
        'memories:c1:m1',
        'memories:c1:m2',
        'raw_messages:c2:0',
        'reasoning_chains:a2:0',
      ]);

      // `s` stays open (with the index on) while another instance writes with it off.
      const off = await ctx.openAnother({ searchIndex: false });
      await off.storeMemory('c1', 'm1', { text: 'golf' }); // replaces alpha
      await off.deleteMemory('c1', 'm2');
      await off.storeMemories('c4', [{ memoryId: 'x', data: { text: 'juliett' } }]);
      await off.storeRawMessages('c2', [{ content: 'hotel' }]); // replaces charlie and delta
      await off.storeRawMessages('c5', ['oscar']); // a new conversation
      await off.deleteConversation('c3');
      await off.storeReasoningChain('a1', { step: 'india' });
      await off.appendReasoningChains('a3', [{ step: 'mike' }, { step: 'mike november' }]);
      await off.deleteReasoningChains('a2');
      const expectCurrent = async (instance: StorageInterface): Promise<void> => {
        expect(await ids(instance, 'golf hotel india juliett mike oscar')).toEqual([
          'memories:c1:m1',
          'memories:c4:x',
          'raw_messages:c2:0',
          'raw_messages:c5:0',
          'reasoning_chains:a1:1',
          'reasoning_chains:a3:0',
          'reasoning_chains:a3:1',
        ]);
        expect(await ids(instance, 'alpha bravo charlie delta echo lima')).toEqual([]);
        // The chain the indexed instance wrote before is still found, and kinds still narrow.
        expect(await ids(instance, 'foxtrot')).toEqual(['reasoning_chains:a1:0']);
        const memories = await instance.search({ text: 'golf juliett alpha india', kinds: ['memories'] });
        expect(memories.map(hitId).sort()).toEqual(['memories:c1:m1', 'memories:c4:x']);
      };
      await expectCurrent(off);
      await expectCurrent(s);
      await off.shutdown();
      await expectCurrent(s);
      await expectCurrent(await ctx.openAnother());
      await expectCurrent(await ctx.openAnother({ searchIndex: true }));
    });

    it('writes made with the index off while no indexed instance is open are all found, and deletes all gone, once it is back on', async () => {
      if (!ctx.harness.sharedStore) return;
      const s = ctx.storage();
      await s.storeMemory('c1', 'kept', { text: 'heron' });
      await s.storeMemory('c1', 'changed', { text: 'egret' });
      await s.storeMemory('c1', 'gone', { text: 'ibis' });
      await s.storeRawMessages('c1', [{ content: 'pelican' }]);
      await s.storeReasoningChain('a1', { text: 'cormorant' });
      await s.storeConversation('c1', { title: 'flamingo' });
      await s.shutdown();

      const off = await ctx.openAnother({ searchIndex: false });
      await off.storeMemory('c1', 'changed', { text: 'stork' });
      await off.deleteMemory('c1', 'gone');
      await off.storeMemories('c2', [{ memoryId: 'new', data: { text: 'crane' } }]);
      await off.storeRawMessages('c1', [{ content: 'spoonbill' }]);
      await off.deleteReasoningChains('a1');
      await off.appendReasoningChains('a2', [{ text: 'crane chain' }]);
      await off.storeConversation('c1', { title: 'avocet' });
      await off.storeChunkInfo('c1', { text: 'crane chunk' });
      const expected = [
        'chunk_info:c1',
        'conversations:c1',
        'memories:c1:changed',
        'memories:c1:kept',
        'memories:c2:new',
        'raw_messages:c1:0',
        'reasoning_chains:a2:0',
      ];
      const words = 'heron egret stork ibis crane pelican spoonbill cormorant flamingo avocet';
      expect(await ids(off, words)).toEqual(expected);
      await off.shutdown();

      const on = await ctx.openAnother();
      expect(await ids(on, words)).toEqual(expected);
      expect(await ids(on, 'egret ibis pelican cormorant flamingo')).toEqual([]);
      expect(await ids(on, 'stork')).toEqual(['memories:c1:changed']);
    });

    it("an indexed instance's batches and searches beside an unindexed writer's newest rows leave none of that writer's rows unfound", async () => {
      if (!ctx.harness.sharedStore) return;
      await ctx.storage().storeMemory('c', 'm0', { text: 'hello' });
      const off = await ctx.openAnother({ searchIndex: false });
      const on = await ctx.openAnother(); // opened after it: an index exists again (SQLite)
      // Each kind: an older row of the unindexed writer's, then its newest one changed in place.
      await off.storeMemory('c', 'other', { text: 'zebra' });
      await off.storeMemory('c', 'p', { text: 'one' });
      await off.storeMemory('d', 'a', { text: 'yak' });
      await off.storeMemory('d', 'b', { text: 'first' });
      await off.storeMemory('d', 'b', { text: 'second' });
      await off.storeRawMessages('r1', [{ content: 'yak' }]);
      await off.storeRawMessages('r2', [{ content: 'first' }]);
      await off.storeRawMessages('r2', [{ content: 'second' }]);
      await off.storeConversation('k1', { title: 'yak' });
      await off.storeConversation('k2', { title: 'first' });
      await off.storeConversation('k2', { title: 'second' });
      // A search of one kind first, then a batch that writes a new id twice and replaces the
      // writer's newest memory beside a new one. Until 2026-12-06 SQLite indexed the changed
      // row, or the batch's, first, which moved its index past the older rows for good.
      expect((await on.search({ text: 'yak', kinds: ['memories'], limit: 100 })).map(hitId).sort()).toEqual([
        'memories:d:a',
      ]);
      await on.storeMemories('c', [
        { memoryId: 'x', data: { text: 'one' } },
        { memoryId: 'x', data: { text: 'two' } },
        { memoryId: 'p', data: { text: 'two' } },
        { memoryId: 'y', data: { text: 'three' } },
      ]);
      for (const instance of [on, off]) {
        expect(await ids(instance, 'zebra yak')).toEqual([
          'conversations:k1',
          'memories:c:other',
          'memories:d:a',
          'raw_messages:r1:0',
        ]);
        expect(await ids(instance, 'second two three')).toEqual([
          'conversations:k2',
          'memories:c:p',
          'memories:c:x',
          'memories:c:y',
          'memories:d:b',
          'raw_messages:r2:0',
        ]);
        expect(await ids(instance, 'first one')).toEqual([]);
      }
    });
  });
}
