/**
 * Several stores of one process on one database file. SQLite's busy handler sleeps on a thread
 * of libuv's pool (4 threads by default), so connections of one process waiting for each
 * other's write lock there could fill the pool, leaving the holder no thread to commit on:
 * until 2026-12-06, of 10 stores opened at once 2-3 opened after a minute and the rest failed
 * with SQLITE_BUSY. Their writes now take turns in JavaScript first, so none waits in SQLite
 * for another of this process.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { useTempDir } from './helpers.js';

describe('SQLite: several stores of one process on one file', () => {
  const dir = useTempDir();
  const opened: SQLiteStorage[] = [];
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((s) => s.shutdown()));
  });

  const stores = (dbPath: string, count: number, connectionTimeout: number, enableWalMode = true) => {
    const made = Array.from(
      { length: count },
      () => new SQLiteStorage({ dbPath, connectionTimeout, enableWalMode }),
    );
    opened.push(...made);
    return made;
  };

  it('open at once on a new file, every one of them', async () => {
    const dbPath = join(dir(), 'shared.db');
    // A short busy timeout: without the turns, the opens that wait for another's schema
    // creation fail once it has passed (instead of after the default 30 s).
    const all = stores(dbPath, 10, 3);
    const results = await Promise.allSettled(all.map((s) => s.initialize()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await Promise.all(all.map((s, i) => s.storeMemory('c', `m${i}`, { i })));
    expect(await all[0]!.loadMemories('c')).toHaveLength(10);
  });

  // Without WAL a read waits for a writer's lock too, and a commit for readers.
  it.each([true, false])('write and read at once with a busy timeout of 10 ms (WAL: %s)', async (wal) => {
    const dbPath = join(dir(), 'shared.db');
    const all = stores(dbPath, 8, 0.01, wal);
    for (const s of all) await s.initialize();
    const writes = all.flatMap((s, i) => [
      s.storeConversationBatch([
        {
          conversationId: `c${i}`,
          conversation: { i },
          memories: [{ memoryId: 'm', data: { i } }],
        },
      ]),
      s.storeMemory(`c${i}`, 'n', { i }),
      s.storeReasoningChain('agent', { i }),
      s.storeCacheEntry(`k${i}`, { i }),
      s.loadMemories(`c${i}`),
      s.getStorageStats(),
    ]);
    const results = await Promise.allSettled(writes);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // Everything is there, read through a store opened afterwards.
    const reader = stores(dbPath, 1, 5, wal)[0]!;
    await reader.initialize();
    for (let i = 0; i < all.length; i += 1) {
      expect(await reader.loadConversation(`c${i}`)).toEqual({ i });
      expect((await reader.loadMemories(`c${i}`)).map((m) => m['memory_id']).sort()).toEqual(['m', 'n']);
      expect(await reader.loadCacheEntry(`k${i}`)).toEqual({ i });
    }
    expect(await reader.loadReasoningChains('agent')).toHaveLength(all.length);
  });
});
