/**
 * Conformance: an error names a bad id, key or property name by a bounded prefix and its
 * length, whatever its size, while its fields keep the whole value. Until 2026-12-04 a
 * property name of 1 MB in a stored value (or a search query's unknown field) made a message
 * of 1 MB, and an id was cut at 80 characters without saying how long it was.
 */
import {
  InvalidIdError,
  SerializationError,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

const HUGE = 1 << 20;
/** Longest message a bounded name leaves (the name's prefix and the rest of the sentence). */
const MAX_MESSAGE = 1000;

/** The error `call` rejects with, checked to be an instance of `type` with a bounded message naming the length. */
async function rejection<T extends Error>(
  call: () => Promise<unknown>,
  type: new (...args: never[]) => T,
  length = HUGE,
): Promise<T> {
  const error = await call().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  const { message } = error as T;
  expect(message.length).toBeLessThan(MAX_MESSAGE);
  expect(message).toContain(`… (${length} chars)`);
  return error as T;
}

export function longNameTests(ctx: SuiteContext): void {
  describe('long names in error messages', () => {
    const huge = 'x'.repeat(HUGE);
    const ids: Array<[string, (s: StorageInterface) => Promise<unknown>]> = [
      ['storeConversation', (s) => s.storeConversation(huge, { a: 1 })],
      ['loadConversation', (s) => s.loadConversation(huge)],
      ['storeMemory', (s) => s.storeMemory('c1', huge, { a: 1 })],
      ['appendReasoningChains', (s) => s.appendReasoningChains(huge, [{ a: 1 }])],
      ['storeCacheEntry', (s) => s.storeCacheEntry(huge, { a: 1 })],
      ['storeSystemState', (s) => s.storeSystemState(huge, { a: 1 })],
      [
        'storeConversationBatch',
        (s) => s.storeConversationBatch([{ conversationId: huge, conversation: {} }]),
      ],
    ];

    it.each(ids)(
      '%s: a 1 MB id is named by its start and length; the error keeps it whole',
      async (_name, call) => {
        const error = await rejection(() => call(ctx.storage()), InvalidIdError);
        expect(error.value).toBe(huge);
        expect(error.message).toContain(`"${'x'.repeat(256)}"… (${HUGE} chars)`);
      },
    );

    it('a 1 MB property name in a stored value: the path is bounded in the message, whole in `path`', async () => {
      const s = ctx.storage();
      const value = { [huge]: BigInt(1) } as unknown as Record<string, never>;
      const error = await rejection(() => s.storeConversation('c1', value), SerializationError, HUGE + 2);
      expect(error.path).toBe(`$.${huge}`);
      await rejection(
        () => s.storeMemories('c1', [{ memoryId: 'm1', data: value }]),
        SerializationError,
        HUGE + 2,
      );
      await rejection(() => s.listConversations({ [huge]: 1 } as never), ValidationError);
      // Too deep under a 1 MB name: each name of the path bounded, its 512 steps kept.
      let deep: unknown = 1;
      for (let level = 0; level < 600; level += 1) deep = [deep];
      const tooDeep = await s.storeConversation('c1', { [huge]: deep } as never).catch((e: unknown) => e);
      expect(tooDeep).toBeInstanceOf(ValidationError);
      expect((tooDeep as Error).message.length).toBeLessThan(MAX_MESSAGE + 3 * 512);
      expect((tooDeep as Error).message).toMatch(new RegExp(`… \\(${HUGE} chars\\)(\\[0\\]){511}$`));
      expect(await s.loadConversation('c1')).toBeNull();
    });

    it('an id of normal length is named whole, as before', async () => {
      const id = `${'y'.repeat(250)}/`;
      const error = await ctx
        .storage()
        .storeConversation(id, {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidIdError);
      expect((error as Error).message).toContain(`Invalid conversationId ${JSON.stringify(id)}: `);
    });
  });
}
