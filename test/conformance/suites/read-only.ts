/**
 * Read-only opens (`readOnly: true`): they read what a writable instance wrote, refuse every
 * write with a `ReadOnlyError` before any I/O, and refuse a store that does not exist with a
 * `StoreNotFoundError` without creating it.
 */
import {
  ConfigError,
  ReadOnlyError,
  StorageError,
  StorageInterface,
  StoreNotFoundError,
} from '../../../src/core/index.js';
import { EMPTY_COUNTS, type SuiteContext } from '../context.js';

/** Every public write, called with valid arguments. */
const WRITES: ReadonlyArray<[string, (s: StorageInterface) => Promise<unknown>]> = [
  ['storeConversation', (s) => s.storeConversation('c1', { title: 'changed' })],
  ['deleteConversation', (s) => s.deleteConversation('c1')],
  ['storeRawMessages', (s) => s.storeRawMessages('c1', [{ role: 'user', content: 'changed' }])],
  ['storeMemory', (s) => s.storeMemory('c1', 'm1', { summary: 'changed' })],
  ['deleteMemory', (s) => s.deleteMemory('c1', 'm1')],
  ['deleteMemories', (s) => s.deleteMemories('c1', ['m1', 'absent', 'm1'])],
  ['deleteReasoningChains', (s) => s.deleteReasoningChains('a1')],
  ['storeReasoningChain', (s) => s.storeReasoningChain('a1', { steps: ['changed'] })],
  ['trimReasoningChains', (s) => s.trimReasoningChains('a1', 0)],
  ['storeChunkInfo', (s) => s.storeChunkInfo('c1', { chunks: 99 })],
  ['storeCacheEntry', (s) => s.storeCacheEntry('k1', { value: 'changed' }, 60)],
  [
    'storeCacheRecord',
    (s) =>
      s.storeCacheRecord('k1', {
        data: { value: 'changed' },
        storedAt: new Date().toISOString(),
        expiresAt: null,
      }),
  ],
  ['deleteCacheEntry', (s) => s.deleteCacheEntry('k1')],
  ['deleteCacheEntries', (s) => s.deleteCacheEntries(['absent', 'k1', 'k1'])],
  ['purgeExpiredCache', (s) => s.purgeExpiredCache()],
  ['storeSystemState', (s) => s.storeSystemState('s1', { value: 'changed' })],
  ['deleteSystemState', (s) => s.deleteSystemState('s1')],
  ['reindex', (s) => s.reindex()],
  ['storeMemories', (s) => s.storeMemories('c1', [{ memoryId: 'm1', data: { summary: 'changed' } }])],
  ['storeConversationBatch', (s) => s.storeConversationBatch([{ conversationId: 'c1', conversation: {} }])],
  ['appendReasoningChains', (s) => s.appendReasoningChains('a1', [{ steps: ['changed'] }])],
  ['storeCacheEntries', (s) => s.storeCacheEntries([{ key: 'k1', data: { value: 'changed' } }])],
  [
    'storeCacheRecords',
    (s) =>
      s.storeCacheRecords([
        { key: 'k1', data: { value: 'changed' }, storedAt: new Date().toISOString(), expiresAt: null },
      ]),
  ],
];

/** One record of every kind. */
async function populate(s: StorageInterface): Promise<void> {
  await s.storeConversation('c1', { title: 'first', messages: [] });
  await s.storeRawMessages('c1', [{ role: 'user', content: 'hi' }]);
  await s.storeMemory('c1', 'm1', { summary: 'greeting' });
  await s.storeReasoningChain('a1', { steps: ['think'] });
  await s.storeChunkInfo('c1', { chunks: 1 });
  await s.storeCacheEntry('k1', { value: 'cached' }, 3600);
  await s.storeSystemState('s1', { value: 'state' });
}

/** Everything {@link populate} wrote, as loads, listings and counts return it. */
async function snapshot(s: StorageInterface): Promise<Record<string, unknown>> {
  const counts = pickCounts(await s.getStorageStats());
  // Byte counts may include server-side bookkeeping (Redis memory, table pages); not compared.
  delete counts.total_bytes;
  return {
    conversation: await s.loadConversation('c1'),
    raw: await s.loadRawMessages('c1'),
    memories: await s.loadMemories('c1'),
    chains: await s.loadReasoningChains('a1'),
    chunks: await s.loadChunkInfo('c1'),
    cache: await s.loadCacheRecord('k1'),
    state: await s.loadSystemState('s1'),
    ids: await s.listAllConversationIds(),
    conversations: await s.listConversations(),
    agents: await s.listAgents(),
    cacheKeys: await s.listCacheKeys(),
    stateKeys: await s.listSystemStateKeys(),
    counts,
  };
}

function pickCounts(stats: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys({ ...EMPTY_COUNTS, total_bytes: 0 }).map((k) => [k, stats[k]]));
}

/** Registers the read-only tests. */
export function readOnlyTests(ctx: SuiteContext): void {
  const { harness } = ctx;
  // Instances of a store that does not outlive them (SQLite :memory:) cannot be reopened read-only.
  const shared = harness.sharedStore ? it : it.skip;

  describe('read-only opens', () => {
    shared('a read-only instance reads everything a writable one wrote', async () => {
      await populate(ctx.storage());
      const readOnly = await ctx.openAnother({ readOnly: true });
      expect(readOnly.isReadOnly).toBe(true);
      expect(ctx.storage().isReadOnly).toBe(false);
      expect(await snapshot(readOnly)).toEqual(await snapshot(ctx.storage()));
      expect(await readOnly.loadConversation('c1')).toEqual({ title: 'first', messages: [] });
      expect(await readOnly.getStorageStats()).toMatchObject({ read_only: true, conversation_count: 1 });
      expect(await readOnly.healthCheck()).toMatchObject({ status: 'healthy', read_only: true });
    });

    shared('every write is refused with a ReadOnlyError naming the method, and nothing changes', async () => {
      await populate(ctx.storage());
      const before = await snapshot(ctx.storage());
      const readOnly = await ctx.openAnother({ read_only: true });
      for (const [method, write] of WRITES) {
        const error = await write(readOnly).then(
          () => new Error(`${method} resolved`),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ReadOnlyError);
        expect(error).toBeInstanceOf(StorageError);
        expect(error).toMatchObject({ code: 'READ_ONLY', method });
        expect((error as ReadOnlyError).message).toContain(`${method}()`);
        expect((error as ReadOnlyError).store.length).toBeGreaterThan(0);
      }
      expect(await snapshot(ctx.storage())).toEqual(before);
      expect(await snapshot(readOnly)).toEqual(before);
    });

    shared(
      'refuses an empty batch write as any write (until 2026-12-03 storeConversationBatch([]) returned 0)',
      async () => {
        await populate(ctx.storage());
        const readOnly = await ctx.openAnother({ readOnly: true });
        const empties: Array<[string, () => Promise<unknown>]> = [
          ['storeConversationBatch', () => readOnly.storeConversationBatch([])],
          ['storeMemories', () => readOnly.storeMemories('c1', [])],
          ['appendReasoningChains', () => readOnly.appendReasoningChains('a1', [])],
          ['storeCacheEntries', () => readOnly.storeCacheEntries([])],
          ['storeCacheRecords', () => readOnly.storeCacheRecords([])],
          ['deleteCacheEntries', () => readOnly.deleteCacheEntries([])],
          ['deleteMemories', () => readOnly.deleteMemories('c1', [])],
        ];
        for (const [method, write] of empties) {
          await expect(write()).rejects.toMatchObject({ code: 'READ_ONLY', method });
        }
      },
    );

    it('the list of refused writes covers every public write method of every API layer', () => {
      const names = new Set<string>();
      for (
        let proto: object | null = StorageInterface.prototype;
        proto !== null;
        proto = Object.getPrototypeOf(proto)
      ) {
        for (const name of Object.getOwnPropertyNames(proto)) names.add(name);
      }
      const publicWrites = [...names]
        .filter((name) => /^(store|delete|purge|append|trim|reindex)/.test(name))
        .sort();
      expect(WRITES.map(([method]) => method).sort()).toEqual(publicWrites);
    });

    it('a read-only open of a store that does not exist is refused and creates nothing', async () => {
      const missing = await ctx.newStore();
      const error = await missing.open({ readOnly: true }).then(
        () => new Error('the read-only open resolved'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreNotFoundError);
      expect(error).toMatchObject({ code: 'STORE_NOT_FOUND' });
      expect(await missing.exists()).toBe(false);
    });

    shared('a store exists after its first writable open, and then opens read-only (empty)', async () => {
      const store = await ctx.newStore();
      await store.open();
      expect(await store.exists()).toBe(true);
      const readOnly = await store.open({ readOnly: true });
      expect(pickCounts(await readOnly.getStorageStats())).toMatchObject(EMPTY_COUNTS);
      expect(await readOnly.listAllConversationIds()).toEqual([]);
    });

    it('readOnly must be a boolean', async () => {
      const error = await ctx.openAnother({ readOnly: 'yes' }).then(
        () => new Error('opened'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'CONFIG_ERROR', key: 'readOnly' });
    });
  });
}
