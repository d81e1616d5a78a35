/**
 * Cache rows another program wrote with an `expires_at` that is not TEXT (a BLOB, a REAL, an
 * INTEGER): no time, so expired, as unparsable text is, in every path. Until 2026-12-06 one
 * BLOB expiry failed listing, stats, purge, paged listing and migration of the whole cache
 * ("JSON cannot hold BLOB values", naming no key), while loads returned it live, its record's
 * `expiresAt` a Buffer; a BLOB holding a canonical time was also counted and listed for ever.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { formatEpochMs, type Page } from '../../src/core/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { useSqliteStores, useTempDir, withRawDb } from './helpers.js';

const HOUR = 3_600_000;

describe('SQLite: cache expiries of another type than TEXT', () => {
  const dir = useTempDir();
  const open = useSqliteStores();

  it('count as expired in load, list, pages, stats, purge and migration alike', async () => {
    const dbPath = join(dir(), 'cache.db');
    const storage = await open(dbPath);
    const future = formatEpochMs(Date.now() + HOUR);
    await storage.storeCacheEntry('live', { v: 'live' }, 3600);
    await storage.storeCacheEntry('forever', { v: 'forever' });
    // [key, SQL of the value, its parameter]: bound as text, turned into the type by SQL.
    const odd: Array<[string, string, string]> = [
      ['blobCanonicalFuture', 'CAST(? AS BLOB)', future],
      ['blobGarbage', 'CAST(? AS BLOB)', '2099-01-01T00:00:00+00:00'],
      ['blobEmpty', 'CAST(? AS BLOB)', ''],
      ['real', 'CAST(? AS REAL)', '4102444800.5'],
      ['integer', 'CAST(? AS INTEGER)', '4102444800'],
    ];
    await withRawDb(dbPath, async (db) => {
      for (const [key, value, param] of odd) {
        await db.run(
          `INSERT INTO cache_entries (cache_key, cache_data, created_at, expires_at) VALUES (?, '{}', ?, ${value})`,
          [key, formatEpochMs(Date.now()), param],
        );
      }
      const types = await db.all('SELECT typeof(expires_at) AS t FROM cache_entries ORDER BY cache_key');
      // The column's TEXT affinity stores the numbers as text (unparsable: expired as well).
      expect(types.map((r) => r.t).sort()).toEqual(['blob', 'blob', 'blob', 'null', 'text', 'text', 'text']);
    });
    const keys = odd.map(([key]) => key);
    const live = ['forever', 'live'];

    for (const key of keys) {
      expect({ key, entry: await storage.loadCacheEntry(key) }).toEqual({ key, entry: null });
      expect({ key, record: await storage.loadCacheRecord(key) }).toEqual({ key, record: null });
    }
    expect(await storage.loadCacheEntries(keys)).toEqual(keys.map(() => null));
    expect(await storage.loadCacheRecords(keys)).toEqual(keys.map(() => null));
    expect(await storage.listCacheKeys()).toEqual(live);
    // Pages of one key: the non-text rows sort around the live ones ('blob...' < 'forever' < 'integer').
    const paged: string[] = [];
    for (let after: string | null = null, n = 0; n === 0 || after !== null; n += 1) {
      const page: Page<string> = await storage.listCacheKeys({ after, limit: 1 });
      paged.push(...page.items);
      after = page.next;
    }
    expect(paged).toEqual(live);
    expect((await storage.getStorageStats()).cache_entry_count).toBe(live.length);

    const target = new SQLiteStorage({ dbPath: ':memory:' });
    await target.initialize();
    try {
      const summary = await migrateStorage(storage, target);
      expect(summary.ok).toBe(true);
      expect(await target.listCacheKeys()).toEqual(live);
    } finally {
      await target.shutdown();
    }

    expect(await storage.purgeExpiredCache()).toBe(keys.length);
    expect(await storage.purgeExpiredCache()).toBe(0);
    const left = await withRawDb(dbPath, (db) =>
      db.all('SELECT cache_key FROM cache_entries ORDER BY cache_key'),
    );
    expect(left.map((r) => r.cache_key)).toEqual(live);
    expect(await storage.loadCacheEntry('live')).toEqual({ v: 'live' });
  });
});
