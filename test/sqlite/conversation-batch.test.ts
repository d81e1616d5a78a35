/**
 * SQLite's whole-conversation batch (`storeConversationBatch`, the migration's write path): one
 * `BEGIN IMMEDIATE` transaction for every part of every item, so one commit, and all or nothing
 * when SQLite fails part-way. (That a batch equals the single calls is the conformance suite's.)
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SqliteConnection } from '../../src/backends/sqlite/connection.js';
import { BatchPartiallyAppliedError, StorageError } from '../../src/core/index.js';
import { useTempDir, withRawDb } from './helpers.js';

/** Trace events come from SQLite's thread: lets the ones already queued arrive. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

const item = (n: number) => ({
  conversationId: `c${n}`,
  conversation: { title: `puffin ${n}` },
  rawMessages: [
    { role: 'user', content: `hello ${n}` },
    { role: 'assistant', content: 'hi' },
  ],
  memories: [{ memoryId: 'm', data: { summary: `likes tea ${n}` } }],
  chunkInfo: { chunks: n },
});

describe('SQLite conversation batches', () => {
  const opened: SQLiteStorage[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.shutdown();
  });
  // After the stores close: jest runs afterEach hooks in the order they were registered.
  const dir = useTempDir();
  const open = async (name: string, searchIndex: boolean): Promise<SQLiteStorage> => {
    const s = new SQLiteStorage({ dbPath: join(dir(), name), searchIndex });
    await s.initialize();
    opened.push(s);
    return s;
  };

  for (const searchIndex of [true, false]) {
    it(`writes every part of every item in one transaction (searchIndex: ${searchIndex})`, async () => {
      const s = await open(`one-${searchIndex}.db`, searchIndex);
      const connection = (s as unknown as { db: SqliteConnection }).db;
      const seen: string[] = [];
      const stop = connection.traceStatements((sql) => seen.push(sql));
      await s.storeConversationBatch([item(1), item(2), item(3)]);
      await settle();
      stop();
      const top = seen.filter((sql) => !sql.startsWith('--'));
      expect(top.filter((sql) => /^(BEGIN|COMMIT|ROLLBACK)/.test(sql))).toEqual([
        'BEGIN IMMEDIATE',
        'COMMIT',
      ]);
      expect(top[0]).toBe('BEGIN IMMEDIATE');
      expect(top[top.length - 1]).toBe('COMMIT');
      const [c3] = await s.loadConversationBatch(['c3']);
      expect(c3).toMatchObject({ conversation: { title: 'puffin 3' }, chunkInfo: { chunks: 3 } });
      expect(c3?.rawMessages).toHaveLength(2);
      if (searchIndex) expect((await s.search({ text: 'puffin', kinds: ['conversations'] })).length).toBe(3);
    });

    it(`writes nothing of a batch when SQLite fails part-way (searchIndex: ${searchIndex})`, async () => {
      const name = `fail-${searchIndex}.db`;
      const s = await open(name, searchIndex);
      await s.storeConversation('c1', { title: 'before' });
      // A real failure inside the transaction: the third item's chunk info is refused by SQLite.
      await withRawDb(join(dir(), name), (db) =>
        db.run(`CREATE TRIGGER refuse_c3 BEFORE INSERT ON chunk_info WHEN new.conversation_id = 'c3'
          BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`),
      );
      const error = await s.storeConversationBatch([item(1), item(2), item(3)]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).not.toBeInstanceOf(BatchPartiallyAppliedError);
      expect(String((error as Error).message)).toContain('refused by a test trigger');
      expect(await s.loadConversation('c1')).toEqual({ title: 'before' });
      expect(await s.loadRawMessages('c1')).toEqual([]);
      expect(await s.loadMemories('c2')).toEqual([]);
      expect(await s.listAllConversationIds()).toEqual(['c1']);
      // The connection is usable afterwards, and the batch goes through once SQLite accepts it.
      await withRawDb(join(dir(), name), (db) => db.run('DROP TRIGGER refuse_c3'));
      await s.storeConversationBatch([item(1), item(2), item(3)]);
      expect(await s.listAllConversationIds()).toEqual(['c1', 'c2', 'c3']);
    });
  }
});
