/**
 * Conformance: which ids count as stored. An id is listed (and counted) while it holds data;
 * an empty raw-message list, a conversation whose last memory was deleted or an agent whose
 * chains were all trimmed holds none, on every backend alike (SQLite and PostgreSQL keep a row
 * per record, so "nothing left" is all they can show; the others follow them).
 */
import type { Page, StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

/** The any-kind listing read whole, as pages of 2, and iterated: each must show the same ids. */
async function allIdsEveryWay(s: StorageInterface): Promise<string[][]> {
  const paged: string[] = [];
  let after: string | null = null;
  do {
    const page: Page<string> = await s.listAllConversationIds({ after, limit: 2 });
    paged.push(...page.items);
    after = page.next;
  } while (after !== null);
  const iterated: string[] = [];
  for await (const id of s.iterate('allConversationIds', { pageSize: 2 })) iterated.push(id);
  return [await s.listAllConversationIds(), paged, iterated];
}

export function storedIdTests(ctx: SuiteContext): void {
  describe('stored ids', () => {
    it('an empty raw-message list is no stored data: its id is not listed, nothing is counted', async () => {
      const s = ctx.storage();
      await s.storeRawMessages('empty', []);
      await s.storeRawMessages('emptied', [{ content: 'gone words' }, { content: 'gone too' }]);
      await s.storeRawMessages('emptied', []);
      await s.storeConversationBatch([
        { conversationId: 'batch-emptied', rawMessages: [{ content: 'gone' }] },
      ]);
      await s.storeConversationBatch([
        { conversationId: 'batch-emptied', rawMessages: [] },
        { conversationId: 'batch-empty', rawMessages: [] },
      ]);
      await s.storeRawMessages('kept', [{ content: 'kept words' }]);

      expect(await allIdsEveryWay(s)).toEqual([['kept'], ['kept'], ['kept']]);
      expect(await s.listConversations()).toEqual([]);
      for (const id of ['empty', 'emptied', 'batch-empty', 'batch-emptied']) {
        expect(await s.loadRawMessages(id)).toEqual([]);
        expect(await s.loadRawMessages(id, { offset: 0, limit: 5 })).toEqual([]);
      }
      const parts = await s.loadConversationBatch(['empty', 'emptied']);
      expect(parts.map((part) => part.rawMessages)).toEqual([[], []]);
      expect(await s.getStorageStats()).toMatchObject({ conversation_count: 0, raw_message_count: 1 });
      expect(await s.search({ text: 'gone' })).toEqual([]);
      expect((await s.healthCheck()).status).toBe('healthy');
      if (ctx.harness.sharedStore) {
        expect(await (await ctx.openAnother()).listAllConversationIds()).toEqual(['kept']);
      }

      // A list with messages stores the id again; deleting it leaves nothing either.
      await s.storeRawMessages('empty', [{ content: 'back' }]);
      expect(await s.listAllConversationIds()).toEqual(['empty', 'kept']);
      await s.deleteConversation('empty');
      await s.deleteConversation('emptied');
      expect(await allIdsEveryWay(s)).toEqual([['kept'], ['kept'], ['kept']]);
    });

    it('an id stays listed for its other kinds when its raw list is emptied, and goes with the last', async () => {
      const s = ctx.storage();
      for (const id of ['with-chunk', 'with-conversation', 'with-memory']) {
        await s.storeRawMessages(id, [{ content: id }]);
      }
      await s.storeConversation('with-conversation', { title: 't' });
      await s.storeMemory('with-memory', 'm1', { text: 'x' });
      await s.storeChunkInfo('with-chunk', { chunks: [] });
      for (const id of ['with-chunk', 'with-conversation', 'with-memory']) await s.storeRawMessages(id, []);
      const all = ['with-chunk', 'with-conversation', 'with-memory'];
      expect(await allIdsEveryWay(s)).toEqual([all, all, all]);

      await s.deleteMemory('with-memory', 'm1');
      await s.deleteConversation('with-conversation');
      expect(await allIdsEveryWay(s)).toEqual([['with-chunk'], ['with-chunk'], ['with-chunk']]);
      expect(await s.getStorageStats()).toMatchObject({
        conversation_count: 0,
        raw_message_count: 0,
        memory_count: 0,
        chunk_info_count: 1,
      });
    });

    it('an agent whose chains were all trimmed or deleted is neither listed nor counted', async () => {
      const s = ctx.storage();
      for (const agentId of ['trimmed', 'deleted', 'kept']) await s.storeReasoningChain(agentId, { step: 1 });
      await s.trimReasoningChains('trimmed', 0);
      await s.deleteReasoningChains('deleted');
      expect(await s.listAgents()).toEqual(['kept']);
      expect((await s.listAgents({ limit: 5 })).items).toEqual(['kept']);
      expect(await s.getStorageStats()).toMatchObject({ agent_count: 1, reasoning_chain_count: 1 });
      expect(await s.loadReasoningChains('trimmed')).toEqual([]);
    });
  });
}
