/**
 * The SQLite index's waiting entries (`search_pending`): a write's entry waits outside FTS5
 * until PENDING_LIMIT of them move in at once; searches see waiting entries with the scores
 * they have once moved, without committing anything; deletes and replacements of a waiting
 * entry's record leave nothing behind; a read-only open ranks waiting entries as FTS5 would (and
 * cuts ties as the core orders them); a clean shutdown leaves none; an index of the earlier
 * layout is rebuilt.
 */
import type { SqliteConnection } from '../../src/backends/sqlite/connection.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { PENDING_LIMIT } from '../../src/backends/sqlite/search-sql.js';
import type { SearchHit } from '../../src/core/index.js';
import { useSqliteStores, useTempDir, withRawDb } from './helpers.js';

function idOf(hit: SearchHit): string {
  if (hit.kind === 'memories') return `${hit.conversationId}:${hit.memoryId}`;
  if (hit.kind === 'reasoning_chains') return `chain:${hit.agentId}:${hit.chainIndex}`;
  return `${hit.kind}:${hit.conversationId}`;
}

async function hits(s: SQLiteStorage, text: string): Promise<Array<[string, number]>> {
  return (await s.search({ text, limit: 100 })).map((hit) => [idOf(hit), hit.score]);
}

/** Waiting entries, and FTS5 entries matching `token`, read from the file. */
async function counts(dbPath: string, token: string): Promise<{ pending: number; fts: number }> {
  return withRawDb(dbPath, async (db) => {
    const [pending] = await db.all('SELECT count(*) AS n FROM search_pending');
    const [fts] = await db.all('SELECT count(*) AS n FROM search_fts WHERE search_fts MATCH ?', [token]);
    return { pending: Number(pending?.n), fts: Number(fts?.n) };
  });
}

describe('SQLite search index: waiting entries', () => {
  const dir = useTempDir();
  const open = useSqliteStores();

  it('a search finds waiting entries with the scores they have in FTS5, and commits nothing', async () => {
    const dbPath = `${dir()}/wait.db`;
    const s = await open(dbPath);
    await s.storeMemory('c', 'one', { text: 'lynx' });
    await s.storeMemory('c', 'two', { text: 'lynx lynx ocelot' });
    await s.storeMemory('d', 'three', { text: 'ocelot heron' });
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: 3, fts: 0 });

    const waiting = await hits(s, 'lynx heron');
    expect(waiting.map(([id]) => id).sort()).toEqual(['c:one', 'c:two', 'd:three']);
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: 3, fts: 0 }); // rolled back

    await s.shutdown(); // moves them in
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: 0, fts: 2 });
    const moved = await hits(await open(dbPath), 'lynx heron');
    expect(moved.map(([id]) => id)).toEqual(waiting.map(([id]) => id));
    moved.forEach(([, score], i) => expect(score).toBeCloseTo(waiting[i]?.[1] ?? Number.NaN, 9));
  });

  it(`the write that brings ${PENDING_LIMIT} entries moves them all into FTS5`, async () => {
    const dbPath = `${dir()}/limit.db`;
    const s = await open(dbPath);
    const batch = Array.from({ length: PENDING_LIMIT - 1 }, (_, i) => ({
      memoryId: `m${i}`,
      data: { text: `lynx number ${i}` },
    }));
    await s.storeMemories('c', batch);
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: PENDING_LIMIT - 1, fts: 0 });
    await s.storeReasoningChain('a', { text: 'lynx chain' });
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: 0, fts: PENDING_LIMIT });
    expect(await s.search({ text: 'lynx', limit: 1000 })).toHaveLength(PENDING_LIMIT);
  });

  it(`a batch of ${PENDING_LIMIT} or more goes into FTS5 at once, past the waiting ones`, async () => {
    const dbPath = `${dir()}/batch.db`;
    const s = await open(dbPath);
    await s.storeMemory('c', 'single', { text: 'ocelot' });
    const batch = Array.from({ length: PENDING_LIMIT }, (_, i) => ({
      memoryId: `m${i}`,
      data: { text: `ocelot number ${i}` },
    }));
    await s.storeMemories('d', batch);
    expect(await counts(dbPath, 'ocelot')).toEqual({ pending: 1, fts: PENDING_LIMIT });
    expect(await s.search({ text: 'ocelot', limit: 1000 })).toHaveLength(PENDING_LIMIT + 1);
  });

  it("replacing or deleting a waiting entry's record leaves nothing behind", async () => {
    const dbPath = `${dir()}/replace.db`;
    const s = await open(dbPath);
    await s.storeMemory('c', 'm', { text: 'lynx' });
    await s.storeMemory('c', 'm', { text: 'ocelot' }); // upsert in place
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: 1, fts: 0 });
    expect(await hits(s, 'lynx')).toEqual([]);
    expect((await hits(s, 'ocelot')).map(([id]) => id)).toEqual(['c:m']);

    await s.storeRawMessages('c', [{ role: 'user', content: 'heron' }]);
    await s.storeRawMessages('c', [{ role: 'user', content: 'egret' }]); // replaced as a whole
    await s.deleteMemory('c', 'm');
    expect(await hits(s, 'ocelot')).toEqual([]);
    expect(await hits(s, 'heron')).toEqual([]);
    await s.shutdown();
    expect(await counts(dbPath, 'ocelot')).toEqual({ pending: 0, fts: 0 });
    expect((await counts(dbPath, 'heron')).fts).toBe(0);
    expect((await counts(dbPath, 'egret')).fts).toBe(1);
  });

  it('a read-only open finds entries another instance left waiting', async () => {
    const dbPath = `${dir()}/reader.db`;
    const writer = await open(dbPath);
    await writer.storeMemory('c', 'old', { text: 'lynx' });
    await writer.shutdown();
    const live = await open(dbPath);
    await live.storeMemory('c', 'new', { text: 'lynx ocelot' });
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: 1, fts: 1 });

    const reader = await open(dbPath, { readOnly: true });
    expect((await hits(reader, 'lynx')).map(([id]) => id).sort()).toEqual(['c:new', 'c:old']);
    expect((await hits(reader, 'ocelot')).map(([id]) => id)).toEqual(['c:new']);
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: 1, fts: 1 }); // the reader changed nothing
  });

  it('a read-only open ranks a waiting entry as FTS5 ranks the same text already in it', async () => {
    const dbPath = `${dir()}/parity.db`;
    const writer = await open(dbPath);
    await writer.storeMemory('c', 'x', { text: 'lynx ocelot heron lynx' });
    for (let i = 0; i < 6; i += 1) await writer.storeMemory('c', `other${i}`, { text: `egret ${i} heron` });
    await writer.shutdown();
    const live = await open(dbPath);
    await live.storeMemory('d', 'w', { text: 'lynx ocelot heron lynx' }); // the same text, waiting
    const reader = await open(dbPath, { readOnly: true });
    // Through the index, not the scan (which would score both alike from its own corpus).
    const seen: string[] = [];
    const stop = (reader as unknown as { db: SqliteConnection }).db.traceStatements((sql) => seen.push(sql));
    for (const match of ['any', 'all'] as const) {
      const found = await reader.search({ text: 'lynx heron', match, limit: 2 });
      expect(found.map(idOf).sort()).toEqual(['c:x', 'd:w']);
      // Same text, same corpus figures: the JavaScript BM25 equals FTS5's bm25().
      expect(found[0]?.score).toBeCloseTo(found[1]?.score ?? Number.NaN, 9);
    }
    stop();
    expect(seen.filter((sql) => sql.includes('search_fts_docsize') && sql.startsWith('SELECT'))).toHaveLength(
      2,
    );
    expect(seen.filter((sql) => sql.includes('FROM memories WHERE conversation_id = ?'))).toEqual([]);
  });

  it('a read-only open ranks and scores as the writer does: waiting entries count in the corpus figures', async () => {
    const dbPath = `${dir()}/figures.db`;
    const writer = await open(dbPath);
    // Into FTS5 at once (a batch of PENDING_LIMIT or more): one holds "yak".
    await writer.storeMemories('c0', [
      ...Array.from({ length: PENDING_LIMIT }, (_, i) => ({
        memoryId: `n${i}`,
        data: { text: `nothing ${i}` },
      })),
      { memoryId: 'moved', data: { text: 'yak here' } },
    ]);
    // Waiting: every one holds "xeno", a common word once they count.
    for (let i = 0; i < PENDING_LIMIT - 2; i += 1) {
      await writer.storeMemory('c1', `x${i}`, { text: `xeno filler${i} more words here` });
    }
    await writer.storeMemory('c1', 'waiting', { text: 'xeno here' });
    const reader = await open(dbPath, { readOnly: true });
    for (const [text, limit] of [
      ['xeno yak', 2],
      ['yak', 5],
      ['here', 3],
      ['xeno here', 4],
    ] as const) {
      const query = { text, limit, kinds: ['memories' as const] };
      const expected = (await writer.search(query)).map((hit) => [idOf(hit), hit.score] as const);
      const found = (await reader.search(query)).map((hit) => [idOf(hit), hit.score] as const);
      expect(found.map(([id]) => id)).toEqual(expected.map(([id]) => id));
      found.forEach(([, score], i) => expect(score).toBeCloseTo(expected[i]?.[1] ?? Number.NaN, 9));
    }
    expect((await reader.search({ text: 'xeno yak', limit: 2 })).map(idOf)).toEqual([
      'c0:moved',
      'c1:waiting',
    ]);
  });

  it('a read-only open beside replaced records whose new entries wait scores as the writer does once they moved, without the old text', async () => {
    const dbPath = `${dir()}/replaced.db`;
    const writer = await open(dbPath);
    await writer.storeMemories(
      'c0',
      Array.from({ length: PENDING_LIMIT }, (_, i) => ({
        memoryId: `n${i}`,
        data: { text: `egret filler ${i}` },
      })),
    );
    await writer.storeMemory('c', 'm', { text: 'lynx egret old words here' });
    await writer.storeConversation('c', { title: 'heron egret old title' });
    await writer.storeChunkInfo('c', { note: 'stork old chunk' });
    await writer.storeRawMessages('c', [{ content: 'puffin old' }, { content: 'kept egret' }]);
    await writer.shutdown(); // every entry in FTS5
    const live = await open(dbPath);
    // Replaced: the old entries leave FTS5, the new ones wait.
    await live.storeMemory('c', 'm', { text: 'ocelot egret' });
    await live.storeConversation('c', { title: 'gannet' });
    await live.storeChunkInfo('c', { note: 'tern egret egret' });
    await live.storeRawMessages('c', [{ content: 'auk egret' }, { content: 'kept egret' }]);
    expect(await counts(dbPath, 'lynx OR heron OR stork OR puffin')).toEqual({ pending: 4, fts: 0 });
    const reader = await open(dbPath, { readOnly: true });
    const kinds = ['raw_messages', 'memories', 'conversations', 'chunk_info'] as const;
    const search = async (s: SQLiteStorage, text: string) =>
      (await s.search({ text, kinds: [...kinds], limit: 100 })).map((hit) => [idOf(hit), hit.score] as const);
    const queries = ['egret', 'ocelot egret', 'kept', 'gannet tern auk', 'old', 'lynx heron stork puffin'];
    const seen: string[] = [];
    const stop = (reader as unknown as { db: SqliteConnection }).db.traceStatements((sql) => seen.push(sql));
    const read = [];
    for (const text of queries) read.push(await search(reader, text));
    stop();
    expect(seen.filter((sql) => sql.includes('SELECT doc, body FROM search_pending'))).not.toEqual([]); // ranked apart
    expect(read.slice(-2)).toEqual([[], []]); // words only the old texts held
    await live.shutdown(); // the waiting entries move into FTS5
    const moved = await open(dbPath);
    for (const [i, text] of queries.entries()) {
      const expected = await search(moved, text);
      expect({ text, ids: read[i]?.map(([id]) => id) }).toEqual({ text, ids: expected.map(([id]) => id) });
      read[i]?.forEach(([, score], j) => expect(score).toBeCloseTo(expected[j]?.[1] ?? Number.NaN, 9));
    }
  });

  it("a read-only open keeps a waiting entry within the query's kinds, scopes, match and limit", async () => {
    const dbPath = `${dir()}/scopes.db`;
    const writer = await open(dbPath);
    for (let i = 0; i < 4; i += 1) await writer.storeMemory('c', `m${i}`, { text: `lynx ${i}` });
    await writer.shutdown();
    const live = await open(dbPath);
    await live.storeMemory('d', 'w', { text: 'lynx ocelot' });
    await live.storeReasoningChain('a', { text: 'lynx ocelot chain' });
    expect((await counts(dbPath, 'lynx')).pending).toBe(2);
    const reader = await open(dbPath, { readOnly: true });
    const ids = async (query: Parameters<SQLiteStorage['search']>[0]): Promise<string[]> =>
      (await reader.search(query)).map(idOf);
    expect(await ids({ text: 'lynx ocelot', limit: 2 })).toEqual(
      expect.arrayContaining(['d:w', 'chain:a:0']) as unknown as string[],
    );
    expect(await ids({ text: 'lynx ocelot', limit: 1, kinds: ['memories'] })).toEqual(['d:w']);
    expect(await ids({ text: 'lynx ocelot', match: 'all' })).toHaveLength(2);
    expect((await ids({ text: 'lynx', conversationId: 'c', kinds: ['memories'] })).sort()).toEqual([
      'c:m0',
      'c:m1',
      'c:m2',
      'c:m3',
    ]);
    expect(await ids({ text: 'lynx', agentId: 'a', kinds: ['reasoning_chains'] })).toEqual(['chain:a:0']);
    expect(await ids({ text: 'lynx', conversationId: 'd', kinds: ['memories'] })).toEqual(['d:w']);
    expect((await ids({ text: 'lynx', limit: 100 })).sort()).toEqual(
      ['c:m0', 'c:m1', 'c:m2', 'c:m3', 'chain:a:0', 'd:w'].sort(),
    );
  });

  it('a read-only open cuts ties, in FTS5 and waiting, as the core orders them', async () => {
    const dbPath = `${dir()}/ties.db`;
    const writer = await open(dbPath);
    // Ids in an order unlike code point order; 2 * 41 entries: 80 moved into FTS5, 2 waiting.
    for (let i = 0; i < 41; i += 1) {
      await writer.storeMemory(`c${(i * 17) % 41}`, 'm', { text: 'tied lynx' });
      await writer.storeMemory(`c${(i * 17) % 41}`, 'a', { text: 'tied lynx' });
    }
    expect((await counts(dbPath, 'lynx')).pending).toBe(2);
    const reader = await open(dbPath, { readOnly: true });
    for (const match of ['any', 'all'] as const) {
      const full = (await reader.search({ text: 'tied lynx', match, limit: 1000 })).map(idOf);
      expect(full.slice(0, 3)).toEqual(['c0:a', 'c0:m', 'c1:a']);
      for (const limit of [1, 2, 3, 17, 80, 81]) {
        const cut = (await reader.search({ text: 'tied lynx', match, limit })).map(idOf);
        expect({ match, limit, cut }).toEqual({ match, limit, cut: full.slice(0, limit) });
      }
    }
  });

  it('an index of the earlier layout is rebuilt, its leftover waiting entries dropped', async () => {
    const dbPath = `${dir()}/earlier.db`;
    const s = await open(dbPath);
    await s.storeMemory('c', 'm', { text: 'lynx' });
    await s.shutdown();
    // As the previous version leaves it: rule "2" recorded, and (from a later version's
    // writes it did not know about) an entry waiting for a row that is gone.
    await withRawDb(dbPath, async (db) => {
      await db.run("UPDATE search_meta SET value = '2' WHERE key = 'text_rule'");
      await db.run("INSERT INTO search_pending (doc, body) VALUES (9999 * 8 + 2, 'zebra')");
    });
    const reader = await open(dbPath, { readOnly: true });
    expect((await hits(reader, 'lynx')).map(([id]) => id)).toEqual(['c:m']); // scans
    const upgraded = await open(dbPath);
    expect(await counts(dbPath, 'zebra')).toEqual({ pending: 0, fts: 0 });
    expect(await counts(dbPath, 'lynx')).toEqual({ pending: 0, fts: 1 });
    expect((await hits(upgraded, 'lynx')).map(([id]) => id)).toEqual(['c:m']);
    expect(await hits(upgraded, 'zebra')).toEqual([]);
  });
});
