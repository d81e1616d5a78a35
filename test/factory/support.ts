/** Shared helpers of the factory tests. */
import type { StorageInterface } from '../../src/core/index.js';

/** A conversation with non-ASCII text, stored and loaded by every round-trip check. */
export const SAMPLE_CONVERSATION = {
  title: 'Factory test ü 會話',
  messages: [
    { role: 'user', content: 'Hello' },
    { role: 'assistant', content: 'Hi!' },
  ],
};

/** Opens `storage`, stores and loads a conversation, and closes it again. */
export async function expectRoundTrip(storage: StorageInterface, conversationId = 'conv-1'): Promise<void> {
  await storage.initialize();
  try {
    await storage.storeConversation(conversationId, SAMPLE_CONVERSATION);
    expect(await storage.loadConversation(conversationId)).toEqual(SAMPLE_CONVERSATION);
    expect(await storage.listConversations()).toContain(conversationId);
  } finally {
    await storage.shutdown();
  }
}

/** The error `fn` throws (fails the test when it does not throw). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected a throw');
}

export { useTempDir } from '../support/temp-dir.js';
