/**
 * One instance, many concurrent callers: transactions never interleave on the shared
 * connection (no "cannot start a transaction within a transaction", no statement of one
 * caller inside another's transaction), a failed transaction rolls back alone, and the
 * final data is what running the calls one after another gives; another instance on the file
 * (its own connection) sees each batch whole or not at all.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { CorruptDataError, type JsonValue } from '../../src/core/index.js';
import { useTempDir, withRawDb } from './helpers.js';

interface Model {
  conversations: Map<string, number>;
  raw: Map<string, JsonValue[]>;
  memories: Map<string, string[]>;
}

describe('SQLite: concurrent callers on one instance', () => {
  const dir = useTempDir();

  it.each([':memory:', 'file'])('keeps %s data consistent under mixed concurrent calls', async (kind) => {
    const storage = new SQLiteStorage({ dbPath: kind === 'file' ? join(dir(), 'mixed.db') : ':memory:' });
    await storage.initialize();

    // Calls reach the connection in call order, so the result must equal this sequential model.
    const model: Model = { conversations: new Map(), raw: new Map(), memories: new Map() };
    const calls: Array<Promise<boolean>> = [];
    for (let i = 0; i < 300; i += 1) {
      const id = `conv-${i % 7}`;
      switch (i % 5) {
        case 0: {
          const messages = Array.from({ length: (i % 4) + 1 }, (_, n) => ({ i, n }));
          calls.push(storage.storeRawMessages(id, messages));
          model.raw.set(id, messages);
          break;
        }
        case 1:
          calls.push(storage.deleteConversation(id));
          model.conversations.delete(id);
          model.raw.delete(id);
          model.memories.delete(id);
          break;
        case 2:
          calls.push(storage.storeConversation(id, { i }));
          model.conversations.set(id, i);
          break;
        default: {
          const memoryId = `m-${i % 4}`;
          calls.push(storage.storeMemory(id, memoryId, { i }));
          const list = model.memories.get(id) ?? [];
          if (!list.includes(memoryId)) list.push(memoryId);
          model.memories.set(id, list);
        }
      }
    }
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);

    for (let c = 0; c < 7; c += 1) {
      const id = `conv-${c}`;
      const conversation = await storage.loadConversation(id);
      expect({ id, conversation }).toEqual({
        id,
        conversation: model.conversations.has(id) ? { i: model.conversations.get(id) } : null,
      });
      expect(await storage.loadRawMessages(id)).toEqual(model.raw.get(id) ?? []);
      expect((await storage.loadMemories(id)).map((m) => m.memory_id)).toEqual(model.memories.get(id) ?? []);
    }
    await storage.shutdown();
  });

  it('rolls back a failing transaction without disturbing the concurrent ones', async () => {
    const dbPath = join(dir(), 'rollback.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    await storage.storeMemory('c', 'broken', { ok: true });
    // Another program corrupts one row: replacing that memory must fail inside its transaction.
    await withRawDb(dbPath, (db) =>
      db.run("UPDATE memories SET memory_data = '{not json' WHERE memory_id = 'broken'"),
    );

    const calls = Array.from({ length: 40 }, (_, i) =>
      i % 10 === 0
        ? storage.storeMemory('c', 'broken', { i })
        : i % 3 === 0
          ? storage.storeRawMessages('c', [i, i + 1])
          : storage.storeMemory('c', `m${i}`, { i }),
    );
    const results = await Promise.allSettled(calls);
    results.forEach((result, i) => {
      if (i % 10 === 0) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as Error;
        expect(reason).toBeInstanceOf(CorruptDataError);
        expect(reason.message).toContain('"broken"');
      } else {
        expect(result).toEqual({ status: 'fulfilled', value: true });
      }
    });
    await withRawDb(dbPath, async (db) => {
      expect(await db.all("SELECT COUNT(*) AS n FROM memories WHERE memory_id LIKE 'm%'")).toEqual([
        { n: 24 },
      ]);
      expect(await db.all("SELECT memory_data FROM memories WHERE memory_id = 'broken'")).toEqual([
        { memory_data: '{not json' },
      ]);
    });
    expect(await storage.loadRawMessages('c')).toEqual([39, 40]);
    await storage.shutdown();
  });

  it('lets reads issued during a write transaction see all of it or none of it', async () => {
    const storage = new SQLiteStorage({ dbPath: join(dir(), 'reads.db') });
    await storage.initialize();
    const long = (n: number) => Array.from({ length: 500 }, (_, i) => ({ n, i }));
    await storage.storeRawMessages('c', long(0));
    const reads: Array<Promise<unknown[]>> = [];
    const writes: Array<Promise<boolean>> = [];
    for (let n = 1; n <= 5; n += 1) {
      writes.push(storage.storeRawMessages('c', long(n)));
      reads.push(storage.loadRawMessages('c'));
    }
    await Promise.all(writes);
    for (const [index, read] of (await Promise.all(reads)).entries()) {
      expect(read).toEqual(long(index + 1));
    }
    await storage.shutdown();
  });

  it('finishes every call accepted before shutdown(), then closes', async () => {
    const dbPath = join(dir(), 'shutdown.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 30; i += 1) {
      calls.push(storage.storeRawMessages(`c${i}`, [i, i]));
      calls.push(storage.storeMemory(`c${i}`, 'm', { i }));
      calls.push(storage.getStorageStats());
    }
    const closing = storage.shutdown();
    expect((await Promise.allSettled(calls)).filter((r) => r.status === 'rejected')).toEqual([]);
    await closing;
    await expect(storage.loadRawMessages('c0')).rejects.toMatchObject({ code: 'NOT_INITIALIZED' });
    const reopened = new SQLiteStorage({ dbPath });
    await reopened.initialize();
    expect(await reopened.getStorageStats()).toMatchObject({ raw_message_count: 60, memory_count: 30 });
    await reopened.shutdown();
  });
  it('lets another instance on the file see each memory or conversation batch whole or not at all', async () => {
    // Another connection, so not queued behind the writer's calls: only the transaction keeps
    // a batch's statements (the ids it replaces, then the new ones) from being seen one by one.
    const dbPath = join(dir(), 'batches.db');
    const writer = new SQLiteStorage({ dbPath });
    await writer.initialize();
    const reader = new SQLiteStorage({ dbPath });
    await reader.initialize();
    const kept = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const batch = (n: number, fresh: string) => [
      ...kept.map((memoryId) => ({ memoryId, data: { n } })),
      ...kept.map((_, i) => ({ memoryId: `${fresh}${n}-${i}`, data: { n } })),
    ];
    await writer.storeMemories('c', batch(0, 'a'));
    let writing = true;
    const writes = (async () => {
      for (let n = 1; n <= 30; n += 1) {
        await writer.storeMemories('c', batch(n, 'a'));
        await writer.storeConversationBatch([
          { conversationId: 'd', conversation: { n }, memories: batch(n, 'b') },
        ]);
      }
      writing = false;
    })();
    const seen: string[] = [];
    while (writing) {
      const [memories, [item]] = await Promise.all([
        reader.loadMemories('c'),
        reader.loadConversationBatch(['d']),
      ]);
      for (const list of [memories, item!.memories]) {
        const versions = new Set(
          list.filter((m) => kept.includes(String(m.memory_id))).map((m) => Number(m.n)),
        );
        const n = [...versions][0] ?? 0;
        // Every replaced id carries one batch's value, and the new ids of that batch and each earlier one are there.
        if (
          versions.size > 1 ||
          (list.length > 0 && list.length !== 20 + 20 * (list === memories ? n + 1 : n))
        )
          seen.push(`${list.length} memories, values ${[...versions].join(',')}`);
      }
    }
    await writes;
    expect(seen).toEqual([]);
    await reader.shutdown();
    await writer.shutdown();
  });
});
