/**
 * An indexed open racing a `searchIndex: false` open of the same file (two processes starting
 * together with different settings): the unindexed open drops the index tables between two of
 * the indexed open's transactions. The indexed open still succeeds, as if the drop had come
 * just after it (its writes and searches go on without an index, which the next indexed open
 * rebuilds). Until 2026-12-04 it rejected with "no such table: main.search_fts" or
 * "main.search_docs", so the process failed to start.
 */
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SqliteSearchIndex } from '../../src/backends/sqlite/search-index.js';
import { SEARCH_KINDS } from '../../src/core/index.js';
import { useSqliteStores, useTempDir } from './helpers.js';

/** The store's index (a protected member, reached for its test seam). */
function fts(s: SQLiteStorage): SqliteSearchIndex {
  return (s as unknown as { fts: SqliteSearchIndex }).fts;
}

/** Steps of an indexed open's reconcile on a small unindexed file: each kind's stale entries, then its one batch. */
const STEPS = SEARCH_KINDS.length * 2;

describe('SQLite indexed open while another open drops the index', () => {
  const dir = useTempDir();
  const open = useSqliteStores();

  it.each(Array.from({ length: STEPS }, (_, i) => i + 1))(
    'succeeds when the drop lands after reconcile step %i, and the index is rebuilt by the next indexed open',
    async (step) => {
      const dbPath = `${dir()}/race-${step}.db`;
      const plain = await open(dbPath, { searchIndex: false });
      await plain.storeMemory('c', 'm', { text: 'lynx one' });
      await plain.storeReasoningChain('agent', { text: 'lynx chain' });
      await plain.storeRawMessages('c', [{ text: 'lynx raw' }]);
      await plain.shutdown();

      const indexed = new SQLiteStorage({ dbPath });
      let steps = 0;
      fts(indexed).afterStep = async () => {
        steps += 1;
        // Another process starting with the index off: its open drops the index tables.
        if (steps === step) await open(dbPath, { searchIndex: false });
      };
      try {
        await indexed.initialize();
        expect(steps).toBeGreaterThanOrEqual(step); // the drop happened inside the open
        await indexed.storeMemory('c', 'n', { text: 'lynx two' });
        await indexed.storeRawMessages('d', [{ text: 'lynx more' }]);
        const hits = async (s: SQLiteStorage) =>
          (await s.search({ text: 'lynx', limit: 10 })).map((hit) => hit.kind).sort();
        const expected = ['memories', 'memories', 'raw_messages', 'raw_messages', 'reasoning_chains'];
        expect(await hits(indexed)).toEqual(expected);
        const reopened = await open(dbPath);
        expect(await hits(reopened)).toEqual(expected);
        expect((await reopened.getStorageStats()).search_index_entries).toBe(5);
      } finally {
        await indexed.shutdown();
      }
    },
  );
});
