/** The sqlite-vec store's connection settings, which decide its query speed and durability. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { SqliteVecStore } from '../../src/semantic/vector-stores/sqlite-vec/sqlite-vec-store.js';
import {
  openVectorDatabase,
  VECTOR_MMAP_BYTES,
} from '../../src/semantic/vector-stores/sqlite-vec/connection.js';
import { useTempDir } from '../support/temp-dir.js';

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
});
