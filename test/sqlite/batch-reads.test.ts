/**
 * `loadConversationBatch` and the cache batch loads on SQLite (one query each, see
 * `batch-reads.ts` and `batches.ts`) report a row another program corrupted as a
 * `CorruptDataError` naming the row, and read good rows around it.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { CorruptDataError } from '../../src/core/index.js';
import { useTempDir, withRawDb } from './helpers.js';

const dir = useTempDir('connectome-sqlite-batch-reads-');

describe('loadConversationBatch on SQLite', () => {
  it.each(['{not json', '[1, 2', '12 34'])(
    'reports raw message text %j with its row and conversation',
    async (text) => {
      const dbPath = join(dir(), 'batch.db');
      const storage = new SQLiteStorage({ dbPath });
      await storage.initialize();
      try {
        await storage.storeRawMessages('good', [{ n: 0 }, 'two']);
        await storage.storeRawMessages('bad', [{ n: 0 }, { n: 1 }, { n: 2 }]);
        await withRawDb(dbPath, (db) =>
          db.run(
            "UPDATE raw_messages SET message_data = ? WHERE conversation_id = 'bad' AND message_index = 1",
            [text],
          ),
        );
        const error = await storage.loadConversationBatch(['good', 'bad']).then(
          () => new Error('resolved'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(CorruptDataError);
        expect((error as CorruptDataError).location).toBe('raw_messages row 1 of "bad"');
        const [good] = await storage.loadConversationBatch(['good']);
        expect(good?.rawMessages).toEqual([{ n: 0 }, 'two']);
      } finally {
        await storage.shutdown();
      }
    },
  );
});

describe('cache batch loads on SQLite', () => {
  it.each(['loadCacheEntries', 'loadCacheRecords'] as const)(
    '%s names the key of a corrupted entry, wherever it is in the batch',
    async (method) => {
      const dbPath = join(dir(), 'cache.db');
      const storage = new SQLiteStorage({ dbPath });
      await storage.initialize();
      try {
        await storage.storeCacheEntries([
          { key: 'a', data: { v: 'a' } },
          { key: 'bad key', data: { v: 'b' } },
          { key: 'c', data: { v: 'c' } },
        ]);
        await withRawDb(dbPath, (db) =>
          db.run("UPDATE cache_entries SET cache_data = '[1, 2]' WHERE cache_key = 'bad key'"),
        );
        const error = await storage[method](['c', 'missing', 'a', 'bad key']).then(
          () => new Error('resolved'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(CorruptDataError);
        expect((error as CorruptDataError).location).toBe('cache_entries row "bad key"');
        const [c, missing, a] = await storage.loadCacheEntries(['c', 'missing', 'a']);
        expect([c, missing, a]).toEqual([{ v: 'c' }, null, { v: 'a' }]);
      } finally {
        await storage.shutdown();
      }
    },
  );
});
