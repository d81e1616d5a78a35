/**
 * The SQLite index's write path: a write indexes its own new rows from the values it wrote,
 * and in the same transaction catches up rows another writer (the Python reference, with its
 * own statements) appended before it, so the high-water mark never passes an unindexed row.
 */
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SearchHit } from '../../src/core/index.js';
import { useTempDir, withRawDb } from './helpers.js';

const NOW = '2025-06-01T10:00:00.000000+00:00';
const REFERENCE = {
  storeMemory:
    'INSERT OR REPLACE INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
  storeChain: 'INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES (?, ?, ?)',
  storeConversation:
    'INSERT OR REPLACE INTO conversations (conversation_id, data, created_at, updated_at) VALUES (?, ?, ?, ?)',
  storeChunkInfo:
    'INSERT OR REPLACE INTO chunk_info (conversation_id, chunk_data, created_at, updated_at) VALUES (?, ?, ?, ?)',
  storeRawMessage:
    'INSERT INTO raw_messages (conversation_id, message_data, message_index, created_at) VALUES (?, ?, ?, ?)',
};

function idOf(hit: SearchHit): string {
  if (hit.kind === 'memories') return `memories:${hit.conversationId}:${hit.memoryId}`;
  if (hit.kind === 'reasoning_chains') return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
  if (hit.kind === 'raw_messages') return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
  return `${hit.kind}:${hit.conversationId}`;
}

describe('SQLite index write path', () => {
  const opened: SQLiteStorage[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.shutdown();
  });
  // After the stores close: jest runs afterEach hooks in the order they were registered.
  const dir = useTempDir();

  it('indexes rows another writer appended before a write, in that write', async () => {
    const dbPath = `${dir()}/writes.db`;
    const s = new SQLiteStorage({ dbPath });
    await s.initialize();
    opened.push(s);
    await s.storeMemory('c', 'ours-1', { text: 'first' });
    await s.storeReasoningChain('a', { text: 'first' });
    await withRawDb(dbPath, async (db) => {
      await db.run(REFERENCE.storeMemory, ['c', 'theirs', '{"text": "puffin"}', NOW]);
      await db.run(REFERENCE.storeChain, ['a', '{"text": "puffin chain"}', NOW]);
    });
    await s.storeMemory('c', 'ours-2', { text: 'second' });
    await s.storeMemories('c', [{ memoryId: 'ours-3', data: { text: 'third' } }]);
    await s.storeReasoningChain('a', { text: 'second' });
    // Every row is indexed by now: the count needs no search (searches catch up themselves).
    expect((await s.getStorageStats()).search_index_entries).toBe(7);
    const hits = await s.search({ text: 'puffin', kinds: ['memories', 'reasoning_chains'] });
    expect(hits.map(idOf).sort()).toEqual(['memories:c:theirs', 'reasoning_chains:a:1']);
  });

  for (const size of [3, 20]) {
    it(`a memory batch of ${size} new ids indexes the rows another writer appended before it`, async () => {
      // The batch's one-statement insert declines (the index is behind) and the general path
      // catches up; batches of 16 and more put their entries into FTS5 at once, smaller ones wait.
      const dbPath = `${dir()}/memory-batch-${size}.db`;
      const s = new SQLiteStorage({ dbPath });
      await s.initialize();
      opened.push(s);
      await s.storeMemories('c', [{ memoryId: 'ours-0', data: { text: 'first' } }]);
      await withRawDb(dbPath, (db) =>
        db.run(REFERENCE.storeMemory, ['c', 'theirs', '{"text": "puffin"}', NOW]),
      );
      const items = Array.from({ length: size }, (_, n) => ({
        memoryId: `ours-${n + 1}`,
        data: { text: `puffin ${n}` },
      }));
      await s.storeMemories('c', items);
      await s.storeMemories(
        'c',
        items.map((item) => ({ ...item, memoryId: `${item.memoryId}b` })),
      );
      expect((await s.getStorageStats()).search_index_entries).toBe(2 + 2 * size);
      const hits = await s.search({ text: 'puffin', kinds: ['memories'], limit: 100 });
      expect(hits).toHaveLength(1 + 2 * size);
      expect(hits.map(idOf)).toContain('memories:c:theirs');
      expect((await s.loadMemories('c')).map((m) => m.memory_id)).toEqual([
        'ours-0',
        'theirs',
        ...items.map((item) => item.memoryId),
        ...items.map((item) => `${item.memoryId}b`),
      ]);
    });
  }

  for (const size of [3, 20]) {
    it(`a chain batch of ${size} indexes the chains another writer appended before it`, async () => {
      const dbPath = `${dir()}/chain-batch-${size}.db`;
      const s = new SQLiteStorage({ dbPath });
      await s.initialize();
      opened.push(s);
      await s.appendReasoningChains('a', [{ text: 'first' }, { text: 'second' }]);
      await withRawDb(dbPath, (db) => db.run(REFERENCE.storeChain, ['a', '{"text": "puffin"}', NOW]));
      const chains = Array.from({ length: size }, (_, n) => ({ text: `puffin ${n}` }));
      await s.appendReasoningChains('a', chains);
      await s.appendReasoningChains('a', chains);
      expect((await s.getStorageStats()).search_index_entries).toBe(3 + 2 * size);
      const hits = await s.search({ text: 'puffin', kinds: ['reasoning_chains'], limit: 100 });
      expect(hits).toHaveLength(1 + 2 * size);
      expect(hits.map(idOf)).toContain('reasoning_chains:a:2');
      const loaded = await s.loadReasoningChains('a', 100);
      expect(loaded.map((c) => c.text)).toEqual([
        'first',
        'second',
        'puffin',
        ...chains.map((c) => c.text),
        ...chains.map((c) => c.text),
      ]);
    });
  }

  it('indexes conversations, chunk info and raw messages another writer added before a write that adds newer ones', async () => {
    const dbPath = `${dir()}/objects.db`;
    const s = new SQLiteStorage({ dbPath });
    await s.initialize();
    opened.push(s);
    await s.storeConversation('ours-1', { title: 'first' });
    await s.storeChunkInfo('ours-1', { text: 'first' });
    await s.storeRawMessages('ours-1', [{ content: 'first' }]);
    await withRawDb(dbPath, async (db) => {
      await db.run(REFERENCE.storeConversation, ['theirs', '{"title": "puffin"}', NOW, NOW]);
      await db.run(REFERENCE.storeChunkInfo, ['theirs', '{"text": "puffin"}', NOW, NOW]);
      await db.run(REFERENCE.storeRawMessage, ['theirs', '{"content": "puffin"}', 0, NOW]);
    });
    // New rows of ours, past the other writer's: they must not move the mark over those.
    await s.storeConversation('ours-2', { title: 'second' });
    await s.storeChunkInfo('ours-2', { text: 'second' });
    await s.storeRawMessages('ours-2', [{ content: 'second' }]);
    expect((await s.getStorageStats()).search_index_entries).toBe(9);
    const hits = await s.search({
      text: 'puffin',
      kinds: ['conversations', 'chunk_info', 'raw_messages'],
    });
    expect(hits.map(idOf).sort()).toEqual([
      'chunk_info:theirs',
      'conversations:theirs',
      'raw_messages:theirs:0',
    ]);
  });

  it('a conversation batch indexes what another writer added before it, inside its one transaction', async () => {
    const dbPath = `${dir()}/conversation-batch.db`;
    const s = new SQLiteStorage({ dbPath });
    await s.initialize();
    opened.push(s);
    await s.storeConversationBatch([
      { conversationId: 'ours-1', conversation: { title: 'first' }, chunkInfo: { text: 'first' } },
    ]);
    await withRawDb(dbPath, async (db) => {
      await db.run(REFERENCE.storeConversation, ['theirs', '{"title": "puffin"}', NOW, NOW]);
      await db.run(REFERENCE.storeChunkInfo, ['theirs', '{"text": "puffin"}', NOW, NOW]);
      await db.run(REFERENCE.storeRawMessage, ['theirs', '{"content": "puffin"}', 0, NOW]);
    });
    // Each part's one-statement write declines (the index is behind) and the general path
    // catches up and indexes, all in the batch's transaction.
    await s.storeConversationBatch([
      {
        conversationId: 'ours-2',
        conversation: { title: 'second puffin' },
        rawMessages: [{ content: 'second' }],
        chunkInfo: { text: 'second' },
      },
    ]);
    expect((await s.getStorageStats()).search_index_entries).toBe(8);
    const hits = await s.search({ text: 'puffin', kinds: ['conversations', 'chunk_info', 'raw_messages'] });
    expect(hits.map(idOf).sort()).toEqual([
      'chunk_info:theirs',
      'conversations:ours-2',
      'conversations:theirs',
      'raw_messages:theirs:0',
    ]);
  });

  it('replacing a memory inserted by the same batch leaves one entry with the last text', async () => {
    const s = new SQLiteStorage({ dbPath: `${dir()}/batch.db` });
    await s.initialize();
    opened.push(s);
    await s.storeMemories('c', [
      { memoryId: 'm', data: { text: 'draft' } },
      { memoryId: 'm', data: { text: 'final' } },
    ]);
    expect((await s.getStorageStats()).search_index_entries).toBe(1);
    expect((await s.search({ text: 'final draft' })).map(idOf)).toEqual(['memories:c:m']);
    expect(await s.search({ text: 'draft' })).toEqual([]);
  });
});

describe('SQLite one-statement writes', () => {
  const dir = useTempDir();

  it('a raw-message replace keeps the rows and entries of the messages that did not change', async () => {
    const dbPath = `${dir()}/raw.db`;
    const s = new SQLiteStorage({ dbPath });
    await s.initialize();
    try {
      /** Each row's id and created_at, in position order. */
      const rows = (): Promise<Array<[number, string]>> =>
        withRawDb(dbPath, async (db) =>
          (
            await db.all(
              "SELECT id, created_at FROM raw_messages WHERE conversation_id = 'c' ORDER BY message_index",
            )
          ).map((row) => [Number(row.id), String(row.created_at)]),
        );
      await s.storeRawMessages('c', ['otter one', 'heron two', 'ibis three']);
      const first = await rows();
      await s.storeRawMessages('c', ['otter one', 'heron two', 'ibis three', 'crane four']);
      expect((await rows()).slice(0, 3)).toEqual(first);
      await s.storeRawMessages('c', ['otter one', 'stork two', 'ibis three']);
      const changed = await rows();
      // Unchanged rows untouched; the changed one updated in place (same id, new created_at), so
      // ids stay in position order as after a full replace.
      expect([changed[0], changed[2]]).toEqual([first[0], first[2]]);
      expect(changed[1]?.[0]).toBe(first[1]?.[0]);
      expect(changed[1]?.[1]).not.toBe(first[1]?.[1]);
      expect(await s.loadRawMessages('c')).toEqual(['otter one', 'stork two', 'ibis three']);
      expect((await s.getStorageStats()).search_index_entries).toBe(3);
      expect((await s.search({ text: 'otter stork ibis heron crane' })).map(idOf).sort()).toEqual([
        'raw_messages:c:0',
        'raw_messages:c:1',
        'raw_messages:c:2',
      ]);
      expect(await s.search({ text: 'heron crane' })).toEqual([]);
    } finally {
      await s.shutdown();
    }
  });

  it('index exactly what a full rebuild indexes: same hits and scores before and after reindex()', async () => {
    const s = new SQLiteStorage({
      dbPath: `${dir()}/fast.db`,
      searchFields: { memories: ['summary', 'tags[*]'] },
    });
    await s.initialize();
    try {
      await s.storeConversation('conv_1', {
        title: 'Café Ünïcode puffin',
        messages: [{ content: 'report.pdf' }],
      });
      await s.storeChunkInfo('conv_1', { chunks: ['puffin user_42', 'CAFÉ'] });
      await s.storeRawMessages('conv_1', [
        { content: 'puffin café' },
        'report',
        { content: 'user_42 puffin puffin' },
      ]);
      await s.storeMemory('conv_1', 'm1', { summary: 'puffin Café', tags: ['report'], ignored: 'puffin' });
      await s.storeMemory('conv_1', 'm2', { summary: 'user_42', created_at: null });
      await s.storeReasoningChain('agent', { steps: ['puffin', 'report.pdf'], stored_at: 7 });
      await s.storeReasoningChain('agent', { steps: ['café user'] });
      const kinds = ['raw_messages', 'memories', 'reasoning_chains', 'conversations', 'chunk_info'] as const;
      const query = async (text: string): Promise<string[]> =>
        (await s.search({ text, kinds: [...kinds], limit: 50 })).map(
          (hit) => `${idOf(hit)} ${hit.matchedTerms} ${hit.score.toFixed(9)}`,
        );
      const texts = ['puffin', 'cafe report', 'user 42 pdf', 'unicode'];
      const before = await Promise.all(texts.map(query));
      expect(before[0]).toHaveLength(6); // every record holding "puffin" in an indexed field
      expect((await s.getStorageStats()).search_index_entries).toBe(9);
      await s.reindex();
      expect(await Promise.all(texts.map(query))).toEqual(before);
    } finally {
      await s.shutdown();
    }
  });
});
