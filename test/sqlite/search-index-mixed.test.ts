/**
 * A `searchIndex: false` writer beside another process's indexed instance that (re)opened the
 * file after it, so an index exists again: rows the writer changes in place keep their rowids,
 * so the high-water marks cannot see them; it marks them (`search_dirty`), and the indexed
 * instance reindexes them before its next search (a read-only one scans meanwhile). A file
 * indexed by a version from before `search_dirty` has no such table: no row of it is marked.
 */
import type { SqliteConnection } from '../../src/backends/sqlite/connection.js';
import type { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SearchHit } from '../../src/core/index.js';
import { useSqliteStores, useTempDir, withRawDb } from './helpers.js';

function idOf(hit: SearchHit): string {
  if (hit.kind === 'memories') return `memories:${hit.conversationId}:${hit.memoryId}`;
  if (hit.kind === 'raw_messages') return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
  if (hit.kind === 'reasoning_chains') return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
  return `${hit.kind}:${hit.conversationId}`;
}

describe('SQLite index beside a searchIndex: false writer', () => {
  const dir = useTempDir();
  const open = useSqliteStores();

  it('an indexed instance finds what the unindexed one replaced in place, and not the old text', async () => {
    const dbPath = `${dir()}/mixed.db`;
    const first = await open(dbPath);
    const plain = await open(dbPath, { searchIndex: false });
    await plain.storeRawMessages('c', [{ text: 'delta old' }, { text: 'kept' }]);
    await plain.storeMemory('c', 'm', { text: 'delta old' });
    await plain.storeConversation('c', { text: 'delta old' });
    await plain.storeChunkInfo('c', { text: 'delta old' });
    // Newer rows, so the changed ones are not at their kinds' marks.
    await plain.storeMemory('d', 'm', { text: 'other' });
    await plain.storeConversation('d', { text: 'other' });
    await plain.storeChunkInfo('d', { text: 'other' });
    await first.shutdown();
    const indexed = await open(dbPath); // an app restart: the index is rebuilt from every row
    const reader = await open(dbPath, { readOnly: true });
    await plain.storeRawMessages('c', [{ text: 'alpha new' }, { text: 'kept' }]);
    await plain.storeMemory('c', 'm', { text: 'alpha new' });
    await plain.storeConversation('c', { text: 'alpha new' });
    await plain.storeChunkInfo('c', { text: 'alpha new' });
    const expected = ['chunk_info:c', 'conversations:c', 'memories:c:m', 'raw_messages:c:0'];
    const ids = async (s: SQLiteStorage, text: string) =>
      (
        await s.search({
          text,
          limit: 100,
          kinds: ['raw_messages', 'memories', 'conversations', 'chunk_info'],
        })
      )
        .map(idOf)
        .sort();
    expect(await ids(plain, 'alpha')).toEqual(expected);
    expect(await ids(reader, 'alpha')).toEqual(expected);
    expect(await ids(indexed, 'alpha')).toEqual(expected);
    expect(await ids(indexed, 'delta')).toEqual([]);
    // The catch-up cleared the marks: the read-only store uses the index again.
    expect(await withRawDb(dbPath, (db) => db.all('SELECT * FROM search_dirty'))).toEqual([]);
    expect(await ids(reader, 'alpha')).toEqual(expected);
  });

  it.each([
    [
      'a new id written twice',
      [
        { memoryId: 'x', data: { text: 'one' } },
        { memoryId: 'x', data: { text: 'two' } },
      ],
    ],
    ["the writer's newest row replaced", [{ memoryId: 'p', data: { text: 'two' } }]],
  ])(
    'a memory batch with %s, beside new ids, leaves the unindexed writer older rows to catch up',
    async (_, writes) => {
      const dbPath = `${dir()}/batch.db`;
      const plain = await open(dbPath, { searchIndex: false });
      const indexed = await open(dbPath);
      await indexed.storeMemory('c', 'm0', { text: 'hello' });
      await plain.storeMemory('c', 'other', { text: 'zebra' });
      await plain.storeMemory('c', 'p', { text: 'one' });
      // Until 2026-12-06 the batch reindexed its row above `other` before adding `y` and
      // `z`, whose check of the row below them then passed: `other` was never indexed.
      const batch = [...writes, { memoryId: 'y', data: { text: 'three' } }];
      await indexed.storeMemories('c', batch);
      await indexed.storeConversationBatch([
        { conversationId: 'd', memories: [...writes, { memoryId: 'z', data: { text: 'three' } }] },
      ]);
      expect(await ids(indexed, 'zebra')).toEqual(['memories:c:other']);
      expect(await ids(indexed, 'two')).toEqual(
        ['memories:c:p', 'memories:c:x', 'memories:d:p', 'memories:d:x'].filter((id) =>
          batch.some((w) => id.endsWith(`:${w.memoryId}`)),
        ),
      );
      expect(await ids(indexed, 'three')).toEqual(['memories:c:y', 'memories:d:z']);
      const stats = await indexed.getStorageStats();
      expect(stats.search_index_entries).toBe(stats.memory_count);
      async function ids(s: SQLiteStorage, text: string) {
        return (await s.search({ text, limit: 100 })).map(idOf).sort();
      }
    },
  );

  it('a writer with the index off marks nothing while no index exists', async () => {
    const dbPath = `${dir()}/plain.db`;
    const plain = await open(dbPath, { searchIndex: false });
    await plain.storeMemory('c', 'm', { text: 'one' });
    await plain.storeMemory('c', 'm', { text: 'two' });
    await plain.storeConversation('c', { text: 'one' });
    await plain.storeConversation('c', { text: 'two' });
    await plain.storeRawMessages('c', [{ text: 'one' }]);
    await plain.storeRawMessages('c', [{ text: 'two' }]);
    expect(await withRawDb(dbPath, (db) => db.all('SELECT * FROM search_dirty'))).toEqual([]);
  });

  it('an indexed open reindexes rows marked while it was closed', async () => {
    const dbPath = `${dir()}/reopen.db`;
    const first = await open(dbPath);
    const plain = await open(dbPath, { searchIndex: false });
    await plain.storeMemory('c', 'm', { text: 'delta' });
    await plain.storeMemory('c', 'n', { text: 'other' });
    await first.shutdown();
    const second = await open(dbPath);
    await second.shutdown();
    await plain.storeMemory('c', 'm', { text: 'alpha' });
    const third = await open(dbPath);
    expect(await withRawDb(dbPath, (db) => db.all('SELECT * FROM search_dirty'))).toEqual([]);
    expect((await third.search({ text: 'alpha' })).map(idOf)).toEqual(['memories:c:m']);
  });

  it('a read-only open of a file indexed before search_dirty existed searches its index and writes nothing', async () => {
    const dbPath = `${dir()}/earlier.db`;
    const first = await open(dbPath);
    for (let i = 0; i < 4; i += 1) await first.storeMemory('c', `m${i}`, { text: `lynx ${i}` });
    await first.shutdown(); // into FTS5
    const live = await open(dbPath);
    await live.storeMemory('d', 'w', { text: 'lynx ocelot' }); // waiting
    const reader = await open(dbPath, { readOnly: true });
    const scored = async (text: string) =>
      (await reader.search({ text, limit: 3 })).map((hit) => [idOf(hit), hit.score]);
    const expected = [await scored('lynx ocelot'), await scored('lynx')];
    // The layout the versions before search_dirty leave: every other table of the index.
    const dirty = "SELECT name FROM sqlite_master WHERE name = 'search_dirty'";
    await withRawDb(dbPath, (db) => db.run('DROP TABLE search_dirty'));
    const seen: string[] = [];
    const stop = (reader as unknown as { db: SqliteConnection }).db.traceStatements((sql) => seen.push(sql));
    expect([await scored('lynx ocelot'), await scored('lynx')]).toEqual(expected);
    stop();
    expect(seen.filter((sql) => sql.includes('search_fts MATCH'))).not.toEqual([]);
    // The scan's loads: none.
    expect(seen.filter((sql) => sql.includes('FROM memories WHERE conversation_id = ?'))).toEqual([]);
    expect(await withRawDb(dbPath, (db) => db.all(dirty))).toEqual([]);
    // A writable open adds the table and keeps the index.
    await open(dbPath);
    expect(await withRawDb(dbPath, (db) => db.all(dirty))).toEqual([{ name: 'search_dirty' }]);
    expect([await scored('lynx ocelot'), await scored('lynx')]).toEqual(expected);
  });
});
