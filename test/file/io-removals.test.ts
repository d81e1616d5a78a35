/**
 * Messages of the file backend's removals that fail on a real fault: a file or folder made
 * immutable (`chattr +i`), which even root may not unlink or rename (EPERM). Each names the
 * file or folder once, then the code, the system's words and the call; nothing stored is lost.
 * Without CAP_LINUX_IMMUTABLE the suite is skipped with a loud notice (`immutable.ts`).
 */
import path from 'node:path';
import { StorageError } from '../../src/core/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';
import { describeImmutable, makeImmutable as immutable } from './immutable.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** What `call` rejected with, checked to be a plain {@link StorageError} wrapping Node's EPERM. */
async function refused(call: Promise<unknown>): Promise<StorageError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  expect(((error as StorageError).cause as NodeJS.ErrnoException).code).toBe('EPERM');
  return error as StorageError;
}

describeImmutable('file backend removals that fail (EPERM)', () => {
  it('a cache entry whose file cannot be unlinked names the file once, then code, words and call', async () => {
    const store = await openStore();
    await store.storeCacheEntry('k', { v: 1 });
    const file = path.join(store.baseDir, 'cache', 'k.json');
    immutable(file);
    const error = await refused(store.deleteCacheEntry('k'));
    expect(error.message).toBe(`Cannot remove ${file}: EPERM, operation not permitted (unlink)`);
    expect(await store.loadCacheEntry('k')).toEqual({ v: 1 });
  });

  it('a state entry (a folder with backups) whose file cannot be unlinked says the same', async () => {
    const store = await openStore();
    await store.storeSystemState('s', { v: 1 });
    const file = path.join(store.baseDir, 'system', 's.json');
    immutable(file);
    const error = await refused(store.deleteSystemState('s'));
    expect(error.message).toBe(`Cannot remove ${file}: EPERM, operation not permitted (unlink)`);
    expect(await store.loadSystemState('s')).toEqual({ v: 1 });
  });

  it("a conversation's last memory whose file cannot be unlinked names the file once", async () => {
    // No backups: a backup is made in the same (immutable) folder first, and would fail first.
    const store = await openStore({ createBackups: false });
    await store.storeMemory('c1', 'm1', { text: 'x' });
    const dir = path.join(store.baseDir, 'conversations', 'c1');
    immutable(dir);
    const error = await refused(store.deleteMemory('c1', 'm1'));
    const file = path.join(dir, 'memories.json');
    expect(error.message).toBe(`Cannot remove ${file}: EPERM, operation not permitted (unlink)`);
    expect((await store.loadMemories('c1')).map((memory) => memory.memory_id)).toEqual(['m1']);
  });

  it('a conversation folder that cannot be moved to the trash names the folder once', async () => {
    const store = await openStore();
    await store.storeConversation('c1', { a: 1 });
    const dir = path.join(store.baseDir, 'conversations', 'c1');
    immutable(dir);
    const error = await refused(store.deleteConversation('c1'));
    expect(error.message).toBe(
      `Cannot delete conversation folder ${dir}: EPERM, operation not permitted (rename)`,
    );
    expect(await store.loadConversation('c1')).toEqual({ a: 1 });
  });
});
