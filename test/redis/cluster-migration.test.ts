/**
 * Calls whose bucket's slot is migrating between two masters of a cluster (a reshard), driven
 * step by step (`cluster-slots.ts`). While the slot's keys are split over two nodes, a script
 * command on a key its node does not hold fails ("non local key") after the commands before it
 * ran: before the slot probe (`slot-probe.ts`) a raw-message replace deleted the stored list
 * and failed, an indexed write marked its bucket stale, the error was a plain `StorageError`,
 * and a write run on the importing node made postings there that broke the reshard's
 * `MIGRATE`. Now every script refuses with `TRYAGAIN` before its first command, ioredis retries,
 * and the call either fails typed having written nothing or lands once after the migration.
 */
import { Cluster, type ClusterOptions } from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { uniqueTestPrefix } from '../conformance/harness-redis.js';
import { describeWithService } from '../services.js';
import { useRedisCluster } from './cluster-hooks.js';
import { SlotMigration } from './cluster-slots.js';
import { waitFor } from './redis-server.js';

const conversationId = 'conv-1';
const firstRaw = [
  { role: 'user', content: 'hello world' },
  { role: 'assistant', content: 'hi there' },
];

describeWithService('redis')('redis on a cluster while a bucket slot migrates', () => {
  const processes = useRedisCluster();
  const clients: Cluster[] = [];
  const stores: RedisStorage[] = [];
  let migration: SlotMigration | undefined;

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const client of clients.splice(0)) client.disconnect();
    await migration?.close();
    migration = undefined;
  });

  /** A store on its own prefix, its client retrying a `TRYAGAIN` as `options` say. */
  const openStore = async (options: ClusterOptions) => {
    const client = new Cluster(processes.nodes, { retryDelayOnTryAgain: 10, ...options });
    clients.push(client);
    const keyPrefix = uniqueTestPrefix();
    const store = new RedisStorage({ client, keyPrefix });
    stores.push(store);
    await store.initialize();
    return { store, client, layout: new KeyLayout(keyPrefix) };
  };

  /** A conversation with every kind stored, so each of its write scripts' keys exists. */
  const seed = async (store: RedisStorage) => {
    await store.storeConversation(conversationId, { title: 'alpha' });
    await store.storeRawMessages(conversationId, firstRaw);
    await store.storeChunkInfo(conversationId, { chunks: 1 });
    await store.storeMemory(conversationId, 'm1', { text: 'first memory zebra' });
  };

  const searchStale = async (client: Cluster, layout: KeyLayout) =>
    client.hget(layout.conversation(conversationId).bucket.counters, 'search_stale');

  it('refuses writes typed while the slot is split, writing nothing; all land after it', async () => {
    // Few retries: the slot stays migrating for the whole call, which must then fail.
    const { store, client, layout } = await openStore({ maxRedirections: 4 });
    await seed(store);
    const stale = await searchStale(client, layout);
    migration = await SlotMigration.begin(processes, layout.conversation(conversationId).raw);
    const refused = [
      // Same words (postings all exist): the old script deleted the list, then failed to push.
      () => store.storeRawMessages(conversationId, [...firstRaw, { role: 'user', content: 'hello there' }]),
      // A new word: its posting key does not exist on the source (the old one marked the bucket stale).
      () => store.storeMemory(conversationId, 'm2', { text: 'second memory platypus' }),
      () => store.storeConversation(conversationId, { title: 'beta narwhal' }),
      () => store.deleteMemory(conversationId, 'm1'),
    ];
    for (const call of refused) {
      const error = await call().then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toContain(`"${conversationId}"`);
    }
    await migration.finish();
    expect(await store.loadRawMessages(conversationId)).toEqual(firstRaw);
    expect(await store.loadConversation(conversationId)).toEqual({ title: 'alpha' });
    expect((await store.loadMemories(conversationId)).map((m) => m.memory_id)).toEqual(['m1']);
    expect(await store.getStorageStats()).toMatchObject({ raw_message_count: 2, memory_count: 1 });
    expect(await searchStale(client, layout)).toBe(stale);
    // The same instance writes on the slot's new master.
    await store.storeMemory(conversationId, 'm2', { text: 'second memory platypus' });
    const hits = await store.search({ text: 'platypus', kinds: ['memories'] });
    expect(hits.map((hit) => hit.kind === 'memories' && hit.memoryId)).toEqual(['m2']);
  });

  it('runs no script on the importing master, so the reshard moves every key', async () => {
    const { store, layout } = await openStore({ maxRedirections: 4 });
    await seed(store);
    migration = await SlotMigration.begin(processes, layout.conversation(conversationId).raw);
    // Everything but the postings has moved: a script sent there by ASK would append to
    // postings the source still holds.
    const left = await migration.keysLeft();
    await migration.move(left.filter((key) => !key.includes(':q:')));
    await expect(
      store.storeMemory(conversationId, 'm1', { text: 'first memory zebra again' }),
    ).rejects.toThrow(BackendUnavailableError);
    await migration.finish();
    expect(await migration.keysLeft()).toEqual([]);
    const hits = await store.search({ text: 'zebra', kinds: ['memories'] });
    expect(hits.map((hit) => hit.record)).toEqual([expect.objectContaining({ text: 'first memory zebra' })]);
  });

  it('holds a write while the slot migrates and lands it once after', async () => {
    // Retries enough for any machine: the test, not a timer, ends the migration.
    const { store, layout } = await openStore({ maxRedirections: 1_000_000 });
    await seed(store);
    migration = await SlotMigration.begin(processes, layout.conversation(conversationId).raw);
    const before = await migration.tryAgainReplies();
    const next = [...firstRaw, { role: 'user', content: 'third quokka' }];
    let settled = false;
    const write = store.storeRawMessages(conversationId, next).finally(() => (settled = true));
    write.catch(() => undefined);
    // The write has been refused at least once (or, on the code before, has failed).
    await waitFor('a TRYAGAIN', async () => settled || (await migration!.tryAgainReplies()) > before);
    expect(settled).toBe(false);
    await migration.finish();
    await write;
    expect(await store.loadRawMessages(conversationId)).toEqual(next);
    expect(await store.getStorageStats()).toMatchObject({ raw_message_count: 3 });
    const hits = await store.search({ text: 'quokka', kinds: ['raw_messages'] });
    expect(hits.map((hit) => hit.kind === 'raw_messages' && hit.messageIndex)).toEqual([2]);
  });
});
