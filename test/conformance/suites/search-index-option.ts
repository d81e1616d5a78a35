/**
 * Conformance: the `searchIndex` option (issue 13). Writes made with it off do not maintain
 * the native index, so an index left stale by them must never be trusted: a store opened with
 * it on again finds the new records and not the replaced or deleted ones.
 */
import type { SearchHit, StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

function idOf(hit: SearchHit): string {
  switch (hit.kind) {
    case 'raw_messages':
      return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
    case 'memories':
      return `memories:${hit.conversationId}:${hit.memoryId}`;
    case 'reasoning_chains':
      return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
    default:
      return `${hit.kind}:${hit.conversationId}`;
  }
}

async function ids(s: StorageInterface, text: string): Promise<string[]> {
  return (await s.search({ text, kinds: ['raw_messages', 'memories', 'reasoning_chains', 'conversations'] }))
    .map(idOf)
    .sort();
}

/** Registers the `searchIndex` option tests. */
export function searchIndexOptionTests(ctx: SuiteContext): void {
  describe('searchIndex option', () => {
    it('writes made with searchIndex: false are found, and what they replaced or deleted is not, once it is on', async () => {
      if (!ctx.harness.sharedStore) return;
      const s = ctx.storage();
      await s.storeMemory('c1', 'm1', { text: 'alpha' });
      await s.storeMemory('c1', 'm2', { text: 'bravo' });
      await s.storeRawMessages('c2', [{ content: 'charlie' }, { content: 'delta' }]);
      await s.storeConversation('c3', { title: 'echo' });
      await s.storeReasoningChain('a1', { step: 'foxtrot' });
      const before = ['conversations:c3', 'memories:c1:m1', 'memories:c1:m2', 'raw_messages:c2:0'];
      expect(await ids(s, 'alpha bravo charlie echo')).toEqual(before);

      const off = await ctx.openAnother({ searchIndex: false });
      await off.storeMemory('c1', 'm1', { text: 'golf' }); // replaces alpha
      await off.deleteMemory('c1', 'm2');
      await off.storeRawMessages('c2', [{ content: 'hotel' }]); // replaces charlie and delta
      await off.deleteConversation('c3');
      await off.storeReasoningChain('a1', { step: 'india' });
      await off.storeMemory('c4', 'm1', { text: 'juliett' });
      const after = ['memories:c1:m1', 'memories:c4:m1', 'raw_messages:c2:0', 'reasoning_chains:a1:1'];
      expect(await ids(off, 'golf hotel india juliett')).toEqual(after);
      await off.shutdown();

      const on = await ctx.openAnother({ searchIndex: true });
      expect(await ids(on, 'alpha bravo charlie delta echo')).toEqual([]);
      expect(await ids(on, 'golf hotel india juliett')).toEqual(after);
      expect(await ids(on, 'foxtrot')).toEqual(['reasoning_chains:a1:0']);
    });
  });
}
