/**
 * Cache and state keys longer than a write accepts (MAX_KEY_BYTES) on PostgreSQL. Until
 * 2026-12-04 the limit was the primary-key btree's (2,704 bytes after compression): a key that
 * compressed (6,000 repeats of one letter) was stored, one of varied text was a StorageError
 * (SQLSTATE 54000) once the write had begun. Now every backend refuses a longer key before any
 * I/O (test/conformance/suites/key-limits.ts); one such a store already holds stays readable,
 * listed and deletable.
 */
import { InvalidIdError, MAX_KEY_BYTES } from '../../src/index.js';
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres long cache and state keys', () => {
  const ctx = usePostgresStore();

  it('reads, lists and deletes a longer key stored before the limit, and refuses to write it', async () => {
    const s = await ctx.open({ searchIndex: false });
    const long = 'k'.repeat(6000); // compresses, so the btree took it before the limit
    const schema = ident(ctx.schema());
    await ctx
      .raw()
      .query(
        `INSERT INTO ${schema}.cache_entries (cache_key, cache_data, stored_at) VALUES ($1, '{"v":1}', $2)`,
        [long, '2026-01-01T00:00:00.000000+00:00'],
      );
    await ctx
      .raw()
      .query(`INSERT INTO ${schema}.system_state (state_key, state_data) VALUES ($1, '{"v":1}')`, [long]);

    expect(await s.listCacheKeys()).toEqual([long]);
    expect(await s.loadCacheEntry(long)).toEqual({ v: 1 });
    expect(await s.loadSystemState(long)).toEqual({ v: 1 });
    await expect(s.storeCacheEntry(long, { v: 2 })).rejects.toThrow(InvalidIdError);
    await expect(s.storeSystemState(long, { v: 2 })).rejects.toThrow(`at most ${MAX_KEY_BYTES} UTF-8 bytes`);
    expect(await s.loadCacheEntry(long)).toEqual({ v: 1 });
    expect(await s.loadSystemState(long)).toEqual({ v: 1 });

    await s.deleteCacheEntry(long);
    await s.deleteSystemState(long);
    expect(await s.listCacheKeys()).toEqual([]);
    expect(await s.listSystemStateKeys()).toEqual([]);
  });
});
