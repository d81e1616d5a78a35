/** The sqlite-vec store's connection settings, which decide its query speed and durability. */
import { join } from 'node:path';
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
});
