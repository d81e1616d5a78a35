/** Conformance: initialize/shutdown rules, persistence across instances, health and stats. */
import { NotInitializedError, redactUrlsInText, type StorageInterface } from '../../../src/core/index.js';
import { EMPTY_COUNTS, sleep, type SuiteContext } from '../context.js';

/** Stores a known amount of every kind; the expected counts are below. */
async function storeKnownAmounts(s: StorageInterface): Promise<void> {
  await s.storeConversation('c1', { n: 1 });
  await s.storeConversation('c2', { n: 2 });
  await s.storeRawMessages('c1', [{ m: 1 }, { m: 2 }, { m: 3 }]);
  await s.storeRawMessages('c2', [{ m: 1 }, { m: 2 }]);
  await s.storeMemory('c1', 'm1', { t: 1 });
  await s.storeMemory('c1', 'm2', { t: 2 });
  await s.storeMemory('c2', 'm1', { t: 3 });
  await s.storeMemory('c1', 'm1', { t: 'replaced' });
  await s.storeReasoningChain('agent_a', { n: 1 });
  await s.storeReasoningChain('agent_a', { n: 2 });
  await s.storeReasoningChain('agent_a', { n: 3 });
  await s.storeReasoningChain('agent_b', { n: 1 });
  await s.storeChunkInfo('c1', { chunks: [] });
  await s.storeCacheEntry('live', { v: 1 }, 3600);
  await s.storeCacheEntry('forever', { v: 2 });
  await s.storeCacheEntry('expiring', { v: 3 }, 60);
  await s.storeSystemState('s1', { v: 1 });
  await s.storeSystemState('s2', { v: 2 });
}

/** Polls `read` until it returns `expected` or about 5 s pass; returns the last value (closing is asynchronous). */
async function settlesTo(read: () => Promise<number>, expected: number): Promise<number> {
  let value = await read();
  for (let waited = 0; value !== expected && waited < 5000; waited += 50) {
    await sleep(50);
    value = await read();
  }
  return value;
}

const KNOWN_COUNTS = {
  conversation_count: 2,
  raw_message_count: 5,
  memory_count: 3,
  reasoning_chain_count: 4,
  agent_count: 2,
  chunk_info_count: 1,
  cache_entry_count: 2,
  system_state_count: 2,
};

export function lifecycleAndStatsTests(ctx: SuiteContext): void {
  describe('lifecycle', () => {
    it('refuses calls after shutdown with NotInitializedError, and initialize reopens', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { v: 1 });
      await expect(s.shutdown()).resolves.toBe(true);
      await expect(s.loadConversation('c1')).rejects.toBeInstanceOf(NotInitializedError);
      await expect(s.storeConversation('c1', { v: 2 })).rejects.toBeInstanceOf(NotInitializedError);
      await expect(s.listConversations()).rejects.toBeInstanceOf(NotInitializedError);
      const health = await s.healthCheck();
      expect(health.status).toBe('error');
      await expect(s.shutdown()).resolves.toBe(true);
      await expect(s.initialize()).resolves.toBe(true);
      await expect(s.initialize()).resolves.toBe(true);
      if (ctx.harness.sharedStore) expect(await s.loadConversation('c1')).toEqual({ v: 1 });
    });

    it('names the store in the NotInitializedError of a call after shutdown, password masked', async () => {
      const s = ctx.storage();
      await s.shutdown();
      const error = await s.loadConversation('c1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotInitializedError);
      const { message, store } = error as NotInitializedError;
      // Until 2026-12-06 the message named the type only ("file storage: loadConversation() ...").
      for (const part of ctx.shownAs()) {
        expect(message).toContain(part);
        expect(store).toContain(part);
      }
      expect(message).toContain('loadConversation() called after shutdown()');
      expect(redactUrlsInText(message)).toBe(message);
    });

    it('refuses an empty batch after shutdown like any call (a batch call is a call)', async () => {
      const s = ctx.storage();
      await s.shutdown();
      // Until 2026-12-03 the two conversation batches returned 0 / [] on a closed store.
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['storeConversationBatch', () => s.storeConversationBatch([])],
        ['loadConversationBatch', () => s.loadConversationBatch([])],
        ['storeMemories', () => s.storeMemories('c1', [])],
        ['appendReasoningChains', () => s.appendReasoningChains('a1', [])],
        ['storeCacheEntries', () => s.storeCacheEntries([])],
        ['storeCacheRecords', () => s.storeCacheRecords([])],
        ['loadCacheEntries', () => s.loadCacheEntries([])],
        ['loadCacheRecords', () => s.loadCacheRecords([])],
      ];
      for (const [method, call] of calls) {
        const error = await call().then(
          () => new Error(`${method} resolved`),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(NotInitializedError);
        expect((error as Error).message).toContain(`${method}() called after shutdown()`);
      }
    });

    it('finishes the calls accepted before shutdown()', async () => {
      const s = ctx.storage();
      const calls: Array<Promise<boolean>> = [];
      for (let i = 0; i < 20; i += 1) calls.push(s.storeMemory('c1', `m${i}`, { i }));
      for (let i = 0; i < 10; i += 1) calls.push(s.storeReasoningChain('a1', { i }));
      calls.push(s.storeConversation('c1', { done: true }));
      await s.shutdown();
      expect(await Promise.all(calls)).toEqual(calls.map(() => true));
      if (!ctx.harness.sharedStore) return;
      const other = await ctx.openAnother();
      expect(await other.loadMemories('c1')).toHaveLength(20);
      expect(await other.loadReasoningChains('a1')).toHaveLength(10);
      expect(await other.loadConversation('c1')).toEqual({ done: true });
    });

    it('initialize() during shutdown() reopens with exactly one working connection', async () => {
      const s = ctx.storage();
      const connections = ctx.connectionCounter();
      // Calls in flight make shutdown() wait, so initialize() arrives while it is closing; they
      // are big enough to outlast opening a new connection.
      const pad = 'x'.repeat(1024 * 1024);
      const calls = Array.from({ length: 16 }, (_, i) => s.storeConversation(`c${i}`, { i, pad }));
      const closing = s.shutdown();
      const reopening = s.initialize();
      expect(await Promise.all([closing, reopening, ...calls])).toEqual(
        [closing, reopening, ...calls].map(() => true),
      );
      expect(s.isInitialized).toBe(true);
      await s.storeConversation('after', { reopened: true });
      expect(await s.loadConversation('after')).toEqual({ reopened: true });
      if (ctx.harness.sharedStore) expect(await s.listConversations()).toHaveLength(17);
      // The old connection is closed, the new one is the only one left...
      if (connections) expect(await settlesTo(connections, 1)).toBe(1);
      await s.shutdown();
      await expect(s.loadConversation('after')).rejects.toBeInstanceOf(NotInitializedError);
      // ...and the next shutdown() closes it.
      if (connections) expect(await settlesTo(connections, 0)).toBe(0);
    });

    it('shutdown() waits for a healthCheck() already running, which reports healthy', async () => {
      const s = ctx.storage();
      const finished: string[] = [];
      const health = s.healthCheck().finally(() => finished.push('healthCheck'));
      const closing = s.shutdown().finally(() => finished.push('shutdown'));
      const [report] = await Promise.all([health, closing]);
      expect(report).toMatchObject({ status: 'healthy', storage_type: s.storageType });
      expect(report.error).toBeUndefined();
      expect(finished).toEqual(['healthCheck', 'shutdown']);
      // One called after shutdown() started is refused with a report, not run on a closing store.
      expect(await s.healthCheck()).toMatchObject({ status: 'error', error: 'shut down' });
    });

    (ctx.harness.sharedStore ? it : it.skip)(
      'sees data written by another instance on the same store',
      async () => {
        const s = ctx.storage();
        await storeKnownAmounts(s);
        const other = await ctx.openAnother();
        expect(await other.listConversations()).toEqual(['c1', 'c2']);
        expect((await other.loadMemories('c1')).map((m) => m.t)).toEqual(['replaced', 2]);
        expect(await other.loadReasoningChains('agent_a', 2)).toHaveLength(2);
        expect(await other.loadCacheEntry('forever')).toEqual({ v: 2 });
        expect(await other.loadSystemState('s2')).toEqual({ v: 2 });
      },
    );
  });

  describe('health and stats', () => {
    it('reports healthy with the core keys', async () => {
      const s = ctx.storage();
      const started = performance.now();
      const health = await s.healthCheck();
      const elapsedMs = performance.now() - started;
      expect(health.status).toBe('healthy');
      expect(health.storage_type).toBe(s.storageType);
      expect(typeof health.timestamp).toBe('string');
      expect(typeof health.latency_ms).toBe('number');
      // Measured around a real round trip, in milliseconds (not seconds, not a constant 0).
      expect(health.latency_ms).toBeGreaterThan(0);
      expect(health.latency_ms).toBeLessThanOrEqual(elapsedMs);
      expect(health.error).toBeUndefined();
    });

    it('reports zero counts on an empty store', async () => {
      const stats = await ctx.storage().getStorageStats();
      expect(stats).toMatchObject(EMPTY_COUNTS);
    });

    it('counts exactly what was stored, live cache entries only', async () => {
      const s = ctx.storage();
      await storeKnownAmounts(s);
      expect((await s.getStorageStats()).cache_entry_count).toBe(3);
      await ctx.passTime(61_000, ['expiring']);
      const stats = await s.getStorageStats();
      expect(stats).toMatchObject({ storage_type: s.storageType, ...KNOWN_COUNTS });
      expect(typeof stats.timestamp).toBe('string');
      expect(
        stats.total_bytes === null || (typeof stats.total_bytes === 'number' && stats.total_bytes > 0),
      ).toBe(true);
      await s.deleteConversation('c1');
      expect(await s.getStorageStats()).toMatchObject({
        conversation_count: 1,
        raw_message_count: 2,
        memory_count: 1,
        chunk_info_count: 0,
      });
    });
  });
}
