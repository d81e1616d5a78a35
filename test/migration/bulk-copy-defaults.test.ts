/**
 * A migration copies conversations in the target's groups, as many at once as the target says
 * (`bulkCopyDefaults`), unless the caller's options say otherwise; agents go four at once.
 */
import { FileStorage } from '../../src/backends/file/index.js';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import {
  type BulkCopyDefaults,
  type ConversationBatchItem,
  DEFAULT_BULK_COPY,
  type JsonObject,
} from '../../src/core/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { sleep } from './support.js';

/** An in-memory target with its own copy defaults, which records its batch writes and chain appends. */
class RecordingTarget extends InMemoryStorage {
  readonly batchSizes: number[] = [];
  mostInFlight = 0;
  private inFlight = 0;
  mostAppendsInFlight = 0;
  private appendsInFlight = 0;

  constructor(private readonly defaults: BulkCopyDefaults) {
    super();
  }

  override get bulkCopyDefaults(): BulkCopyDefaults {
    return this.defaults;
  }

  override async storeConversationBatch(items: readonly ConversationBatchItem[]): Promise<number> {
    this.batchSizes.push(items.length);
    this.inFlight += 1;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      await sleep(5); // long enough for the next group's write to start, if the run allows it
      return await super.storeConversationBatch(items);
    } finally {
      this.inFlight -= 1;
    }
  }

  override async appendReasoningChains(agentId: string, chains: readonly JsonObject[]): Promise<number> {
    this.appendsInFlight += 1;
    this.mostAppendsInFlight = Math.max(this.mostAppendsInFlight, this.appendsInFlight);
    try {
      await sleep(5);
      return await super.appendReasoningChains(agentId, chains);
    } finally {
      this.appendsInFlight -= 1;
    }
  }
}

async function sourceOf(conversations: number): Promise<InMemoryStorage> {
  const source = new InMemoryStorage();
  await source.initialize();
  for (let i = 0; i < conversations; i += 1) {
    await source.storeConversation(`c${i}`, { i });
    await source.storeRawMessages(`c${i}`, [{ content: `message ${i}` }]);
  }
  return source;
}

it("copies in the target's groups, as many at once as the target says, when the options leave them out", async () => {
  const target = new RecordingTarget({ conversationBatchSize: 3, concurrency: 1 });
  const summary = await migrateStorage(await sourceOf(7), target);
  expect(summary).toMatchObject({ ok: true, counts: { conversations: { copied: 7 } } });
  expect(target.batchSizes).toEqual([3, 3, 1]);
  expect(target.mostInFlight).toBe(1);
});

it("copies agents four at once whatever the target's conversation groups, unless the options say otherwise", async () => {
  const source = await sourceOf(2);
  for (let a = 0; a < 8; a += 1) await source.appendReasoningChains(`agent-${a}`, [{ step: a }]);
  const target = new RecordingTarget({ conversationBatchSize: 3, concurrency: 1 });
  const summary = await migrateStorage(source, target);
  expect(summary).toMatchObject({ ok: true, counts: { reasoning_chains: { copied: 8 } } });
  expect(target.mostInFlight).toBe(1);
  expect(target.mostAppendsInFlight).toBe(DEFAULT_BULK_COPY.concurrency);

  const given = new RecordingTarget({ conversationBatchSize: 3, concurrency: 1 });
  await migrateStorage(source, given, { concurrency: 2 });
  expect(given.mostAppendsInFlight).toBe(2);
});

it("the caller's options win over the target's defaults", async () => {
  const target = new RecordingTarget({ conversationBatchSize: 3, concurrency: 1 });
  const summary = await migrateStorage(await sourceOf(7), target, {
    conversationBatchSize: 2,
    concurrency: 2,
  });
  expect(summary).toMatchObject({ ok: true, counts: { conversations: { copied: 7 } } });
  expect(target.batchSizes).toEqual([2, 2, 2, 1]);
  expect(target.mostInFlight).toBe(2);
});

it('refuses a target whose own defaults are not usable, naming them; nothing is written', async () => {
  const target = new RecordingTarget({ conversationBatchSize: 64, concurrency: 0 });
  await expect(migrateStorage(await sourceOf(1), target)).rejects.toThrow(
    "concurrency must be a positive integer (got 0, the target's bulkCopyDefaults)",
  );
  expect(target.batchSizes).toEqual([]);
});

it('Redis targets take groups of 32 and PostgreSQL targets groups of 64, two at once; file, SQLite and registered backends 64, four at once', () => {
  // Constructing a store validates its configuration only: nothing is opened.
  expect(new RedisStorage({ url: 'redis://127.0.0.1:1' }).bulkCopyDefaults).toEqual({
    conversationBatchSize: 32,
    concurrency: 2,
  });
  expect(new PostgresStorage({ url: 'postgres://127.0.0.1:1/x' }).bulkCopyDefaults).toEqual({
    conversationBatchSize: 64,
    concurrency: 2,
  });
  expect(new FileStorage({ baseDir: '/nonexistent-connectome' }).bulkCopyDefaults).toEqual(DEFAULT_BULK_COPY);
  expect(new SQLiteStorage({ dbPath: ':memory:' }).bulkCopyDefaults).toEqual(DEFAULT_BULK_COPY);
  expect(new InMemoryStorage().bulkCopyDefaults).toEqual(DEFAULT_BULK_COPY);
  expect(DEFAULT_BULK_COPY).toEqual({ conversationBatchSize: 64, concurrency: 4 });
});
