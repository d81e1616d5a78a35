/**
 * A memory id longer than the id rule's 255 bytes: the rule refuses it for writes, but a store
 * the Python reference wrote may hold one, which `reindex()` embeds. Its vector id
 * (`conversationId/memoryId`) can pass the vector stores' 512-byte limit: the vector store's
 * InvalidIdError failed the whole `reindex()`. Now such a memory is skipped with one warning
 * (it stays findable by full-text search), and every other record is indexed.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { formatEpochMs } from '../../src/core/index.js';
import { createVectorStore } from '../../src/index.js';
import { useTempDir, withRawDb } from '../sqlite/helpers.js';
import { recordingLogger } from '../support/recording-logger.js';

const dir = useTempDir();

describe('reindex() and memory ids longer than the id rule allows', () => {
  it('skips such a memory with one warning and indexes every other record', async () => {
    const dbPath = join(dir(), 'reference.db');
    const plain = new SQLiteStorage({ dbPath });
    await plain.initialize();
    await plain.storeMemory('c', 'm', { content: 'quiet harbour lighthouse' });
    await plain.storeMemory('d', 'n', { content: 'copper kettle repair' });
    await plain.shutdown();
    // Two whose vector ids pass 512 bytes, and one past 255 bytes whose vector id fits (indexed).
    const longIds = ['x'.repeat(600), 'é'.repeat(300), `notes/${'y'.repeat(300)}`];
    const now = formatEpochMs(Date.now());
    await withRawDb(dbPath, async (db) => {
      for (const [i, id] of longIds.entries()) {
        await db.run(
          'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
          ['c', id, JSON.stringify({ content: `violet kite festival ${i}` }), now],
        );
      }
    });
    const { logger, events } = recordingLogger();
    const storage = new SQLiteStorage({
      dbPath,
      logger,
      semantic: { vectorStore: createVectorStore('memory') },
    });
    await storage.initialize();
    try {
      await storage.reindex();
      // Records of the same conversation and of the one after it (in code point order) are indexed.
      const [same] = await storage.search({ text: 'quiet harbour lighthouse', mode: 'vector', limit: 1 });
      expect(same).toMatchObject({ kind: 'memories', conversationId: 'c', memoryId: 'm' });
      const [next] = await storage.search({ text: 'copper kettle repair', mode: 'vector', limit: 1 });
      expect(next).toMatchObject({ kind: 'memories', conversationId: 'd', memoryId: 'n' });
      const vectorHits = await storage.search({ text: 'violet kite festival', mode: 'vector', limit: 10 });
      const indexed = vectorHits.map((hit) => (hit as { memoryId?: string }).memoryId);
      expect(indexed).toContain(longIds[2]);
      expect(indexed).not.toContain(longIds[0]);
      expect(indexed).not.toContain(longIds[1]);
      const warnings = events.filter((event) => event.level === 'warn' && /reindex\(\)/.test(event.message));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.details).toMatchObject({ memoryCount: 2 });
      // Full-text search still finds them.
      const text = await storage.search({ text: 'violet kite festival', mode: 'text', limit: 10 });
      expect(text.map((hit) => (hit as { memoryId?: string }).memoryId).sort()).toEqual([...longIds].sort());
      // A second reindex() is as quiet as the first is loud: no failure, the same one warning.
      await storage.reindex();
      expect(
        events.filter((event) => event.level === 'warn' && /reindex\(\)/.test(event.message)),
      ).toHaveLength(2);
    } finally {
      await storage.shutdown();
    }
  });
});
