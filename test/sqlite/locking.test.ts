/**
 * `connectionTimeout` is the busy timeout: a write waits for another connection's write
 * lock up to that long, then fails with a BackendUnavailableError naming the operation and the file.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { useTempDir, withRawDb } from './helpers.js';

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
});
