/**
 * `connectionTimeout` is the busy timeout: a write waits for another connection's write
 * lock up to that long, then fails with a BackendUnavailableError naming the operation and the file.
 * With the rollback journal the other locks wait the same way: a commit for another
 * connection's readers, a read for another connection's exclusive lock.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { type RawDb, useTempDir, withRawDb } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SQLite: waiting for locks', () => {
  const dir = useTempDir();

  it('waits for a lock released within the timeout', async () => {
    const dbPath = join(dir(), 'locked.db');
    const storage = new SQLiteStorage({ dbPath, connectionTimeout: 5 });
    await storage.initialize();
    await withRawDb(dbPath, async (other) => {
      await other.run('BEGIN IMMEDIATE');
      const write = storage.storeMemory('c', 'm', { waited: true });
      await sleep(300);
      await other.run('COMMIT');
      await expect(write).resolves.toBe(true);
    });
    expect(await storage.loadMemories('c')).toHaveLength(1);
    await storage.shutdown();
  });

  it('fails after the timeout with the operation and the path in the message', async () => {
    const dbPath = join(dir(), 'locked.db');
    const storage = new SQLiteStorage({ dbPath, connectionTimeout: 0.2 });
    await storage.initialize();
    await withRawDb(dbPath, async (other) => {
      await other.run('BEGIN IMMEDIATE');
      const started = Date.now();
      const error = await storage.storeMemory('conv-x', 'mem-y', {}).catch((e: unknown) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      // Typed as "unavailable right now", like a Redis or PostgreSQL timeout.
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toMatch(
        /memory "mem-y" of conversation "conv-x".*locked\.db.*SQLITE_BUSY/,
      );
      await other.run('ROLLBACK');
    });
    // The failed transaction left the connection usable.
    await storage.storeMemory('conv-x', 'mem-y', {});
    expect(await storage.loadMemories('conv-x')).toHaveLength(1);
    await storage.shutdown();
  });

  // The fast one-statement append, and the transaction a `maxReasoningChainsPerAgent` trim takes.
  it.each([
    ['fast', {}],
    ['trimming', { maxReasoningChainsPerAgent: 10 }],
  ] as const)(
    'a %s chain append that times out names the batch, a single one the chain',
    async (_, extra) => {
      const dbPath = join(dir(), 'chains.db');
      const storage = new SQLiteStorage({ dbPath, connectionTimeout: 0.2, ...extra });
      await storage.initialize();
      await withRawDb(dbPath, async (other) => {
        await other.run('BEGIN IMMEDIATE');
        const failure = (call: Promise<unknown>): Promise<Error> =>
          call.then(
            () => new Error('resolved'),
            (e: unknown) => e as Error,
          );
        // 20: past the index's PENDING_LIMIT, so the fast path's batch view too.
        const chains = Array.from({ length: 20 }, (_, n) => ({ n }));
        // Until 2026-12-06 a batch said "store reasoning chain of" as if one chain failed.
        const batch = await failure(storage.appendReasoningChains('a', chains));
        expect(batch).toBeInstanceOf(BackendUnavailableError);
        expect(batch.message).toMatch(/append 20 reasoning chains of "a".*chains\.db.*SQLITE_BUSY/);
        const single = await failure(storage.storeReasoningChain('a', { n: 20 }));
        expect(single.message).toMatch(/store reasoning chain of "a".*SQLITE_BUSY/);
        const one = await failure(storage.appendReasoningChains('a', [{ n: 21 }]));
        expect(one.message).toMatch(/store reasoning chain of "a".*SQLITE_BUSY/);
        await other.run('ROLLBACK');
      });
      expect(await storage.loadReasoningChains('a')).toEqual([]);
      await storage.shutdown();
    },
  );

  describe('with the rollback journal (enableWalMode: false)', () => {
    /** A store with one memory, and another connection holding a read transaction open. */
    async function underReader(
      timeout: number,
      fn: (storage: SQLiteStorage, reader: RawDb) => Promise<void>,
    ) {
      const dbPath = join(dir(), 'journal.db');
      const storage = new SQLiteStorage({ dbPath, connectionTimeout: timeout, enableWalMode: false });
      await storage.initialize();
      await storage.storeMemories('c', [{ memoryId: 'm0', data: {} }]);
      try {
        await withRawDb(dbPath, async (reader) => {
          // Its SHARED lock lets a writer take RESERVED and write, but not commit.
          await reader.run('BEGIN');
          await reader.all('SELECT COUNT(*) FROM memories');
          await fn(storage, reader);
        });
      } finally {
        await storage.shutdown();
      }
    }

    it('a commit waits for a reader that finishes within the timeout', async () => {
      await underReader(5, async (storage, reader) => {
        const write = storage.storeMemories('c', [
          { memoryId: 'm1', data: {} },
          { memoryId: 'm2', data: {} },
        ]);
        await sleep(300);
        await reader.run('COMMIT');
        await expect(write).resolves.toBe(2);
        expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual(['m0', 'm1', 'm2']);
      });
    });

    it.each([
      [
        'storeMemories',
        (s: SQLiteStorage) =>
          s.storeMemories('c', [
            { memoryId: 'm1', data: {} },
            { memoryId: 'm2', data: {} },
          ]),
        /2 memories of "c"/,
      ],
      ['deleteConversation', (s: SQLiteStorage) => s.deleteConversation('c'), /delete conversation "c"/],
      [
        'storeConversationBatch',
        (s: SQLiteStorage) =>
          s.storeConversationBatch([
            { conversationId: 'c', conversation: {}, memories: [{ memoryId: 'm1', data: {} }] },
          ]),
        /conversation\(s\) from "c"/,
      ],
    ] as const)(
      '%s whose commit waits out the timeout on a reader fails typed, rolled back whole; the next write works',
      async (_, call, names) => {
        await underReader(0.2, async (storage, reader) => {
          const error = await call(storage).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(BackendUnavailableError);
          expect((error as Error).message).toMatch(names);
          expect((error as Error).message).toMatch(/journal\.db.*SQLITE_BUSY/);
          // The transaction was rolled back, not left open on the connection.
          expect(await reader.all('SELECT memory_id FROM memories')).toEqual([{ memory_id: 'm0' }]);
          await reader.run('COMMIT');
          expect(await storage.loadConversation('c')).toBeNull();
          expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual(['m0']);
          await storage.storeMemory('c', 'm3', {});
          expect((await storage.loadMemories('c')).map((m) => m.memory_id)).toEqual(['m0', 'm3']);
        });
      },
    );

    it("a read waits out the timeout on another connection's exclusive lock, then fails typed", async () => {
      await underReader(0.2, async (storage, reader) => {
        await reader.run('COMMIT');
        await reader.run('BEGIN EXCLUSIVE');
        const error = await storage.loadMemories('c').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BackendUnavailableError);
        expect((error as Error).message).toMatch(/load memories of "c".*journal\.db.*SQLITE_BUSY/);
        await reader.run('COMMIT');
        expect(await storage.loadMemories('c')).toHaveLength(1);
      });
    });
  });
});
