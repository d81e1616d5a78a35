/**
 * Round trips per call: the hot calls and the W5 calls (listings, stats) are one statement
 * each on any pooled connection (no checked-out transaction), and listings come back in code
 * point order from the server.
 */
import pg from 'pg';
import { describeWithService } from '../services.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

type ConnectCallback = (
  error: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: Error | boolean) => void,
) => void;

/** A real pool that counts the statements sent through it and the transactions checked out. */
function countingPool(): { pool: pg.Pool; counts: { statements: number; transactions: number } } {
  const pool = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 2 });
  pool.on('error', () => undefined);
  const counts = { statements: 0, transactions: 0 };
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const connect = pool.connect.bind(pool) as (callback: ConnectCallback) => void;
  // pg's own `query` checks out through `connect` too, in the same turn: not a transaction.
  let inPoolQuery = false;
  Object.assign(pool, {
    query: (...args: unknown[]) => {
      counts.statements += 1;
      inPoolQuery = true;
      try {
        return query(...args);
      } finally {
        inPoolQuery = false;
      }
    },
    // A caller's transaction checks out a client; each statement of the transaction (BEGIN
    // and COMMIT too) is one round trip.
    connect: (callback: ConnectCallback) => {
      if (inPoolQuery) return connect(callback);
      counts.transactions += 1;
      return connect((error, client, done) => {
        if (client === undefined) return callback(error, client, done);
        const clientQuery = client.query.bind(client) as (...a: unknown[]) => unknown;
        const counted = Object.assign(Object.create(client) as pg.PoolClient, {
          query: (...a: unknown[]) => {
            counts.statements += 1;
            return clientQuery(...a);
          },
          release: (releaseError?: Error | boolean) => client.release(releaseError),
        });
        return callback(error, counted, done);
      });
    },
  });
  return { pool, counts };
}

describeWithService('postgres')('postgres round trips', () => {
  const ctx = usePostgresStore();
  const pools: pg.Pool[] = [];

  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.end();
  });

  /** The statements and transactions `call` takes. */
  async function cost(
    counts: { statements: number; transactions: number },
    call: () => Promise<unknown>,
  ): Promise<{ statements: number; transactions: number }> {
    const before = { ...counts };
    await call();
    return {
      statements: counts.statements - before.statements,
      transactions: counts.transactions - before.transactions,
    };
  }

  it('runs each hot call, listing and the stats as one statement', async () => {
    const { pool, counts } = countingPool();
    pools.push(pool);
    const s = await ctx.open({ pool });
    const one = { statements: 1, transactions: 0 };
    for (const id of ['b', 'B', '\u00e9', 'a\u{1F600}', 'a\uffff']) {
      expect(await cost(counts, () => s.storeConversation(id, { title: `t ${id}` }))).toEqual(one);
    }
    expect(await cost(counts, () => s.loadConversation('b'))).toEqual(one);
    expect(await cost(counts, () => s.storeMemory('m-only', 'm1', { text: 'x' }))).toEqual(one);
    expect(await cost(counts, () => s.storeReasoningChain('agent', { step: 1 }))).toEqual(one);
    // A raw-message list, new or stored again longer: one call of the schema's function.
    expect(await cost(counts, () => s.storeRawMessages('m-only', [{ text: 'a' }, { text: 'b' }]))).toEqual(
      one,
    );
    const longer = [{ text: 'a' }, { text: 'b' }, { text: 'c' }];
    expect(await cost(counts, () => s.storeRawMessages('m-only', longer))).toEqual(one);
    expect(await s.loadRawMessages('m-only')).toEqual(longer);
    expect(await cost(counts, () => s.storeCacheEntry('k', { v: 1 }, 60))).toEqual(one);
    expect(await cost(counts, () => s.loadCacheEntry('k'))).toEqual(one);
    // A conversation's delete: one call of the schema's function, its locks and every kind.
    await s.storeMemory('gone', 'm1', { text: 'x' });
    await s.storeRawMessages('gone', [{ text: 'y' }]);
    expect(await cost(counts, () => s.deleteConversation('gone'))).toEqual(one);
    expect([await s.loadMemories('gone'), await s.loadRawMessages('gone')]).toEqual([[], []]);

    let listed: string[] = [];
    expect(await cost(counts, async () => (listed = await s.listConversations()))).toEqual(one);
    expect(listed).toEqual(['B', 'a\uffff', 'a\u{1F600}', 'b', '\u00e9']);
    expect(await cost(counts, async () => (listed = await s.listAllConversationIds()))).toEqual(one);
    expect(listed).toEqual(['B', 'a\uffff', 'a\u{1F600}', 'b', 'm-only', '\u00e9']);

    let stats: Record<string, unknown> = {};
    expect(await cost(counts, async () => (stats = await s.getStorageStats()))).toEqual(one);
    expect(stats).toMatchObject({
      conversation_count: 5,
      memory_count: 1,
      raw_message_count: 3,
      search_index_entries: 10,
    });
  });

  it('writes and loads each batch in one statement, however many items it holds', async () => {
    const { pool, counts } = countingPool();
    pools.push(pool);
    const s = await ctx.open({ pool });
    const one = { statements: 1, transactions: 0 };
    const memories = Array.from({ length: 20 }, (_, n) => ({ memoryId: `m${n % 15}`, data: { n } }));
    expect(await cost(counts, () => s.storeMemories('c1', memories))).toEqual(one);
    expect((await s.loadMemories('c1')).map((memory) => memory.memory_id)).toEqual(
      Array.from({ length: 15 }, (_, n) => `m${n}`),
    );
    // The memory delete batch: one call of the schema's function, which takes the
    // conversation's lock and then deletes every id (schema version 8).
    const goneIds = ['m3', 'missing', 'm7', 'm3'];
    expect(await cost(counts, () => s.deleteMemories('c1', goneIds))).toEqual(one);
    expect((await s.loadMemories('c1')).map((memory) => memory.memory_id)).toEqual(
      Array.from({ length: 15 }, (_, n) => `m${n}`).filter((id) => id !== 'm3' && id !== 'm7'),
    );
    const chains = Array.from({ length: 20 }, (_, n) => ({ step: n }));
    expect(await cost(counts, () => s.appendReasoningChains('a1', chains))).toEqual(one);
    const keys = Array.from({ length: 30 }, (_, n) => `k${n}`);
    expect(
      await cost(counts, () => s.storeCacheEntries(keys.map((key, n) => ({ key, data: { n } })))),
    ).toEqual(one);
    const now = Date.now();
    const records = keys.map((key, n) => ({
      key,
      data: { n, again: true },
      storedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 60_000).toISOString(),
    }));
    expect(await cost(counts, () => s.storeCacheRecords(records))).toEqual(one);
    let loaded: unknown[] = [];
    expect(await cost(counts, async () => (loaded = await s.loadCacheEntries([...keys, 'missing'])))).toEqual(
      one,
    );
    expect(loaded).toEqual([...keys.map((_, n) => ({ n, again: true })), null]);
    // Until 2026-12-05 no batch delete: one statement per key.
    const deleted = [...keys.slice(0, 20), 'missing', 'k0'];
    expect(await cost(counts, () => s.deleteCacheEntries(deleted))).toEqual(one);
    expect(await s.listCacheKeys()).toEqual(keys.slice(20).sort());
  });

  it('appends a chain under a limit in one statement, trimmed', async () => {
    const { pool, counts } = countingPool();
    pools.push(pool);
    const s = await ctx.open({ pool, maxReasoningChainsPerAgent: 2 });
    for (let step = 1; step <= 3; step += 1) {
      // The schema's function: the lock, the insert and the trim in one call.
      expect(await cost(counts, () => s.storeReasoningChain('agent', { step }))).toEqual({
        statements: 1,
        transactions: 0,
      });
    }
    const chains = await s.loadReasoningChains('agent');
    expect(chains.map((chain) => chain.step)).toEqual([2, 3]);
    // A batch under the limit takes the same one.
    expect(
      await cost(counts, () => s.appendReasoningChains('agent', [{ step: 4 }, { step: 5 }, { step: 6 }])),
    ).toEqual({ statements: 1, transactions: 0 });
    expect((await s.loadReasoningChains('agent')).map((chain) => chain.step)).toEqual([5, 6]);
    // A trim alone: the same call with no records; it reports what it removed.
    let removed = -1;
    expect(await cost(counts, async () => (removed = await s.trimReasoningChains('agent', 1)))).toEqual({
      statements: 1,
      transactions: 0,
    });
    expect(removed).toBe(1);
    expect((await s.loadReasoningChains('agent')).map((chain) => chain.step)).toEqual([6]);
  });

  it('loads a batch of conversations, every kind, in one statement, as the single loads do', async () => {
    const { pool, counts } = countingPool();
    pools.push(pool);
    const s = await ctx.open({ pool });
    await s.storeConversation('a', { title: 'A' });
    await s.storeRawMessages('a', ['one', { two: 2 }, null]);
    await s.storeMemory('a', 'm2', { text: 'second' });
    await s.storeMemory('a', 'm1', { text: 'first' });
    await s.storeMemory('a', 'm2', { text: 'second, replaced' });
    await s.storeChunkInfo('b', { chunks: 3 });
    await s.storeRawMessages('b', ['b0']);
    const ids = ['b', 'a', 'missing', 'a'];
    let loaded: unknown[] = [];
    expect(await cost(counts, async () => (loaded = await s.loadConversationBatch(ids)))).toEqual({
      statements: 1,
      transactions: 0,
    });
    const singles = [];
    for (const id of ids) {
      singles.push({
        conversationId: id,
        conversation: await s.loadConversation(id),
        rawMessages: await s.loadRawMessages(id),
        memories: await s.loadMemories(id),
        chunkInfo: await s.loadChunkInfo(id),
      });
    }
    expect(JSON.stringify(loaded)).toBe(JSON.stringify(singles)); // key order too
    expect(loaded[1]).not.toBe(loaded[3]);
  });
});
