/** A conversation's four writes go to the target together, and a failed one is reported after the others settled. */
import type { StorageInterface } from '../../src/core/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { openStore, sleep } from './support.js';

const WRITES = ['storeConversation', 'storeRawMessages', 'storeMemories', 'storeChunkInfo'];

async function sourceWithOneConversation(): Promise<InMemoryStorage> {
  const source = await openStore();
  await source.storeConversation('c1', { title: 'one' });
  await source.storeRawMessages('c1', [{ role: 'user', content: 'hi' }]);
  await source.storeMemory('c1', 'm1', { summary: 'first' });
  await source.storeMemory('c1', 'm2', { summary: 'second' });
  await source.storeChunkInfo('c1', { chunks: [1] });
  return source;
}

/** `target` with each conversation write delayed by `delayMs`, or failing when `fail` names it. */
function slowTarget(
  target: InMemoryStorage,
  delayMs: number,
  events: string[],
  fail?: string,
): { store: StorageInterface; most: () => number } {
  let inFlight = 0;
  let most = 0;
  const store = new Proxy(target, {
    get(inner, property, receiver) {
      const value: unknown = Reflect.get(inner, property, receiver);
      if (typeof property !== 'string' || !WRITES.includes(property)) return value;
      return async (...args: unknown[]) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          if (property === fail) throw new Error(`simulated ${property} failure`);
          await sleep(delayMs);
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(
            receiver,
            args,
          );
          events.push(`${property} done`);
          return result;
        } finally {
          inFlight -= 1;
        }
      };
    },
  }) as StorageInterface;
  return { store, most: () => most };
}

it("writes a conversation's conversation, raw messages, memories and chunk info at the same time", async () => {
  const source = await sourceWithOneConversation();
  const target = slowTarget(await openStore(), 20, []);
  const summary = await migrateStorage(source, target.store, { concurrency: 1, conversationBatchSize: 0 });
  expect(summary).toMatchObject({ ok: true, conversationIds: 1 });
  // One conversation in flight (concurrency 1), yet all four of its writes were.
  expect(target.most()).toBe(4);
  expect(summary.counts).toMatchObject({
    conversations: { copied: 1 },
    raw_messages: { copied: 1 },
    memories: { copied: 2 },
    chunk_info: { copied: 1 },
  });
});

it('rejects with the failed write only after the other writes of the conversation settled', async () => {
  const source = await sourceWithOneConversation();
  const events: string[] = [];
  const inner = await openStore();
  const target = slowTarget(inner, 30, events, 'storeRawMessages');
  await expect(
    migrateStorage(source, target.store, { sourceId: 'src', concurrency: 1, conversationBatchSize: 0 }),
  ).rejects.toThrow('simulated storeRawMessages failure');
  expect(events.sort()).toEqual(['storeChunkInfo done', 'storeConversation done', 'storeMemories done']);
  // The next run resumes and completes the copy.
  const resumed = await migrateStorage(source, inner, { sourceId: 'src', concurrency: 1 });
  expect(resumed).toMatchObject({ ok: true, resumed: true });
});
