/**
 * The sizes `getStorageStats()` reports on SQLite: the database file and its write-ahead log
 * as they are on disk when the call returns (the file stats run while the counting statement is
 * on the driver's thread), and the counts of the same call.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { useTempDir } from './helpers.js';

const sizeOf = (path: string): number => statSync(path, { throwIfNoEntry: false })?.size ?? 0;

describe('SQLite: stats sizes', () => {
  const dir = useTempDir();

  for (const searchIndex of [true, false]) {
    it(`reports the file and WAL sizes with the counts (searchIndex: ${searchIndex})`, async () => {
      const dbPath = join(dir(), `sizes-${searchIndex}.db`);
      const storage = new SQLiteStorage({ dbPath, searchIndex });
      await storage.initialize();
      for (let n = 0; n < 20; n += 1) await storage.storeConversation(`c${n}`, { text: `hello ${n}` });
      await storage.storeCacheEntry('k', { v: 1 }, 60);
      const stats = await storage.getStorageStats();
      const fileBytes = sizeOf(dbPath);
      const walBytes = sizeOf(`${dbPath}-wal`);
      // The writes above left frames in the log, so both parts are counted.
      expect(walBytes).toBeGreaterThan(0);
      expect(stats).toMatchObject({
        conversation_count: 20,
        cache_entry_count: 1,
        database_size_bytes: fileBytes,
        total_bytes: fileBytes + walBytes,
        search_index_entries: searchIndex ? 20 : null,
      });
      await storage.shutdown();
    });
  }

  it('reports the pages of an in-memory database, with no file stat', async () => {
    const storage = new SQLiteStorage({ dbPath: ':memory:' });
    await storage.initialize();
    await storage.storeConversation('c', { text: 'hello' });
    const stats = await storage.getStorageStats();
    expect(stats.total_bytes).toBe(stats.total_pages_bytes);
    expect(stats.total_bytes).toBeGreaterThan(0);
    expect(stats.conversation_count).toBe(1);
    await storage.shutdown();
  });
});
