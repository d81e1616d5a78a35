/**
 * Conformance: the length limit of cache and system-state keys to write (MAX_KEY_BYTES).
 * PostgreSQL's primary-key btree refuses an incompressible key of about 2,700 bytes; until
 * 2026-12-04 such a key was stored by the file, SQLite and Redis backends and failed on
 * PostgreSQL once the write had begun (a StorageError, SQLSTATE 54000), so a store could hold
 * what no migration could copy there. Reads, deletes and cursors take a key of any length.
 */
import { createHash } from 'node:crypto';
import { InvalidIdError, MAX_KEY_BYTES, type StorageInterface } from '../../../src/core/index.js';
import { EMPTY_COUNTS, type SuiteContext } from '../context.js';

/** `bytes` ASCII characters that do not compress (a sha256 chain in base64), as a random key would not. */
function incompressibleKey(bytes: number): string {
  let key = '';
  let block = createHash('sha256').update('key-limits').digest();
  while (key.length < bytes) {
    key += block.toString('base64');
    block = createHash('sha256').update(block).digest();
  }
  return key.slice(0, bytes);
}

type Write = (s: StorageInterface, key: string) => Promise<unknown>;

/** Every call that writes a cache or state key. */
const KEY_WRITES: Record<string, Write> = {
  storeCacheEntry: (s, key) => s.storeCacheEntry(key, { a: 1 }),
  storeCacheRecord: (s, key) =>
    s.storeCacheRecord(key, { data: { a: 1 }, storedAt: '2026-01-01T00:00:00+00:00', expiresAt: null }),
  storeCacheEntries: (s, key) => s.storeCacheEntries([{ key, data: { a: 1 } }]),
  storeCacheRecords: (s, key) =>
    s.storeCacheRecords([{ key, data: { a: 1 }, storedAt: '2026-01-01T00:00:00+00:00', expiresAt: null }]),
  storeSystemState: (s, key) => s.storeSystemState(key, { a: 1 }),
};

export function keyLimitTests(ctx: SuiteContext): void {
  describe(`cache and state keys of up to ${MAX_KEY_BYTES} UTF-8 bytes`, () => {
    it('stores, lists and loads an incompressible key of exactly the limit', async () => {
      const s = ctx.storage();
      const key = incompressibleKey(MAX_KEY_BYTES);
      const wide = '😀'.repeat(MAX_KEY_BYTES / 4); // 4 UTF-8 bytes, 2 UTF-16 units each
      for (const write of Object.values(KEY_WRITES)) await write(s, key);
      await s.storeCacheEntry(wide, { b: 2 });
      expect(await s.loadCacheEntry(key)).toEqual({ a: 1 });
      expect(await s.loadCacheEntry(wide)).toEqual({ b: 2 });
      expect(await s.loadSystemState(key)).toEqual({ a: 1 });
      expect((await s.listCacheKeys()).length).toBe(2);
      expect(await s.listSystemStateKeys()).toEqual([key]);
    });

    it.each(Object.entries(KEY_WRITES))(
      '%s refuses a key one byte longer with InvalidIdError naming the limit, writing nothing',
      async (_, write) => {
        const s = ctx.storage();
        for (const key of [incompressibleKey(MAX_KEY_BYTES + 1), 'é'.repeat(MAX_KEY_BYTES / 2) + 'x']) {
          const error: unknown = await write(s, key).then(
            () => new Error(`accepted a key of ${Buffer.byteLength(key)} bytes`),
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(InvalidIdError);
          expect((error as Error).message).toContain(`at most ${MAX_KEY_BYTES} UTF-8 bytes`);
        }
        expect(await s.listCacheKeys()).toEqual([]);
        expect(await s.listSystemStateKeys()).toEqual([]);
        expect(await s.getStorageStats()).toMatchObject(EMPTY_COUNTS);
      },
    );

    it('reads and deletes by a longer key (absent here) without refusing it', async () => {
      const s = ctx.storage();
      const key = incompressibleKey(MAX_KEY_BYTES * 4);
      expect(await s.loadCacheEntry(key)).toBeNull();
      expect(await s.loadCacheEntries([key])).toEqual([null]);
      expect(await s.loadSystemState(key)).toBeNull();
      expect(await s.deleteCacheEntry(key)).toBe(true);
      expect(await s.deleteSystemState(key)).toBe(true);
    });
  });
}
