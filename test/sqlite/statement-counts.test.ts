/**
 * Statements per call on SQLite's read paths and stats: each is one statement on the
 * connection (what the raw driver would run), counted with SQLite's own trace. Also the shape
 * of the loaded records those reads build (key order, which value wins), which the per-row
 * conversion must keep.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SqliteConnection } from '../../src/backends/sqlite/connection.js';
import { useTempDir, withRawDb } from './helpers.js';

/** Trace events come from SQLite's thread: lets the ones already queued arrive. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

/**
 * Counts statements on a store's connection: `during(fn)` gives the SQL of every top-level
 * statement SQLite starts while `fn` runs (lines starting with `--` trace a trigger or pragma
 * inside a statement). One listener for the whole test: the driver does not restart its trace
 * after the last listener was removed.
 */
function traceOf(storage: SQLiteStorage) {
  const connection = (storage as unknown as { db: SqliteConnection }).db;
  const seen: string[] = [];
  const stop = connection.traceStatements((sql) => seen.push(sql));
  return {
    stop,
    async during(fn: () => Promise<unknown>): Promise<string[]> {
      await settle();
      const before = seen.length;
      await fn();
      await settle();
      return seen.slice(before).filter((sql) => !sql.startsWith('--'));
    },
  };
}

describe('SQLite: statements per call', () => {
  const dir = useTempDir();

  for (const searchIndex of [true, false]) {
    it(`getStorageStats is one statement (searchIndex: ${searchIndex})`, async () => {
      const storage = new SQLiteStorage({ dbPath: join(dir(), 'stats.db'), searchIndex });
      await storage.initialize();
      await storage.storeMemory('c', 'm', { text: 'hello world' });
      await storage.storeReasoningChain('a', { step: 'think' });
      let stats: Record<string, unknown> = {};
      const trace = traceOf(storage);
      const statements = await trace.during(async () => {
        stats = await storage.getStorageStats();
      });
      trace.stop();
      expect(statements).toHaveLength(1);
      expect(stats).toMatchObject({
        memory_count: 1,
        reasoning_chain_count: 1,
        agent_count: 1,
        search_index_entries: searchIndex ? 2 : null,
      });
      // The order users see (the reference's keys, the schema version, the core keys last),
      // whatever way the result is put together.
      expect(Object.keys(stats)).toEqual([
        ...['conversations_count', 'raw_messages_count', 'memories_count', 'reasoning_chains_count'],
        ...['chunk_info_count', 'cache_entries_count', 'page_count', 'page_size_bytes'],
        ...['total_pages_bytes', 'database_size_bytes', 'schema_version', 'supported_schema_version'],
        ...['needs_upgrade', 'search_index_entries', 'storage_type', 'timestamp', 'conversation_count'],
        ...['raw_message_count', 'memory_count', 'reasoning_chain_count', 'agent_count'],
        ...['cache_entry_count', 'system_state_count', 'total_bytes'],
      ]);
      await storage.shutdown();
    });
  }

  it('getStorageStats reports no index entries once another open dropped the index', async () => {
    const dbPath = join(dir(), 'dropped.db');
    const indexed = new SQLiteStorage({ dbPath });
    await indexed.initialize();
    await indexed.storeMemory('c', 'm', { text: 'hello' });
    expect((await indexed.getStorageStats()).search_index_entries).toBe(1);
    const unindexed = new SQLiteStorage({ dbPath, searchIndex: false });
    await unindexed.initialize(); // drops the index tables
    await unindexed.shutdown();
    expect(await indexed.getStorageStats()).toMatchObject({ memory_count: 1, search_index_entries: null });
    await indexed.shutdown();
  });

  it('loadReasoningChains, loadMemories, storeCacheEntry and loadCacheEntry are one statement each', async () => {
    const storage = new SQLiteStorage({ dbPath: join(dir(), 'reads.db') });
    await storage.initialize();
    await storage.appendReasoningChains(
      'a',
      Array.from({ length: 30 }, (_, step) => ({ step })),
    );
    await storage.storeMemory('c', 'm', { text: 'x' });
    const trace = traceOf(storage);
    expect(await trace.during(() => storage.loadReasoningChains('a', 10))).toHaveLength(1);
    expect(await trace.during(() => storage.loadMemories('c'))).toHaveLength(1);
    expect(await trace.during(() => storage.storeCacheEntry('k', { v: 1 }, 60))).toHaveLength(1);
    expect(await trace.during(() => storage.loadCacheEntry('k'))).toHaveLength(1);
    trace.stop();
    await storage.shutdown();
  });

  for (const searchIndex of [true, false]) {
    it(`the hot writes and loads are one statement each (searchIndex: ${searchIndex})`, async () => {
      // What the raw driver runs for the same call: one autocommit statement, so one commit
      // (one WAL fsync) and one round trip through the driver's thread pool.
      const storage = new SQLiteStorage({ dbPath: join(dir(), 'writes.db'), searchIndex });
      await storage.initialize();
      const trace = traceOf(storage);
      const calls: Record<string, () => Promise<unknown>> = {
        storeConversation: () => storage.storeConversation('c', { title: 'hello world' }),
        loadConversation: () => storage.loadConversation('c'),
        storeRawMessages: () => storage.storeRawMessages('c', [{ text: 'one' }, { text: 'two' }]),
        storeChunkInfo: () => storage.storeChunkInfo('c', { chunks: 2 }),
        storeMemory: () => storage.storeMemory('c', 'm', { text: 'remember' }),
        storeReasoningChain: () => storage.storeReasoningChain('a', { step: 'think' }),
        // A batch of one chain, as one storeReasoningChain (until 2026-12-06 a transaction).
        appendReasoningChains: () => storage.appendReasoningChains('one', [{ step: 'alone' }]),
        storeCacheEntries: () =>
          storage.storeCacheEntries(
            Array.from({ length: 5 }, (_, n) => ({ key: `k${n}`, data: { n }, ttlSeconds: 60 })),
          ),
        loadCacheEntries: () => storage.loadCacheEntries(['k0', 'k4', 'missing']),
        // Until 2026-12-05 no batch delete: one statement (and commit) per key.
        deleteCacheEntries: () => storage.deleteCacheEntries(['k1', 'missing', 'k2', 'k1']),
      };
      const counts: Record<string, number> = {};
      for (const [name, call] of Object.entries(calls)) counts[name] = (await trace.during(call)).length;
      expect(counts).toEqual(Object.fromEntries(Object.keys(calls).map((name) => [name, 1])));
      // A chain batch: one insert for all its chains, autocommit (with the index on through
      // the fast path's view and trigger), as one storeReasoningChain; until 2026-12-06 plus
      // BEGIN and COMMIT, and with the index on its step.
      const chainBatch = await trace.during(() =>
        storage.appendReasoningChains('b', [{ step: 1 }, { step: 2, stored_at: 'mine' }, { step: 3 }]),
      );
      expect(chainBatch).toHaveLength(1);
      const sequenced = await storage.loadSequencedReasoningChains('b');
      expect(sequenced.map((s) => s.chain)).toEqual([
        { stored_at: expect.any(String), step: 1 },
        { stored_at: 'mine', step: 2 },
        { stored_at: expect.any(String), step: 3 },
      ]);
      expect(sequenced.map((s) => s.sequence)).toEqual(
        [...sequenced.map((s) => s.sequence)].sort((a, b) => a - b),
      );
      // A memory batch of new ids only: one insert, autocommit, as one storeMemory (with the
      // index on through the same view and trigger); until 2026-12-06 the general path below.
      const newIds = await trace.during(() =>
        storage.storeMemories('fresh', [
          { memoryId: 'a', data: { n: 1 } },
          { memoryId: 'b', data: { n: 2 } },
        ]),
      );
      expect(newIds).toHaveLength(1);
      expect((await storage.loadMemories('fresh')).map((m) => [m.memory_id, m.n])).toEqual([
        ['a', 1],
        ['b', 2],
      ]);
      // A memory batch: one read of the existing ids, one insert for the new ones, one update
      // for every id replaced in place (here `m`, stored above, and `p` and `q`), whatever the
      // batch's size; until 2026-12-06 one update per id replaced.
      await storage.storeMemories('c', [
        { memoryId: 'p', data: { n: -1 } },
        { memoryId: 'q', data: { n: -2 } },
      ]);
      const memoryBatch = await trace.during(() =>
        storage.storeMemories(
          'c',
          ['m', 'n1', 'q', 'n2', 'n1', 'p', 'n3', 'q'].map((memoryId, n) => ({ memoryId, data: { n } })),
        ),
      );
      const memoryWrites = memoryBatch.filter((sql) => /^(SELECT|INSERT|UPDATE)\b.*\bmemories\b/.test(sql));
      expect(memoryWrites.map((sql) => sql.split(' ')[0])).toEqual(['SELECT', 'INSERT', 'UPDATE']);
      expect((await storage.loadMemories('c')).map((m) => [m.memory_id, m.n])).toEqual([
        ['m', 0],
        ['p', 5],
        ['q', 7],
        ['n1', 4],
        ['n2', 3],
        ['n3', 6],
      ]);
      // A memory delete batch: one DELETE for all its ids (with the index: plus BEGIN, COMMIT
      // and the index's sync; without it the DELETE alone, autocommit); until 2026-12-06 there
      // was none, and a loop of deleteMemory ran one transaction per id. One deleteMemory alike.
      const memoryDeletes = await trace.during(() =>
        storage.deleteMemories('c', ['n1', 'missing', 'n3', 'n1', 'p', 'q']),
      );
      expect(memoryDeletes.filter((sql) => /^DELETE\b.*\bmemories\b/.test(sql))).toHaveLength(1);
      if (searchIndex) expect(memoryDeletes.length).toBeLessThanOrEqual(8);
      else expect(memoryDeletes).toHaveLength(1);
      expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual(['m', 'n2']);
      await storage.storeMemory('c', 'gone', { text: 'soon' });
      const memoryDelete = await trace.during(() => storage.deleteMemory('c', 'gone'));
      expect(memoryDelete.filter((sql) => /^DELETE\b.*\bmemories\b/.test(sql))).toHaveLength(1);
      if (searchIndex) expect(memoryDelete.length).toBeLessThanOrEqual(8);
      else expect(memoryDelete).toHaveLength(1);
      expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual(['m', 'n2']);
      // The one-statement batch wrote every record, in order (the last of a key wins).
      await storage.storeCacheEntries([
        { key: 'k0', data: { n: 'first' } },
        { key: 'k0', data: { n: 'last' } },
      ]);
      expect(await storage.loadCacheEntries(['k0', 'k3'])).toEqual([{ n: 'last' }, { n: 3 }]);
      expect(await storage.loadCacheEntries(['k1', 'k2', 'k4'])).toEqual([null, null, { n: 4 }]);
      trace.stop();
      await storage.shutdown();
    });
  }

  for (const searchIndex of [true, false]) {
    it(`a conversation whose memory batches replace stored ids skips the one-statement insert they decline (searchIndex: ${searchIndex})`, async () => {
      const storage = new SQLiteStorage({ dbPath: join(dir(), 'replacing.db'), searchIndex });
      await storage.initialize();
      const trace = traceOf(storage);
      const batch = (ids: string[], n: number) => ids.map((memoryId) => ({ memoryId, data: { n } }));
      // Statements run before the general path's transaction: the attempted insert, if any.
      const attempts = (sql: string[]) => sql.slice(0, Math.max(0, sql.indexOf('BEGIN IMMEDIATE'))).length;
      expect(await trace.during(() => storage.storeMemories('u', batch(['a', 'b'], 0)))).toHaveLength(1);
      // The first replacing batch pays the declined insert; the next ones (until 2026-12-06
      // each) go straight to the general path.
      expect(attempts(await trace.during(() => storage.storeMemories('u', batch(['a', 'b'], 1))))).toBe(1);
      expect(attempts(await trace.during(() => storage.storeMemories('u', batch(['b', 'a'], 2))))).toBe(0);
      // Another conversation is not concerned.
      expect(await trace.during(() => storage.storeMemories('v', batch(['a'], 3)))).toHaveLength(1);
      // A general batch that replaced nothing gives the one-statement insert back.
      expect(attempts(await trace.during(() => storage.storeMemories('u', batch(['c'], 4))))).toBe(0);
      expect(await trace.during(() => storage.storeMemories('u', batch(['d', 'e'], 5)))).toHaveLength(1);
      expect((await storage.loadMemories('u')).map((m) => [m.memory_id, m.n])).toEqual([
        ['a', 2],
        ['b', 2],
        ['c', 4],
        ['d', 5],
        ['e', 5],
      ]);
      trace.stop();
      await storage.shutdown();
    });
  }

  it('builds loaded records with the columns first; a timestamp in the JSON text wins, the memory id column always', async () => {
    const dbPath = join(dir(), 'shape.db');
    const storage = new SQLiteStorage({ dbPath, searchIndex: false });
    await storage.initialize();
    await storage.storeMemory('c', 'm1', { text: 'a' });
    await storage.storeReasoningChain('a', { step: 1 });
    // Rows as the reference may write them: the ids and the caller's timestamp inside the JSON text.
    await withRawDb(dbPath, async (db) => {
      await db.run(
        'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
        [
          'c',
          'm2',
          '{"text":"b","memory_id":"other","created_at":"caller"}',
          '2025-01-01T00:00:00.000000+00:00',
        ],
      );
      await db.run('INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)', [
        'a',
        '{"step":2,"stored_at":"caller"}',
        '2025-01-01T00:00:00.000000+00:00',
      ]);
    });
    const memories = await storage.loadMemories('c');
    expect(Object.keys(memories[0]!)).toEqual(['memory_id', 'created_at', 'text']);
    expect(JSON.stringify(memories[1])).toBe('{"memory_id":"m2","created_at":"caller","text":"b"}');
    const chains = await storage.loadReasoningChains('a', 2);
    expect(Object.keys(chains[0]!)).toEqual(['stored_at', 'step']);
    expect(JSON.stringify(chains[1])).toBe('{"stored_at":"caller","step":2}');
    await storage.shutdown();
  });
});
