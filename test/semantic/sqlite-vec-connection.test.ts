/** The sqlite-vec store's connection settings, which decide its query speed and durability. */
import { existsSync, linkSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { SqliteVecStore } from '../../src/semantic/vector-stores/sqlite-vec/sqlite-vec-store.js';
import {
  openVectorDatabase,
  VECTOR_MMAP_BYTES,
} from '../../src/semantic/vector-stores/sqlite-vec/connection.js';
import { useTempDir } from '../support/temp-dir.js';
import { signatureOf } from './vector-fixtures.js';

describe('sqlite-vec connection', () => {
  const dir = useTempDir('connectome-sqlite-vec-');

  test('a file database is memory-mapped (vec0 scans read chunks without a pread per page), in WAL with full sync', async () => {
    const db = await openVectorDatabase(join(dir(), 'vectors.db'), 1000);
    try {
      expect(await db.get('PRAGMA mmap_size')).toEqual({ mmap_size: VECTOR_MMAP_BYTES });
      expect(await db.get('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' });
      expect(await db.get('PRAGMA synchronous')).toEqual({ synchronous: 2 });
      expect(await db.get('SELECT vec_version() IS NOT NULL AS loaded')).toEqual({ loaded: 1 });
    } finally {
      await db.close();
    }
  });

  test.each(['store.db-wal', 'store.db-shm', 'store.db-journal', 'store.db-Journal'])(
    'refuses the path %s, a name SQLite gives a file of the database beside it, before touching the disk',
    (name) => {
      // Beside a SQLite store's `store.db`, vectors at `store.db-wal` were read as its log and
      // deleted by its next open and close.
      const path = join(dir(), 'never', name);
      expect(() => new SqliteVecStore({ path })).toThrow(ConfigError);
      expect(() => new SqliteVecStore({ path })).toThrow(
        /path.*must not end in "-wal", "-shm" or "-journal"/,
      );
      expect(existsSync(join(dir(), 'never'))).toBe(false);
    },
  );

  test.each([false, true])(
    'refuses a database file of several hard links (readOnly %s) with a ConfigError naming it, writing nothing',
    async (readOnly) => {
      // SQLite keeps a database's WAL by the name it is opened by: two names of one file were
      // two logs of it, and a store open through each failed with a bare "disk I/O error".
      const path = join(dir(), 'vectors.db');
      const first = new SqliteVecStore({ path });
      await first.ensureIndex(signatureOf(3));
      await first.close();
      const other = join(dir(), 'other.db');
      linkSync(path, other);
      const bytes = readFileSync(path);
      const files = readdirSync(dir()).sort();
      for (const opened of [path, other]) {
        const store = new SqliteVecStore({ path: opened });
        const error: unknown = await store.ensureIndex(signatureOf(3), { readOnly }).then(
          () => undefined,
          (e: unknown) => e,
        );
        await store.close();
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).key).toBe('path');
        expect((error as Error).message).toContain(opened);
        expect((error as Error).message).toMatch(/has 2 hard links/);
      }
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(readdirSync(dir()).sort()).toEqual(files);
    },
  );
});
