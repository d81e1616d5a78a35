/**
 * Failure paths of the write machinery: a backup that fails half-way, a lock lost before the
 * commit, and a base folder removed while the store is open.
 */
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { atomicWriteJson } from '../../src/backends/file/atomic-json.js';
import { BackendUnavailableError, StorageError } from '../../src/core/index.js';
import { filesIn, isBackup, listTree, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

/** A `copyFile` that writes half of the source, then fails as a full disk would. */
function halfCopyThenFail(): jest.SpyInstance {
  return jest.spyOn(fse.promises, 'copyFile').mockImplementation(async (src, dest) => {
    const text = await fse.promises.readFile(src as string, 'utf8');
    await fse.promises.writeFile(dest as string, text.slice(0, text.length / 2));
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  });
}

describe('backups are written atomically', () => {
  it('never leaves a half-written backup when copying fails', async () => {
    const storage = await openStore();
    await storage.storeConversation('c1', { version: 1, text: 'x'.repeat(1000) });
    const copy = halfCopyThenFail();
    // A link is the old file itself; where links are unsupported the copy path is used.
    jest.spyOn(fse.promises, 'link').mockRejectedValue(Object.assign(new Error('EPERM'), { code: 'EPERM' }));
    await expect(storage.storeConversation('c1', { version: 2 })).rejects.toBeInstanceOf(StorageError);
    expect(copy).toHaveBeenCalled();
    const dir = path.join(storage.baseDir, 'conversations', 'c1');
    // Nothing backup-named and nothing temporary is left; the old version is intact.
    expect((await filesIn(dir)).filter((name) => name !== 'current.json')).toEqual([]);
    expect(await storage.loadConversation('c1')).toEqual({ version: 1, text: 'x'.repeat(1000) });
  });

  it('makes the backup from the old file itself (a hard link): no copy, the synced bytes', async () => {
    const storage = await openStore();
    await storage.storeConversation('c1', { version: 1 });
    const file = path.join(storage.baseDir, 'conversations', 'c1', 'current.json');
    const before = await fse.stat(file);
    const copy = jest.spyOn(fse.promises, 'copyFile');
    await storage.storeConversation('c1', { version: 2 });
    expect(copy).not.toHaveBeenCalled();
    const [backup] = (await filesIn(path.dirname(file))).filter(isBackup);
    const stat = await fse.stat(path.join(path.dirname(file), backup as string));
    expect(stat.ino).toBe(before.ino);
    expect(stat.nlink).toBe(1); // the new current.json is a new file, not shared with the backup
  });

  it('falls back to a durable copy where hard links are not supported', async () => {
    const storage = await openStore();
    await storage.storeSystemState('s', { version: 1 });
    jest.spyOn(fse.promises, 'link').mockRejectedValue(Object.assign(new Error('EPERM'), { code: 'EPERM' }));
    await storage.storeSystemState('s', { version: 2 });
    const system = path.join(storage.baseDir, 'system');
    const backups = (await filesIn(system)).filter(isBackup);
    expect(backups).toHaveLength(1);
    const text = await fse.readFile(path.join(system, backups[0] as string), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ state_key: 's', data: { version: 1 } });
    expect((await listTree(storage.baseDir)).filter((rel) => rel.endsWith('.tmp'))).toEqual([]);
  });
});

describe('atomicWriteJson', () => {
  it('runs the commit check after syncing and before the rename; a failing check leaves the old file', async () => {
    const storage = await openStore();
    const file = path.join(storage.baseDir, 'system', 'x.json');
    await atomicWriteJson(file, { v: 1 }, { pretty: true });
    const lost = new StorageError('Lost the lock');
    let synced = false;
    jest.spyOn(fse.promises, 'rename');
    const beforeCommit = () => {
      synced = true;
      throw lost;
    };
    await expect(atomicWriteJson(file, { v: 2 }, { pretty: true, beforeCommit })).rejects.toBe(lost);
    expect(synced).toBe(true);
    expect(fse.promises.rename).not.toHaveBeenCalled();
    expect(JSON.parse(await fse.readFile(file, 'utf8'))).toEqual({ v: 1 });
    expect(await filesIn(path.dirname(file))).toEqual(['x.json']);
  });

  it('fails the write when closing the synced temp file fails (as a network file system may), leaving the old file', async () => {
    const storage = await openStore();
    const file = path.join(storage.baseDir, 'system', 'x.json');
    await atomicWriteJson(file, { v: 1 }, { pretty: true });
    const close = fs.closeSync;
    const fsync = fs.fsync;
    let failed = false;
    // The first close after the temp file's fsync fails (the descriptor is closed all the same).
    jest.spyOn(fs, 'fsync').mockImplementationOnce(((fd: number, callback: (error: Error | null) => void) =>
      fsync(fd, (error) => {
        jest.spyOn(fs, 'closeSync').mockImplementationOnce((target: number) => {
          close(target);
          failed = true;
          throw Object.assign(new Error('EIO: i/o error, close'), { code: 'EIO' });
        });
        callback(error);
      })) as typeof fs.fsync);
    await expect(atomicWriteJson(file, { v: 2 }, { pretty: true })).rejects.toThrow(
      /Cannot write .*x\.json: EIO/,
    );
    expect(failed).toBe(true);
    expect(JSON.parse(await fse.readFile(file, 'utf8'))).toEqual({ v: 1 });
    expect(await filesIn(path.dirname(file))).toEqual(['x.json']);
  });
});

describe('base folder removed or unusable', () => {
  it('refuses writes with a StorageError instead of silently recreating a removed base folder', async () => {
    const storage = await openStore();
    await storage.storeConversation('c1', { a: 1 });
    await fse.remove(storage.baseDir);
    const writes = [
      () => storage.storeConversation('c2', { a: 2 }),
      () => storage.storeMemory('c2', 'm', { a: 2 }),
      () => storage.storeReasoningChain('agent', { a: 2 }),
      () => storage.storeCacheEntry('k', { a: 2 }),
      () => storage.storeSystemState('s', { a: 2 }),
    ];
    for (const write of writes) {
      const started = Date.now();
      const error: unknown = await write().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toContain(storage.baseDir);
      // At once: a missing folder is not a busy lock to wait for.
      expect(Date.now() - started).toBeLessThan(10_000); // not the 60 s lock wait
    }
    // A mount point whose volume went away must not fill up with a new, empty store.
    expect(await fse.pathExists(storage.baseDir)).toBe(false);
    // Loads of a vanished store find nothing; a listing that finds nothing says the store is gone.
    expect(await storage.loadConversation('c1')).toBeNull();
    await expect(storage.listConversations()).rejects.toThrow(BackendUnavailableError);
    await expect(storage.listConversations()).rejects.toThrow(storage.baseDir);
    expect((await storage.healthCheck()).status).toBe('unhealthy');
  });

  it('recreates a data folder removed under an existing base folder', async () => {
    const storage = await openStore();
    for (const name of ['cache', 'system', 'agents', 'conversations']) {
      await fse.remove(path.join(storage.baseDir, name));
    }
    await fse.remove(path.join(storage.baseDir, '.connectome-storage'));
    await storage.storeCacheEntry('k', { a: 1 });
    await storage.storeSystemState('s', { a: 1 });
    await storage.storeReasoningChain('agent', { a: 1 });
    await storage.storeMemory('c1', 'm', { a: 1 });
    expect(await storage.loadCacheEntry('k')).toEqual({ a: 1 });
    expect(await storage.loadSystemState('s')).toEqual({ a: 1 });
    expect(await storage.loadReasoningChains('agent')).toHaveLength(1);
    expect(await storage.loadMemories('c1')).toHaveLength(1);
  });

  it('fails initialize() with a StorageError naming the path when baseDir is a file', async () => {
    const storage = await openStore();
    const file = path.join(storage.baseDir, 'not-a-folder');
    await fse.writeFile(file, 'x');
    const error: unknown = await openStore({ baseDir: file }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain(file);
    expect(await fse.readFile(file, 'utf8')).toBe('x');
  });
});
