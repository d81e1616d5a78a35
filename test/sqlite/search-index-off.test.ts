/**
 * `searchIndex: false` on SQLite: a writable open drops the FTS5 index (so no later open can
 * trust an index its writes left stale), its writes do not touch one, its searches scan, and
 * the next open with the index on rebuilds it from every row.
 */
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SearchHit } from '../../src/core/index.js';
import { useTempDir, withRawDb } from './helpers.js';

const INDEX_TABLES = [
  'search_dirty',
  'search_docs',
  'search_docs_scope',
  'search_fts',
  'search_meta',
  'search_pending',
];
/** What a `searchIndex: false` open leaves: the (empty) table its in-place writes mark rows in. */
const OFF_TABLES = ['search_dirty'];

function idOf(hit: SearchHit): string {
  if (hit.kind === 'memories') return `memories:${hit.conversationId}:${hit.memoryId}`;
  if (hit.kind === 'reasoning_chains') return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
  if (hit.kind === 'raw_messages') return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
  return `${hit.kind}:${hit.conversationId}`;
}

async function ids(s: SQLiteStorage, text: string): Promise<string[]> {
  return (await s.search({ text, limit: 100 })).map(idOf).sort();
}

/** The index tables in the file (FTS5 shadow tables left out). */
async function indexTables(dbPath: string): Promise<string[]> {
  return withRawDb(dbPath, async (db) =>
    (
      await db.all(
        "SELECT name FROM sqlite_master WHERE name LIKE 'search%' AND name NOT LIKE 'search_fts_%' ORDER BY name",
      )
    ).map((row) => String(row.name)),
  );
}

describe('SQLite searchIndex: false', () => {
  const dir = useTempDir();
  const opened: SQLiteStorage[] = [];
  const open = async (dbPath: string, searchIndex: boolean): Promise<SQLiteStorage> => {
    const storage = new SQLiteStorage({ dbPath, searchIndex });
    await storage.initialize();
    opened.push(storage);
    return storage;
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.shutdown();
  });

  it('drops the index at a writable open, writes without it, scans, and the next indexed open rebuilds it', async () => {
    const dbPath = `${dir()}/off.db`;
    const indexed = await open(dbPath, true);
    await indexed.storeMemory('c', 'kept', { text: 'heron' });
    await indexed.storeMemory('c', 'changed', { text: 'egret' });
    await indexed.storeMemory('c', 'gone', { text: 'ibis' });
    await indexed.shutdown();
    expect(await indexTables(dbPath)).toEqual(INDEX_TABLES);

    const off = await open(dbPath, false);
    expect(await indexTables(dbPath)).toEqual(OFF_TABLES);
    await off.storeMemory('c', 'changed', { text: 'stork' }); // replaced in place
    await off.deleteMemory('c', 'gone');
    await off.storeMemory('c', 'new', { text: 'crane' });
    await off.storeReasoningChain('a', { text: 'crane chain' });
    expect(await indexTables(dbPath)).toEqual(OFF_TABLES);
    expect((await off.getStorageStats()).search_index_entries).toBeNull();
    expect(await off.reindex()).toBe(0);
    expect(await indexTables(dbPath)).toEqual(OFF_TABLES);
    expect(await ids(off, 'heron stork crane egret ibis')).toEqual([
      'memories:c:changed',
      'memories:c:kept',
      'memories:c:new',
      'reasoning_chains:a:0',
    ]);
    await off.shutdown();

    const again = await open(dbPath, true);
    expect((await again.getStorageStats()).search_index_entries).toBe(4);
    expect(await ids(again, 'heron stork crane egret ibis')).toEqual([
      'memories:c:changed',
      'memories:c:kept',
      'memories:c:new',
      'reasoning_chains:a:0',
    ]);
  });

  it('an indexed instance keeps writing while another process drops the index, and searches by scanning', async () => {
    const dbPath = `${dir()}/shared.db`;
    const indexed = await open(dbPath, true);
    await indexed.storeMemory('c', 'before', { text: 'osprey' });
    const off = await open(dbPath, false);
    await indexed.storeMemory('c', 'after', { text: 'osprey kite' });
    await indexed.deleteMemory('c', 'before');
    expect(await ids(indexed, 'osprey')).toEqual(['memories:c:after']);
    expect((await indexed.getStorageStats()).search_index_entries).toBeNull();
    await off.shutdown();
    const again = await open(dbPath, true);
    expect(await ids(again, 'kite')).toEqual(['memories:c:after']);
    // The first instance's writes reach the rebuilt index again.
    await indexed.storeMemory('c', 'later', { text: 'kite' });
    expect(await ids(again, 'kite')).toEqual(['memories:c:after', 'memories:c:later']);
  });
});
