/**
 * Vector ids of records whose ids hold a `/` or a `\`: the id rule refuses them for writes,
 * but a store the Python reference wrote may hold a memory `notes/2025` or an agent
 * `team/beta`, which `reindex()` embeds. Vector ids join the parts with `/`, so such an id
 * made an ambiguous one: `c/x/1` (memory `x/1` of conversation `c`) read back as chain 1 of
 * agent `x`, and `c/notes/2025` as nothing. A conversation or agent id the id rule refuses is
 * refused by the vector stores' scope check too: `reindex()` skips it with a warning.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { parseVectorId, vectorIdOf, type VectorRef } from '../../src/core/semantic/vector-ids.js';
import { formatEpochMs } from '../../src/core/index.js';
import { createVectorStore } from '../../src/index.js';
import { useTempDir, withRawDb } from '../sqlite/helpers.js';
import { recordingLogger } from '../support/recording-logger.js';

const dir = useTempDir();

describe('vector ids of ids with a slash or a backslash', () => {
  it('reindex() and search find each such record under its own ids', async () => {
    const dbPath = join(dir(), 'reference.db');
    const plain = new SQLiteStorage({ dbPath });
    await plain.initialize();
    await plain.storeConversation('c', { id: 'c' });
    // Chain 1 of agent `x`: what the memory `x/1` of `c` was taken for.
    await plain.storeReasoningChain('x', { text: 'quiet harbour lighthouse' });
    await plain.shutdown();
    const now = formatEpochMs(Date.now());
    await withRawDb(dbPath, async (db) => {
      const memory = (conversation: string, id: string, content: string) =>
        db.run(
          'INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES (?, ?, ?, ?)',
          [conversation, id, JSON.stringify({ content }), now],
        );
      await memory('c', 'x/1', 'apple pie recipe');
      await memory('c', 'notes/2025', 'winter garden notes');
      await memory('c', 'a\\s', 'silver spoon polish');
    });

    const storage = new SQLiteStorage({ dbPath, semantic: { vectorStore: createVectorStore('memory') } });
    await storage.initialize();
    try {
      await storage.reindex();
      const top = async (text: string) => {
        const [hit] = await storage.search({ text, mode: 'vector', limit: 1 });
        if (hit === undefined) return undefined;
        // The hit's kind and ids only (its score, snippet and record are not compared).
        const ids: Record<string, unknown> = { ...hit };
        for (const field of ['score', 'snippet', 'matchedTerms', 'record']) delete ids[field];
        return ids;
      };
      expect(await top('apple pie recipe')).toEqual({
        kind: 'memories',
        conversationId: 'c',
        memoryId: 'x/1',
      });
      expect(await top('winter garden notes')).toEqual({
        kind: 'memories',
        conversationId: 'c',
        memoryId: 'notes/2025',
      });
      expect(await top('silver spoon polish')).toEqual({
        kind: 'memories',
        conversationId: 'c',
        memoryId: 'a\\s',
      });
      expect(await top('quiet harbour lighthouse')).toMatchObject({ kind: 'reasoning_chains', agentId: 'x' });
    } finally {
      await storage.shutdown();
    }
  });

  it('reindex() skips a conversation or agent whose id the vector stores refuse, with a warning', async () => {
    // It threw the vector store's InvalidIdError at `team/alpha`, and every owner after it in
    // code point order was left unindexed.
    const dbPath = join(dir(), 'reference.db');
    const plain = new SQLiteStorage({ dbPath });
    await plain.initialize();
    await plain.storeMemory('zeta', 'm', { content: 'quiet harbour lighthouse' });
    await plain.shutdown();
    const now = formatEpochMs(Date.now());
    await withRawDb(dbPath, async (db) => {
      await db.run("INSERT INTO conversations VALUES ('team/alpha', '{}', ?, ?)", [now, now]);
      await db.run(
        "INSERT INTO memories (conversation_id, memory_id, memory_data, created_at) VALUES ('team/alpha', 'm', ?, ?)",
        [JSON.stringify({ content: 'violet kite festival' }), now],
      );
      await db.run(
        "INSERT INTO reasoning_chains (agent_id, chain_data, created_at) VALUES ('team/beta', ?, ?)",
        [JSON.stringify({ text: 'copper kettle repair' }), now],
      );
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
      const [hit] = await storage.search({ text: 'quiet harbour lighthouse', mode: 'vector', limit: 1 });
      expect(hit).toMatchObject({ kind: 'memories', conversationId: 'zeta', memoryId: 'm' });
      const warnings = events.filter((event) => event.level === 'warn' && /reindex\(\)/.test(event.message));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.details).toMatchObject({
        conversationIds: ['team/alpha'],
        agentIds: ['team/beta'],
      });
      // Full-text search still finds them.
      const [text] = await storage.search({ text: 'violet kite festival', mode: 'text', limit: 1 });
      expect(text).toMatchObject({ kind: 'memories', conversationId: 'team/alpha' });
    } finally {
      await storage.shutdown();
    }
  });

  it('reads back every ref it writes, and the ids written before (no `/` or `\\` in a part) as before', () => {
    const parts = ['c', 'x/1', 'a\\s', '/', '\\', '\\\\/', 'r', '12', 'notes/2025', 'team\\alpha', '50%2F'];
    for (const a of parts) {
      for (const b of parts) {
        const refs: VectorRef[] = [
          { kind: 'memories', conversationId: a, memoryId: b },
          { kind: 'raw_messages', conversationId: a, messageIndex: 3 },
          { kind: 'reasoning_chains', agentId: b, sequence: 7 },
        ];
        for (const ref of refs) expect(parseVectorId(vectorIdOf(ref))).toEqual(ref);
      }
    }
    // The earlier format, for every id the id rule allows: unchanged.
    expect(vectorIdOf({ kind: 'memories', conversationId: 'c', memoryId: 'm%2F' })).toBe('c/m%2F');
    expect(parseVectorId('c/m')).toEqual({ kind: 'memories', conversationId: 'c', memoryId: 'm' });
    expect(parseVectorId('r/c/4')).toEqual({ kind: 'raw_messages', conversationId: 'c', messageIndex: 4 });
    expect(parseVectorId('c/a/9')).toEqual({ kind: 'reasoning_chains', agentId: 'a', sequence: 9 });
    expect(parseVectorId('r/c')).toEqual({ kind: 'memories', conversationId: 'r', memoryId: 'c' });
    expect(parseVectorId('x/y/z')).toBeNull();
  });
});
