/**
 * A write's temp file is written and synced while its lock is still being taken (the fsync
 * overlaps the wait), yet nothing becomes visible before the lock is held, and a write that never
 * gets its lock leaves no temp file behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import fne from 'fs-native-extensions';
import lockfile from 'proper-lockfile';
import { StorageError } from '../../src/index.js';
import { isTempEntryName } from '../../src/backends/file/temp-files.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import type { LockKindName } from '../../src/backends/file/lock-kinds.js';
import { holdAllRangeLocks } from './range-lock-helpers.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Temp files in `dir` whose content is complete JSON (a staged write that finished). */
async function completeTempFiles(dir: string): Promise<unknown[]> {
  const found: unknown[] = [];
  for (const name of (await fse.readdir(dir)).filter(isTempEntryName)) {
    try {
      found.push(JSON.parse(await fse.readFile(path.join(dir, name), 'utf8')));
    } catch {
      // still being written, or renamed meanwhile
    }
  }
  return found;
}

/** The kinds of cross-process lock; each suite below runs on both. */
const LOCK_KINDS: LockKindName[] = ['range', 'folder'];

/**
 * Makes every cross-process lock of `storage` wait until the returned function is called: a
 * range lock held from another descriptor (once the store's own lease is gone), or a gate in
 * front of proper-lockfile.
 */
async function holdLocks(kind: LockKindName, storage: FileStorage): Promise<() => void> {
  if (kind === 'range') {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return holdAllRangeLocks(storage.baseDir);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(5); // the store still holds a lease of its own
      }
    }
  }
  const take = lockfile.lock.bind(lockfile);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  jest.spyOn(lockfile, 'lock').mockImplementation(async (...args: Parameters<typeof lockfile.lock>) => {
    await gate;
    return take(...args);
  });
  return open;
}

/**
 * Makes taking any lock of `kind` fail for a reason other than "held": `EACCES` for a lock
 * folder, `EIO` for a range lock (where `EACCES` means held).
 */
function failLocks(kind: LockKindName): void {
  if (kind === 'folder') {
    const denied = Object.assign(new Error('no permission'), { code: 'EACCES' });
    jest.spyOn(lockfile, 'lock').mockRejectedValue(denied);
    return;
  }
  jest.spyOn(fne, 'tryLock').mockImplementation(() => {
    throw Object.assign(new Error('i/o error'), { code: 'EIO' });
  });
}

const KINDS: Array<[string, string, (s: FileStorage, key: string, data: { n: number }) => Promise<unknown>]> =
  [
    ['cache entry', 'cache', (s, key, data) => s.storeCacheEntry(key, data, 3600)],
    ['system state', 'system', (s, key, data) => s.storeSystemState(key, data)],
  ];

describe.each(LOCK_KINDS)('a cache or state write waiting for its %s lock', (lockKind) => {
  it.each(KINDS)(
    'has its %s written to a temp file meanwhile, visible only once locked',
    async (_kind, folder, store) => {
      const storage = await openStore({}, { lockKind });
      const dir = path.join(storage.baseDir, folder);
      const release = await holdLocks(lockKind, storage);
      const write = store(storage, 'k1', { n: 1 });
      const deadline = Date.now() + 10_000;
      let staged: unknown[] = [];
      while (staged.length === 0 && Date.now() < deadline) {
        await sleep(5);
        staged = await completeTempFiles(dir);
      }
      expect(staged).toEqual([expect.objectContaining({ data: { n: 1 } })]);
      expect(await fse.pathExists(path.join(dir, 'k1.json'))).toBe(false);
      release();
      await write;
      expect((await fse.readdir(dir)).filter(isTempEntryName)).toEqual([]);
      const loaded =
        folder === 'cache' ? await storage.loadCacheEntry('k1') : await storage.loadSystemState('k1');
      expect(loaded).toEqual({ n: 1 });
    },
  );

  it.each(KINDS)('leaves no temp file when the lock cannot be had (%s)', async (_kind, folder, store) => {
    const storage = await openStore({}, { lockKind });
    const dir = path.join(storage.baseDir, folder);
    failLocks(lockKind);
    await expect(store(storage, 'k1', { n: 1 })).rejects.toThrow(StorageError);
    expect(await fse.readdir(dir)).toEqual([]);
  });
});

describe.each(LOCK_KINDS)('a conversation write waiting for its %s lock', (lockKind) => {
  it('has its file written to a temp file in the new folder meanwhile, visible only once locked', async () => {
    const storage = await openStore({}, { lockKind });
    const dir = path.join(storage.baseDir, 'conversations', 'c1');
    const release = await holdLocks(lockKind, storage);
    const write = storage.storeConversation('c1', { title: 'one' });
    const deadline = Date.now() + 10_000;
    let staged: unknown[] = [];
    while (staged.length === 0 && Date.now() < deadline) {
      await sleep(5);
      if (await fse.pathExists(dir)) staged = await completeTempFiles(dir);
    }
    expect(staged).toEqual([expect.objectContaining({ title: 'one' })]);
    expect(await storage.listConversations()).toEqual([]);
    release();
    await write;
    expect((await fse.readdir(dir)).filter(isTempEntryName)).toEqual([]);
    expect(await storage.loadConversation('c1')).toMatchObject({ title: 'one' });
  });

  it('is written again when a delete took the folder (and the temp file) away meanwhile', async () => {
    const storage = await openStore({}, { lockKind });
    await storage.storeConversation('c1', { title: 'old' });
    // The lock that store kept for a moment (its lease) must be gone, so the next store waits.
    const locks = path.join(storage.baseDir, '.connectome-storage', 'locks');
    const freed = Date.now() + 10_000;
    while ((await fse.readdir(locks)).some((name) => name.endsWith('.lock')) && Date.now() < freed) {
      await sleep(5);
    }
    // (A range lock: `holdLocks` waits for the lease.)
    const dir = path.join(storage.baseDir, 'conversations', 'c1');
    const release = await holdLocks(lockKind, storage);
    const write = storage.storeConversation('c1', { title: 'new' });
    const deadline = Date.now() + 10_000;
    while ((await completeTempFiles(dir)).length === 0 && Date.now() < deadline) await sleep(5);
    // What a delete by another process does: the whole folder goes at once, the temp file with it.
    await fse.move(dir, path.join(storage.baseDir, '.connectome-storage', 'trash', 'deleted'));
    release();
    await expect(write).resolves.toBe(true);
    expect(await storage.loadConversation('c1')).toMatchObject({ title: 'new' });
    expect((await fse.readdir(dir)).filter(isTempEntryName)).toEqual([]);
  });
});

/**
 * Counts `fstat` calls on the descriptors of new files (a write's `fstat` of its temp file, made
 * synchronously on its descriptor); reads `fstat` their descriptors too, and are not counted.
 */
async function countHandleStats(_dir: string): Promise<() => number> {
  const originalOpen = fs.open;
  const originalFstat = fs.fstatSync;
  const originalClose = fs.closeSync;
  const written = new Set<number>();
  let stats = 0;
  jest.spyOn(fs, 'open').mockImplementation(((file: fs.PathLike, flags: unknown, ...rest: unknown[]) => {
    const callback = rest.pop() as (error: NodeJS.ErrnoException | null, fd: number) => void;
    (originalOpen as (...args: unknown[]) => void)(
      file,
      flags,
      ...rest,
      (error: NodeJS.ErrnoException | null, fd: number) => {
        if (!error && flags === 'wx') written.add(fd);
        callback(error, fd);
      },
    );
  }) as typeof fs.open);
  jest.spyOn(fs, 'fstatSync').mockImplementation(((...args: Parameters<typeof fs.fstatSync>) => {
    if (written.has(args[0])) stats += 1;
    return originalFstat(...args);
  }) as typeof fs.fstatSync);
  jest.spyOn(fs, 'closeSync').mockImplementation(((fd: number) => {
    written.delete(fd);
    originalClose(fd);
  }) as typeof fs.closeSync);
  return () => stats;
}

describe('the identity of a staged write', () => {
  it.each([
    ['conversation', (s: FileStorage, n: number) => s.storeConversation('c1', { n })],
    ['system state', (s: FileStorage, n: number) => s.storeSystemState('k1', { n })],
  ] as const)('of a %s is taken only when the write backed up an old file', async (kind, store) => {
    const storage = await openStore({ searchIndex: false });
    const stats = await countHandleStats(await makeTempDir());
    await store(storage, 1); // a new file: no backup, no fstat
    expect(stats()).toBe(0);
    await store(storage, 2); // backs up the first: the backups remember the new file's identity
    expect(stats()).toBe(1);
    await store(storage, 3);
    expect(stats()).toBe(2);
    const folder = kind === 'conversation' ? path.join('conversations', 'c1') : 'system';
    const names = await fse.readdir(path.join(storage.baseDir, folder));
    expect(names.filter((name) => name.includes('.backup.'))).toHaveLength(2);
  });

  it('of a conversation write is not taken without backups', async () => {
    const storage = await openStore({ searchIndex: false, createBackups: false });
    const stats = await countHandleStats(await makeTempDir());
    for (let n = 0; n < 3; n += 1) await storage.storeConversation('c1', { n });
    expect(stats()).toBe(0);
    expect(await storage.loadConversation('c1')).toMatchObject({ n: 2 });
  });
});
