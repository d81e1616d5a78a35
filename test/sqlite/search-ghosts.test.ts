/**
 * Ghosts (search-ghosts.ts): entries deleted from FTS5, which its corpus figures keep counting,
 * are taken out of its averages record by the next writable search, so the record is a rebuilt
 * index's. A delete that recorded no ghost (an earlier version of this library) is caught by the
 * check against `docsize`. Rankings against a store of the survivors: the conformance suite's
 * `search-deletes.ts`.
 */
import { join } from 'node:path';
import { decodeAverages, readVarint } from '../../src/backends/sqlite/search-ghosts.js';
import { KIND_CODES } from '../../src/backends/sqlite/search-sql.js';
import type { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { useSqliteStores, useTempDir, withRawDb } from './helpers.js';

/** FTS5's averages record, what `docsize` adds up to, and the ghosts waiting. */
async function figures(dbPath: string) {
  return withRawDb(dbPath, async (db) => {
    const [averages] = await db.all('SELECT block FROM search_fts_data WHERE id = 1');
    const sizes = await db.all('SELECT sz FROM search_fts_docsize');
    const ghosts = await db.all("SELECT key FROM search_meta WHERE key LIKE 'ghost:%'");
    return {
      record: decodeAverages(averages?.block as unknown as Uint8Array),
      docsize: {
        documents: sizes.length,
        tokens: sizes.reduce((sum, r) => sum + readVarint(r.sz as unknown as Uint8Array, 0)[0], 0),
      },
      ghosts: ghosts.length,
    };
  });
}

/** 20 memories of 1 to 20 words: more than the 16 that wait, so FTS5 holds them. */
async function fill(s: SQLiteStorage): Promise<void> {
  const items = Array.from({ length: 20 }, (_, i) => ({
    memoryId: `m${i}`,
    data: { text: Array.from({ length: i + 1 }, (__, j) => (j % 2 ? 'fox' : `w${j}`)).join(' ') },
  }));
  await s.storeMemories('c', items);
}

describe('SQLite search: ghosts of deleted entries', () => {
  const dir = useTempDir();
  const open = useSqliteStores();

  it('a search takes deleted entries out of FTS5 corpus figures, leaving a rebuilt index record', async () => {
    const dbPath = join(dir(), 'store.db');
    const s = await open(dbPath);
    await fill(s);
    await s.deleteMemory('c', 'm3');
    await s.storeMemory('c', 'm4', { text: 'one word' });
    await s.storeRawMessages('c', ['fox']);
    const before = await figures(dbPath);
    // The delete and the upsert's old entry: still counted, recorded as ghosts.
    expect(before.ghosts).toBe(2);
    expect(before.record.documents).toBe(20);
    expect(before.docsize.documents).toBe(18);
    await s.search({ text: 'fox' });
    const after = await figures(dbPath);
    expect(after.ghosts).toBe(0);
    // 18 entries, and the two waiting ones the search's write pass moved in.
    expect(after.record).toEqual(after.docsize);
    expect(after.record.documents).toBe(20);
  });

  it('deletes that recorded no ghost (an earlier version) are caught by the docsize check', async () => {
    const dbPath = join(dir(), 'store.db');
    const s = await open(dbPath);
    await fill(s);
    await s.shutdown();
    // An earlier version's delete: the row and its entry go, no ghost is recorded.
    await withRawDb(dbPath, async (db) => {
      const [row] = await db.all("SELECT id FROM memories WHERE memory_id = 'm5'");
      const doc = Number(row?.id) * 8 + KIND_CODES.memories;
      await db.run('DELETE FROM search_fts WHERE rowid = ?', [doc]);
      await db.run('DELETE FROM search_docs WHERE doc = ?', [doc]);
      await db.run("DELETE FROM memories WHERE memory_id = 'm5'");
    });
    const again = await open(dbPath);
    await again.deleteMemory('c', 'm6');
    await again.search({ text: 'fox' });
    const after = await figures(dbPath);
    expect(after.ghosts).toBe(0);
    expect(after.record).toEqual(after.docsize);
    expect(after.record.documents).toBe(18);
  });
});
