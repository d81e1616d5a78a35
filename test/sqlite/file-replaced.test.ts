/**
 * A database file deleted or replaced while a store has it open: SQLite goes on with the file it
 * opened, which the path no longer names, so its writes are lost at close. `healthCheck()`
 * reports it `unhealthy` and `getStorageStats()` rejects, both naming the path (until 2026-12-06
 * health said `healthy` with `database_size_bytes: 0`).
 */
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BackendUnavailableError } from '../../src/core/index.js';
import { useSqliteStores, useTempDir } from './helpers.js';

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('SQLite: the database file deleted or replaced under an open store', () => {
  const dir = useTempDir();
  const open = useSqliteStores();

  it('reports unhealthy and refuses stats, naming the path, once the file is deleted', async () => {
    const dbPath = join(dir(), 'x.db');
    const storage = await open(dbPath);
    await storage.storeConversation('before', { a: 1 });
    const before = await storage.healthCheck();
    expect(before.status).toBe('healthy');
    expect(before.database_size_bytes).toBeGreaterThan(0);

    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
    const health = await storage.healthCheck();
    expect(health).toMatchObject({ status: 'unhealthy', database_size_bytes: null });
    expect(health.error).toContain(dbPath);
    expect(health.error).toMatch(/was deleted .*writes are lost when it closes/);
    const error = await rejectionOf(storage.getStorageStats());
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain(dbPath);

    // As the README says: writes are not checked (a stat each would cost too much); they go to
    // the deleted file and are gone once the store closes.
    expect(await storage.storeConversation('after', { a: 2 })).toBe(true);
    await storage.shutdown();
    const reopened = await open(dbPath);
    expect(await reopened.listConversations()).toEqual([]);
    expect((await reopened.healthCheck()).status).toBe('healthy');
  });

  it('reports unhealthy when another file is renamed over the path', async () => {
    const dbPath = join(dir(), 'x.db');
    const other = join(dir(), 'other.db');
    const storage = await open(dbPath);
    await storage.storeConversation('c', { a: 1 });
    await storage.shutdown();
    copyFileSync(dbPath, other);
    const reopened = await open(dbPath);
    renameSync(other, dbPath);
    const health = await reopened.healthCheck();
    expect(health.status).toBe('unhealthy');
    expect(health.error).toContain(`${dbPath} was replaced`);
    expect(await rejectionOf(reopened.getStorageStats())).toBeInstanceOf(BackendUnavailableError);
  });

  it('stays healthy when the file is moved away and back (the same file)', async () => {
    const dbPath = join(dir(), 'x.db');
    const storage = await open(dbPath);
    await storage.storeConversation('c', { a: 1 });
    renameSync(dbPath, join(dir(), 'moved.db'));
    expect((await storage.healthCheck()).status).toBe('unhealthy');
    renameSync(join(dir(), 'moved.db'), dbPath);
    expect((await storage.healthCheck()).status).toBe('healthy');
    expect((await storage.getStorageStats()).conversation_count).toBe(1);
  });
});
