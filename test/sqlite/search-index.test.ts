/**
 * The SQLite native full-text index (FTS5): a database the Python reference wrote gets
 * indexed on open, the reference still reads and writes a database this library indexed,
 * and rows the reference writes later (its own statements: INSERT OR REPLACE, DELETE then
 * INSERT for raw messages, with recursive_triggers off) leave no stale or missing hits.
 */
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import {
  type JsonValue,
  SEARCH_KINDS,
  type SearchHit,
  type SearchKind,
  tokenize,
  TextExtractor,
} from '../../src/core/index.js';
import { copyReferenceDb, useTempDir, withRawDb } from './helpers.js';

const ALL_KINDS: SearchKind[] = [...SEARCH_KINDS];
const REFERENCE_NOW = '2025-06-01T10:00:00.000000+00:00';

/** The Python reference's SQLite write statements. */
const REFERENCE = {
  storeConversation:
    'INSERT OR REPLACE INTO conversations (conversation_id, data, created_at, updated_at) VALUES (?, ?, ?, ?)',
  deleteRawMessages: 'DELETE FROM raw_messages WHERE conversation_id = ?',
  insertRawMessage:
    'INSERT INTO raw_messages (conversation_id, message_data, message_index, created_at) VALUES (?, ?, ?, ?)',
  storeMemory:
    'INSERT OR REPLACE INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
  storeChain: 'INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)',
  storeChunkInfo:
    'INSERT OR REPLACE INTO chunk_info (conversation_id, chunk_data, created_at, updated_at) VALUES (?, ?, ?, ?)',
};

function idOf(hit: SearchHit): string {
  if (hit.kind === 'raw_messages') return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
  if (hit.kind === 'memories') return `memories:${hit.conversationId}:${hit.memoryId}`;
  if (hit.kind === 'reasoning_chains') return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
  return `${hit.kind}:${hit.conversationId}`;
}

async function ids(s: SQLiteStorage, text: string, match: 'any' | 'all' = 'all'): Promise<string[]> {
  return (await s.search({ text, match, kinds: ALL_KINDS, limit: 1000 })).map(idOf).sort();
}

/** The ids whose record holds every word of `text`, computed from loads (not from any index). */
async function expectedIds(s: SQLiteStorage, text: string): Promise<string[]> {
  const terms = new Set(tokenize(text));
  const extractor = new TextExtractor();
  const holds = (kind: SearchKind, record: JsonValue): boolean => {
    const tokens = new Set(extractor.extract(kind, record).flatMap(tokenize));
    return [...terms].every((t) => tokens.has(t));
  };
  const out: string[] = [];
  for (const id of await s.listAllConversationIds()) {
    (await s.loadRawMessages(id)).forEach(
      (m, i) => holds('raw_messages', m) && out.push(`raw_messages:${id}:${i}`),
    );
    for (const m of await s.loadMemories(id))
      if (holds('memories', m)) out.push(`memories:${id}:${String(m.memory_id)}`);
    const conversation = await s.loadConversation(id);
    if (conversation && holds('conversations', conversation)) out.push(`conversations:${id}`);
    const chunks = await s.loadChunkInfo(id);
    if (chunks && holds('chunk_info', chunks)) out.push(`chunk_info:${id}`);
  }
  for (const agent of await s.listAgents()) {
    (await s.loadReasoningChains(agent)).forEach(
      (c, i) => holds('reasoning_chains', c) && out.push(`reasoning_chains:${agent}:${i}`),
    );
  }
  return out.sort();
}

async function recordCount(s: SQLiteStorage): Promise<number> {
  const stats = await s.getStorageStats();
  return (
    stats.raw_message_count +
    stats.memory_count +
    stats.reasoning_chain_count +
    stats.conversation_count +
    stats.chunk_info_count
  );
}

describe('SQLite full-text index', () => {
  const dir = useTempDir();
  const open = async (dbPath: string, readOnly = false): Promise<SQLiteStorage> => {
    const storage = new SQLiteStorage({ dbPath, readOnly });
    await storage.initialize();
    opened.push(storage);
    return storage;
  };
  const opened: SQLiteStorage[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.shutdown();
  });

  it('indexes a database the Python reference wrote when it opens, and finds what the loads hold', async () => {
    const s = await open(await copyReferenceDb(dir()));
    const stats = await s.getStorageStats();
    expect(stats.search_index_entries).toBe(await recordCount(s));
    expect(stats.search_index_entries).toBeGreaterThan(50);
    for (const text of [
      'alpha gamma',
      'delta memory chunk',
      'summary 1',
      'conv_002',
      'claude opus',
      'nothing here',
    ]) {
      expect(await ids(s, text)).toEqual(await expectedIds(s, text));
    }
    expect((await ids(s, 'alpha gamma')).length).toBeGreaterThan(5);
  });

  it('leaves the reference tables as they were: the reference reads and writes the indexed file', async () => {
    const dbPath = await copyReferenceDb(dir());
    const before = await withRawDb(dbPath, (db) => db.schema());
    const s = await open(dbPath);
    await s.storeMemory('conv_001', 'new', { text: 'written here' });
    await s.shutdown();
    await withRawDb(dbPath, async (db) => {
      const after = await db.schema();
      for (const entry of before) expect(after).toContainEqual(entry);
      expect(after.filter((e) => !before.some((b) => b.name === e.name)).map((e) => e.name)).toEqual(
        expect.arrayContaining(['search_fts', 'search_docs', 'search_docs_scope']),
      );
      await db.run('PRAGMA recursive_triggers = OFF');
      await db.run(REFERENCE.storeMemory, [
        'conv_001',
        'new',
        '{"text": "replaced by the reference"}',
        REFERENCE_NOW,
      ]);
      await db.run(REFERENCE.storeChain, ['agent_x', '{"steps": ["reference chain"]}', REFERENCE_NOW]);
      const rows = await db.all(
        'SELECT memory_data FROM memories WHERE conversation_id = ? AND memory_id = ?',
        ['conv_001', 'new'],
      );
      expect(rows).toEqual([{ memory_data: '{"text": "replaced by the reference"}' }]);
      expect(await db.all('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    });
  });

  it('finds rows the reference writes later and none it replaced or deleted, without a reopen', async () => {
    const dbPath = await copyReferenceDb(dir());
    const s = await open(dbPath);
    await s.storeMemory('c1', 'm1', { text: 'original walrus' });
    await s.storeRawMessages('c1', [{ content: 'old narwhal' }, { content: 'old narwhal two' }]);
    await s.storeConversation('c1', { title: 'old okapi' });
    await s.storeChunkInfo('c1', { text: 'old okapi chunk' });
    await s.storeReasoningChain('a1', { steps: ['old quokka'] });
    await withRawDb(dbPath, async (db) => {
      await db.run('PRAGMA recursive_triggers = OFF');
      await db.run(REFERENCE.storeMemory, ['c1', 'm1', '{"text": "replaced penguin"}', REFERENCE_NOW]);
      await db.run(REFERENCE.storeMemory, ['c1', 'm2', '{"text": "new penguin"}', REFERENCE_NOW]);
      await db.run(REFERENCE.deleteRawMessages, ['c1']);
      await db.run(REFERENCE.insertRawMessage, ['c1', '{"content": "new narwhal"}', 0, REFERENCE_NOW]);
      await db.run(REFERENCE.storeConversation, [
        'c1',
        '{"title": "new okapi"}',
        REFERENCE_NOW,
        REFERENCE_NOW,
      ]);
      await db.run(REFERENCE.storeChunkInfo, [
        'c1',
        '{"text": "new okapi chunk"}',
        REFERENCE_NOW,
        REFERENCE_NOW,
      ]);
      await db.run('DELETE FROM reasoning_chains WHERE agent_id = ?', ['a1']);
      await db.run(REFERENCE.storeChain, ['a1', '{"steps": ["new quokka"]}', REFERENCE_NOW]);
    });
    for (const text of ['walrus', 'penguin', 'narwhal', 'okapi', 'quokka', 'old', 'new', 'replaced']) {
      expect(await ids(s, text, 'any')).toEqual(await expectedIds(s, text));
    }
    expect(await ids(s, 'penguin')).toEqual(['memories:c1:m1', 'memories:c1:m2']);
    expect(await ids(s, 'old')).toEqual([]);
    // Stale entries met by queries are dropped; a reopen reconciles the rest.
    await s.shutdown();
    const again = await open(dbPath);
    expect((await again.getStorageStats()).search_index_entries).toBe(await recordCount(again));
    expect(await ids(again, 'okapi')).toEqual(['chunk_info:c1', 'conversations:c1']);
  });

  // A writable open reconciles only when a cheap check fails (a kind behind its mark, or more
  // entries than rows); each case below passes one half of that check and fails the other.
  it('an open drops the entries of rows another writer deleted, though no kind is behind its mark', async () => {
    const dbPath = `${dir()}/deleted.db`;
    const s = await open(dbPath);
    await s.storeRawMessages('c0', [{ content: 'gone walrus' }, { content: 'gone walrus two' }]);
    await s.storeMemory('c0', 'm0', { text: 'gone walrus memory' });
    await s.storeRawMessages('c1', [{ content: 'kept okapi' }]);
    await s.storeMemory('c1', 'm1', { text: 'kept okapi memory' });
    await s.shutdown();
    await withRawDb(dbPath, async (db) => {
      await db.run('DELETE FROM raw_messages WHERE conversation_id = ?', ['c0']);
      await db.run('DELETE FROM memories WHERE conversation_id = ?', ['c0']);
    });
    const again = await open(dbPath);
    expect((await again.getStorageStats()).search_index_entries).toBe(2);
    expect(await recordCount(again)).toBe(2);
    expect(await ids(again, 'walrus', 'any')).toEqual([]);
    expect(await ids(again, 'okapi', 'any')).toEqual(['memories:c1:m1', 'raw_messages:c1:0']);
  });

  it('an open reconciles rows another writer deleted and added, though entries and rows are as many', async () => {
    const dbPath = `${dir()}/replaced.db`;
    const s = await open(dbPath);
    await s.storeMemory('c', 'm1', { text: 'old penguin' });
    await s.storeMemory('c', 'm2', { text: 'kept penguin' });
    await s.shutdown();
    await withRawDb(dbPath, async (db) => {
      await db.run('DELETE FROM memories WHERE memory_id = ?', ['m1']);
      await db.run(REFERENCE.storeMemory, ['c', 'm3', '{"text": "new penguin"}', REFERENCE_NOW]);
    });
    const again = await open(dbPath);
    // A query catches up rows past the mark by itself; only the open drops the unmet stale entry.
    expect(await ids(again, 'new')).toEqual(['memories:c:m3']);
    expect((await again.getStorageStats()).search_index_entries).toBe(2);
    expect(await ids(again, 'penguin')).toEqual(['memories:c:m2', 'memories:c:m3']);
  });

  it('keeps one entry per record through every write, in the write transaction', async () => {
    const s = await open(`${dir()}/writes.db`);
    const entries = async (): Promise<unknown> => (await s.getStorageStats()).search_index_entries;
    await s.storeConversation('c', { title: 'a' });
    await s.storeRawMessages('c', ['x', 'y', 'z']);
    await s.storeMemory('c', 'm', { text: 'one' });
    await s.storeMemory('c', 'm', { text: 'two' });
    await s.storeChunkInfo('c', { text: 'chunk' });
    await s.storeReasoningChain('a', { text: 'chain' });
    expect(await entries()).toBe(7);
    await s.storeRawMessages('c', ['only']);
    expect(await entries()).toBe(5);
    await s.deleteMemory('c', 'm');
    await s.deleteReasoningChains('a');
    expect(await entries()).toBe(3);
    await s.deleteConversation('c');
    expect(await entries()).toBe(0);
  });

  it('reindex() rebuilds a damaged index', async () => {
    const dbPath = `${dir()}/damaged.db`;
    const s = await open(dbPath);
    await s.storeMemory('c', 'm', { text: 'lynx' });
    await s.storeReasoningChain('a', { text: 'lynx chain' });
    await withRawDb(dbPath, async (db) => {
      await db.run("INSERT INTO search_fts (search_fts) VALUES ('delete-all')");
      await db.run('DELETE FROM search_pending');
    });
    expect(await ids(s, 'lynx')).toEqual([]);
    expect(await s.reindex()).toBe(2);
    expect(await ids(s, 'lynx')).toEqual(['memories:c:m', 'reasoning_chains:a:0']);
  });

  it('a read-only open searches an unindexed reference database by scanning, and an indexed one through its index', async () => {
    const dbPath = await copyReferenceDb(dir());
    const unindexed = await open(dbPath, true);
    expect((await unindexed.getStorageStats()).search_index_entries).toBeNull();
    const scanned = await ids(unindexed, 'alpha gamma');
    expect(scanned).toEqual(await expectedIds(unindexed, 'alpha gamma'));
    await unindexed.shutdown();
    await (await open(dbPath)).shutdown(); // a writable open indexes it
    const indexed = await open(dbPath, true);
    expect((await indexed.getStorageStats()).search_index_entries).toBe(await recordCount(indexed));
    expect(await ids(indexed, 'alpha gamma')).toEqual(scanned);
  });
});
