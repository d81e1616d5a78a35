/**
 * The SQLite full-text index when another writer (the Python reference, replayed with its own
 * statements on a second connection, `recursive_triggers` off) deletes the newest rows and
 * stores others: conversations and chunk info have plain rowids, so a new row takes a deleted
 * one's rowid, and the index must find the new row (without a reopen) and never the old text.
 */
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { FRESHNESS, liveMark } from '../../src/backends/sqlite/search-marks.js';
import { SEARCH_KINDS, type SearchHit } from '../../src/core/index.js';
import { type RawDb, useTempDir, withRawDb } from './helpers.js';

const REFERENCE_NOW = '2025-06-01T10:00:00.000000+00:00';

/** The Python reference's SQLite statements these tests replay. */
const REFERENCE = {
  storeConversation:
    'INSERT OR REPLACE INTO conversations (conversation_id, data, created_at, updated_at) VALUES (?, ?, ?, ?)',
  deleteConversation: 'DELETE FROM conversations WHERE conversation_id = ?',
  storeChunkInfo:
    'INSERT OR REPLACE INTO chunk_info (conversation_id, chunk_data, created_at, updated_at) VALUES (?, ?, ?, ?)',
  deleteChunkInfo: 'DELETE FROM chunk_info WHERE conversation_id = ?',
  storeMemory:
    'INSERT OR REPLACE INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
  deleteMemory: 'DELETE FROM memories WHERE conversation_id = ? AND memory_id = ?',
  insertRawMessage:
    'INSERT INTO raw_messages (conversation_id, message_data, message_index, created_at) VALUES (?, ?, ?, ?)',
  deleteRawMessages: 'DELETE FROM raw_messages WHERE conversation_id = ?',
  storeChain: 'INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)',
  deleteChains: 'DELETE FROM reasoning_chains WHERE agent_id = ?',
};

function idOf(hit: SearchHit): string {
  if (hit.kind === 'raw_messages') return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
  if (hit.kind === 'memories') return `memories:${hit.conversationId}:${hit.memoryId}`;
  if (hit.kind === 'reasoning_chains') return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
  return `${hit.kind}:${hit.conversationId}`;
}

async function ids(s: SQLiteStorage, text: string): Promise<string[]> {
  return (await s.search({ text, match: 'any', kinds: [...SEARCH_KINDS], limit: 1000 })).map(idOf).sort();
}

/** Runs `fn` as the reference: a second raw connection with its pragma. */
function asReference(dbPath: string, fn: (db: RawDb) => Promise<void>): Promise<void> {
  return withRawDb(dbPath, async (db) => {
    await db.run('PRAGMA recursive_triggers = OFF');
    await fn(db);
  });
}

/**
 * Stores "first" and "last" (title tapir) through `s`; then the reference deletes "last" and
 * stores "other" (title bison), which takes the deleted row's rowid.
 */
async function reuseNewestConversationRowid(s: SQLiteStorage, dbPath: string): Promise<void> {
  await s.storeConversation('first', { title: 'first' });
  await s.storeConversation('last', { title: 'tapir' });
  await asReference(dbPath, async (db) => {
    await db.run(REFERENCE.deleteConversation, ['last']);
    await db.run(REFERENCE.storeConversation, ['other', '{"title": "bison"}', REFERENCE_NOW, REFERENCE_NOW]);
  });
}

async function rowidOf(db: RawDb, table: string, id: string): Promise<number> {
  const rows = await db.all(`SELECT rowid AS r FROM ${table} WHERE conversation_id = ?`, [id]);
  return Number(rows[0]?.r);
}

/** The index's entries as `kind-code:base rowid:scope`, read from its table. */
async function entries(dbPath: string): Promise<string[]> {
  const rows = await withRawDb(dbPath, (db) => db.all('SELECT doc, scope FROM search_docs ORDER BY doc'));
  return rows.map((r) => `${Number(r.doc) & 7}:${Number(r.doc) >> 3}:${String(r.scope)}`);
}

describe('SQLite full-text index: rowids another writer reuses', () => {
  const dir = useTempDir();
  const opened: SQLiteStorage[] = [];
  const open = async (name: string): Promise<{ s: SQLiteStorage; dbPath: string }> => {
    const dbPath = `${dir()}/${name}.db`;
    const s = new SQLiteStorage({ dbPath });
    await s.initialize();
    opened.push(s);
    return { s, dbPath };
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.shutdown();
  });

  it('finds a conversation stored in the rowid of the deleted newest one at the next search, never the old text', async () => {
    const { s, dbPath } = await open('conversation');
    await reuseNewestConversationRowid(s, dbPath);
    expect(await withRawDb(dbPath, (db) => rowidOf(db, 'conversations', 'other'))).toBe(2);
    expect(await ids(s, 'tapir bison')).toEqual(['conversations:other']);
    expect(await ids(s, 'tapir')).toEqual([]);
    // The stale entry went with the catch-up: one entry per row.
    expect(await entries(dbPath)).toEqual(['4:1:first', '4:2:other']);
  });

  it('finds chunk info stored in the rowid of the deleted newest one at the next search', async () => {
    const { s, dbPath } = await open('chunks');
    await s.storeChunkInfo('first', { text: 'first' });
    await s.storeChunkInfo('last', { text: 'tapir' });
    await asReference(dbPath, async (db) => {
      await db.run(REFERENCE.deleteChunkInfo, ['last']);
      await db.run(REFERENCE.storeChunkInfo, ['other', '{"text": "bison"}', REFERENCE_NOW, REFERENCE_NOW]);
      expect(await rowidOf(db, 'chunk_info', 'other')).toBe(2);
    });
    expect(await ids(s, 'tapir bison')).toEqual(['chunk_info:other']);
  });

  it('finds every row stored in reused rowids, and one past them, when the newest rows were deleted', async () => {
    const { s, dbPath } = await open('several');
    for (const id of ['a', 'b', 'c', 'd']) await s.storeConversation(id, { title: `tapir ${id}` });
    await asReference(dbPath, async (db) => {
      for (const id of ['c', 'd']) await db.run(REFERENCE.deleteConversation, [id]);
      for (const id of ['x', 'y', 'z']) {
        await db.run(REFERENCE.storeConversation, [
          id,
          `{"title": "bison ${id}"}`,
          REFERENCE_NOW,
          REFERENCE_NOW,
        ]);
      }
      expect(await rowidOf(db, 'conversations', 'x')).toBe(3);
    });
    expect(await ids(s, 'bison')).toEqual(['conversations:x', 'conversations:y', 'conversations:z']);
    expect(await ids(s, 'tapir')).toEqual(['conversations:a', 'conversations:b']);
    expect(await entries(dbPath)).toEqual(['4:1:a', '4:2:b', '4:3:x', '4:4:y', '4:5:z']);
  });

  it('drops the text of a deleted newest row, and finds the row that takes its rowid later', async () => {
    const { s, dbPath } = await open('deleted');
    await s.storeConversation('first', { title: 'first' });
    await s.storeConversation('last', { title: 'tapir' });
    await asReference(dbPath, (db) => db.run(REFERENCE.deleteConversation, ['last']));
    // Search a kind the stale entry does not belong to first: nothing drops it on the way.
    expect(await s.search({ text: 'tapir', kinds: ['memories'] })).toEqual([]);
    await asReference(dbPath, (db) =>
      db.run(REFERENCE.storeConversation, ['other', '{"title": "bison"}', REFERENCE_NOW, REFERENCE_NOW]),
    );
    expect(await ids(s, 'tapir bison')).toEqual(['conversations:other']);
    await asReference(dbPath, (db) => db.run(REFERENCE.deleteConversation, ['other']));
    expect(await ids(s, 'tapir bison')).toEqual([]);
  });

  it("the next write's catch-up indexes a row in a reused rowid (the write declines its fast path)", async () => {
    const { s, dbPath } = await open('write');
    await reuseNewestConversationRowid(s, dbPath);
    await s.storeConversation('third', { title: 'okapi' });
    expect(await entries(dbPath)).toEqual(['4:1:first', '4:2:other', '4:3:third']);
  });

  it('a read-only open reads the index as behind (and scans) when a rowid was reused', async () => {
    const { s, dbPath } = await open('read-only');
    await reuseNewestConversationRowid(s, dbPath);
    const reader = new SQLiteStorage({ dbPath, readOnly: true });
    await reader.initialize();
    opened.push(reader);
    expect(await ids(reader, 'tapir bison')).toEqual(['conversations:other']);
  });

  it('stores a conversation whose rowid another writer reused, and finds its new text only', async () => {
    const { s, dbPath } = await open('reuse-write');
    await reuseNewestConversationRowid(s, dbPath);
    // "other" holds the rowid the stale "last" entry is filed under.
    await s.storeConversation('other', { title: 'okapi' });
    expect(await ids(s, 'okapi')).toEqual(['conversations:other']);
    expect(await ids(s, 'tapir bison')).toEqual([]);
    await s.storeChunkInfo('first', { text: 'zebu' });
    expect(await ids(s, 'zebu')).toEqual(['chunk_info:first']);
  });

  it('checks and walks the marks of conversations and chunk info through primary keys only', async () => {
    const { s, dbPath } = await open('plans');
    await s.shutdown();
    await withRawDb(dbPath, async (db) => {
      for (const sql of [
        FRESHNESS,
        `SELECT ${liveMark('conversations')}`,
        `SELECT ${liveMark('chunk_info')}`,
      ]) {
        const plan = (await db.all(`EXPLAIN QUERY PLAN ${sql}`)).map((row) => String(row.detail));
        const lookups = plan.filter((d) => /^SEARCH (search_docs|t) /.test(d));
        expect(lookups.length).toBeGreaterThan(0);
        for (const d of lookups) expect(d).toMatch(/USING INTEGER PRIMARY KEY/);
        expect(plan.filter((d) => d.startsWith('SCAN'))).toEqual(['SCAN CONSTANT ROW']);
      }
    });
  });

  it('memories, raw messages and chains never reuse a rowid (AUTOINCREMENT): the new rows are found, the old are not', async () => {
    const { s, dbPath } = await open('autoincrement');
    await s.storeMemory('c', 'm1', { text: 'tapir memory' });
    await s.storeRawMessages('c', [{ content: 'tapir message' }]);
    await s.storeReasoningChain('a', { text: 'tapir chain' });
    await asReference(dbPath, async (db) => {
      await db.run(REFERENCE.deleteMemory, ['c', 'm1']);
      await db.run(REFERENCE.storeMemory, ['c', 'm2', '{"text": "bison memory"}', REFERENCE_NOW]);
      await db.run(REFERENCE.deleteRawMessages, ['c']);
      await db.run(REFERENCE.insertRawMessage, ['c', '{"content": "bison message"}', 0, REFERENCE_NOW]);
      await db.run(REFERENCE.deleteChains, ['a']);
      await db.run(REFERENCE.storeChain, ['a', '{"text": "bison chain"}', REFERENCE_NOW]);
      for (const table of ['memories', 'raw_messages', 'reasoning_chains']) {
        expect(await db.all(`SELECT id FROM ${table}`)).toEqual([{ id: 2 }]);
      }
    });
    expect(await ids(s, 'tapir bison')).toEqual([
      'memories:c:m2',
      'raw_messages:c:0',
      'reasoning_chains:a:0',
    ]);
  });
});
