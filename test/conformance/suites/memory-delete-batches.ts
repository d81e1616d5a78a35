/**
 * Conformance: `deleteMemories`, the memories' batch delete. A batch equals `deleteMemory` in a
 * loop (compared with a second fresh store where the singles ran): the order of the rest,
 * absent and repeated ids, the counts, the listing and the search hits; a bad id anywhere is
 * refused before any I/O and deletes nothing.
 */
import {
  InvalidIdError,
  MAX_BATCH_ITEMS,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';
import { withoutClock } from './value-helpers.js';

/** What a memory delete changes: each conversation's memories, the listing, the count and the hits. */
async function memoryState(s: StorageInterface, conversationIds: readonly string[]): Promise<unknown> {
  const memories = await Promise.all(
    conversationIds.map(async (id) => withoutClock(await s.loadMemories(id))),
  );
  const hits = (await s.search({ text: 'otter heron', limit: 50 })).map(hitId).sort();
  const stats = await s.getStorageStats();
  return { memories, listed: await s.listAllConversationIds(), count: stats.memory_count, hits };
}

/** Stores the same memories on each store: two conversations, `c1` with a duplicate-free list of six. */
async function seed(stores: readonly StorageInterface[]): Promise<void> {
  for (const s of stores) {
    await s.storeMemories(
      'c1',
      ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map((memoryId, i) => ({
        memoryId,
        data: { text: i % 2 === 0 ? `otter ${memoryId}` : `heron ${memoryId}`, i },
      })),
    );
    await s.storeMemory('c2', 'm1', { text: 'otter of c2' });
    await s.storeMemory('only-memories', 'x', { text: 'heron alone' });
  }
}

/** Registers the memory delete batch tests (inside the `batches` group). */
export function memoryDeleteBatchTests(ctx: SuiteContext): void {
  /** The test's store, and a second fresh one for the single calls. */
  async function pair(): Promise<[StorageInterface, StorageInterface]> {
    return [ctx.storage(), await (await ctx.newStore()).open()];
  }
  const ids = ['c1', 'c2', 'only-memories'];

  it('deleteMemories equals deleteMemory in a loop: the rest in order, absent and repeated ids, hits', async () => {
    const [batch, single] = await pair();
    await seed([batch, single]);
    const deleted = ['m2', 'missing', 'm5', 'm2', 'm1', 'never stored'];
    await expect(batch.deleteMemories('c1', deleted)).resolves.toBe(deleted.length);
    for (const id of deleted) await expect(single.deleteMemory('c1', id)).resolves.toBe(true);
    const state = await memoryState(batch, ids);
    expect(state).toEqual(await memoryState(single, ids));
    expect(state).toMatchObject({
      count: 5,
      hits: [
        'memories:c1:m3',
        'memories:c1:m4',
        'memories:c1:m6',
        'memories:c2:m1',
        'memories:only-memories:x',
      ],
    });
    expect((await batch.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['m3', 'm4', 'm6']);
    // An id deleted and stored again comes back at the end, as after deleteMemory.
    for (const s of [batch, single]) await s.storeMemory('c1', 'm2', { text: 'otter again' });
    expect(await memoryState(batch, ids)).toEqual(await memoryState(single, ids));
    expect((await batch.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['m3', 'm4', 'm6', 'm2']);
  });

  it('deleteMemories of every memory of a conversation leaves it unlisted when it holds nothing else', async () => {
    const [batch, single] = await pair();
    await seed([batch, single]);
    for (const s of [batch, single]) await s.storeConversation('c1', { title: 'kept' });
    await batch.deleteMemories('only-memories', ['x']);
    await batch.deleteMemories('c1', ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    await single.deleteMemory('only-memories', 'x');
    for (const id of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']) await single.deleteMemory('c1', id);
    const state = await memoryState(batch, ids);
    expect(state).toEqual(await memoryState(single, ids));
    expect(state).toMatchObject({ listed: ['c1', 'c2'], count: 1, hits: ['memories:c2:m1'] });
    // Another conversation's memory with a deleted id is untouched.
    expect(await batch.loadMemories('c2')).toEqual([expect.objectContaining({ memory_id: 'm1' })]);
  });

  it('deleteMemories of a full batch leaves the rest exact, in order', async () => {
    const s = ctx.storage();
    const all = Array.from({ length: MAX_BATCH_ITEMS }, (_, i) => `mem-${String(i).padStart(4, '0')}`);
    await s.storeMemories(
      'big',
      all.map((memoryId, i) => ({ memoryId, data: { i } })),
    );
    const odd = all.filter((_, i) => i % 2 === 1);
    await expect(s.deleteMemories('big', odd)).resolves.toBe(odd.length);
    const even = all.filter((_, i) => i % 2 === 0);
    expect((await s.loadMemories('big')).map((m) => m.memory_id)).toEqual(even);
    expect((await s.getStorageStats()).memory_count).toBe(even.length);
    await expect(s.deleteMemories('big', all)).resolves.toBe(all.length);
    expect(await s.loadMemories('big')).toEqual([]);
    expect(await s.listAllConversationIds()).toEqual([]);
    expect((await s.getStorageStats()).memory_count).toBe(0);
  });

  it('deleteMemories of an empty batch, or of a conversation never stored, changes nothing', async () => {
    const s = ctx.storage();
    await s.storeMemory('c1', 'm1', { v: 1 });
    await expect(s.deleteMemories('c1', [])).resolves.toBe(0);
    await expect(s.deleteMemories('nobody', ['m1'])).resolves.toBe(1);
    expect(await s.loadMemories('c1')).toEqual([expect.objectContaining({ memory_id: 'm1', v: 1 })]);
    expect(await s.listAllConversationIds()).toEqual(['c1']);
  });

  const BAD: ReadonlyArray<[string, new (...args: never[]) => Error, RegExp, unknown, unknown]> = [
    [
      'an empty memory id',
      InvalidIdError,
      /deleteMemories\(\) item 2: Invalid memoryId ""/,
      'c1',
      ['m1', 'm2', ''],
    ],
    [
      'a memory id with a slash',
      InvalidIdError,
      /deleteMemories\(\) item 1: Invalid memoryId "a\/b"/,
      'c1',
      ['m1', 'a/b'],
    ],
    [
      'a memory id that is not a string',
      InvalidIdError,
      /deleteMemories\(\) item 0: Invalid memoryId/,
      'c1',
      [7, 'm1'],
    ],
    ['a bad conversation id', InvalidIdError, /Invalid conversationId "\.\."/, '..', ['m1']],
    ['no array', ValidationError, /deleteMemories\(\) takes an array/, 'c1', 'm1'],
    [
      'one id more than the limit',
      ValidationError,
      new RegExp(`deleteMemories\\(\\) takes at most ${MAX_BATCH_ITEMS} items`),
      'c1',
      ['m1', ...Array.from({ length: MAX_BATCH_ITEMS }, (_, i) => `x${i}`)],
    ],
  ];

  it.each(
    BAD.map(([name, errorClass, message, conversationId, memoryIds]) => ({
      name,
      errorClass,
      message,
      conversationId,
      memoryIds,
    })),
  )(
    'deleteMemories with $name is refused, naming the item, and deletes nothing',
    async ({ errorClass, message, conversationId, memoryIds }) => {
      const s = ctx.storage();
      await s.storeMemories('c1', [
        { memoryId: 'm1', data: { v: 1 } },
        { memoryId: 'm2', data: { v: 2 } },
      ]);
      const error = await s.deleteMemories(conversationId as string, memoryIds as string[]).then(
        () => new Error('the batch resolved'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(message);
      expect((await s.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['m1', 'm2']);
      expect((await s.getStorageStats()).memory_count).toBe(2);
    },
  );
}
