/**
 * Group commit of folder fsyncs: concurrent writes into one of the store's fixed folders share
 * fsyncs of it, yet no write is acknowledged before an fsync that started after its own rename
 * (the one that makes the rename durable) has finished.
 */
import path from 'node:path';
import fs from 'node:fs';
import { BatchPartiallyAppliedError, StorageError } from '../../src/index.js';
import { openDir, syncAndCloseDir } from '../../src/backends/file/durable-dirs.js';
import { setFolderSyncIo } from '../../src/backends/file/folder-sync.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  jest.restoreAllMocks();
  setFolderSyncIo(null);
  await shutdownAll();
});
afterAll(removeTempDirs);

/** One event of the trace, numbered in the order it happened. */
interface Traced {
  at: number;
}

/**
 * Records every folder fsync (start and end, by folder) and every rename (when it finished, by
 * target), calling through to the real ones; each fsync is slowed by `fsyncMs` so that writes
 * pile up behind a running one.
 */
function traceSyncs(fsyncMs: number, failFirst = false) {
  let clock = 0;
  const dirOf = new Map<number, string>();
  const fsyncs: { dir: string; start: number; end: number }[] = [];
  const renamed = new Map<string, Traced>();
  let failed = !failFirst;
  setFolderSyncIo({
    open: async (dir) => {
      const handle = await openDir(dir);
      if (handle !== null) dirOf.set(handle, dir);
      return handle;
    },
    syncAndClose: async (handle) => {
      const dir = handle === null ? '?' : (dirOf.get(handle) ?? '?');
      const start = ++clock;
      await sleep(fsyncMs);
      if (!failed) {
        failed = true;
        if (handle !== null) fs.closeSync(handle);
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      }
      await syncAndCloseDir(handle);
      fsyncs.push({ dir, start, end: ++clock });
    },
  });
  const rename = fs.promises.rename.bind(fs.promises);
  jest.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
    await rename(from, to);
    renamed.set(String(to), { at: ++clock });
  });
  // Unlinks go in `renamed` too, by the removed file: a removal is made durable the same way.
  const unlink = fs.promises.unlink.bind(fs.promises);
  jest.spyOn(fs.promises, 'unlink').mockImplementation(async (file) => {
    await unlink(file);
    renamed.set(String(file), { at: ++clock });
  });
  return { fsyncs, renamed, now: () => ++clock };
}

describe('folder fsyncs shared by concurrent writes', () => {
  it('serve many cache writes with a few fsyncs, each acknowledged only after one that began after its rename', async () => {
    const storage = await openStore({ searchIndex: false });
    const cacheDir = path.join(storage.baseDir, 'cache');
    const trace = traceSyncs(15);
    const acked = new Map<string, number>();
    const keys = Array.from({ length: 64 }, (_, i) => `key-${i}`);
    await Promise.all(
      keys.map(async (key, i) => {
        await storage.storeCacheEntry(key, { i });
        acked.set(key, trace.now());
      }),
    );
    const cacheSyncs = trace.fsyncs.filter((sync) => sync.dir === cacheDir);
    // Grouped: far fewer fsyncs of the folder than writes into it (one each before).
    expect(cacheSyncs.length).toBeGreaterThan(0);
    expect(cacheSyncs.length).toBeLessThanOrEqual(keys.length / 4);
    for (const key of keys) {
      const rename = trace.renamed.get(path.join(cacheDir, `${key}.json`));
      expect(rename).toBeDefined();
      const ack = acked.get(key) as number;
      // Some fsync of the folder started after the rename and ended before the acknowledgement.
      const covering = cacheSyncs.filter((sync) => sync.start > (rename as Traced).at && sync.end < ack);
      expect({ key, covered: covering.length > 0 }).toEqual({ key, covered: true });
    }
    for (const [i, key] of keys.entries()) expect(await storage.loadCacheEntry(key)).toEqual({ i });
  });

  it('a sequential write still syncs the folder itself, once', async () => {
    const storage = await openStore({ searchIndex: false });
    const trace = traceSyncs(0);
    await storage.storeSystemState('state-1', { v: 1 });
    const systemDir = path.join(storage.baseDir, 'system');
    expect(trace.fsyncs.filter((sync) => sync.dir === systemDir)).toHaveLength(1);
  });

  it('report a failed fsync to every write that waited for it, naming its file', async () => {
    const storage = await openStore({ searchIndex: false });
    traceSyncs(15, true);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => storage.storeCacheEntry(`k${i}`, { i })),
    );
    const failures = results.filter((result) => result.status === 'rejected');
    // The first write's round failed; writes of later rounds may have succeeded.
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      const reason = (failure as PromiseRejectedResult).reason as Error;
      expect(reason).toBeInstanceOf(StorageError);
      expect(reason.message).toMatch(/sync folder of .*cache.*k\d\.json.*EIO/);
    }
  });

  it('serve a cache batch with one fsync, after all its renames and before it resolves', async () => {
    const storage = await openStore({ searchIndex: false });
    const cacheDir = path.join(storage.baseDir, 'cache');
    const trace = traceSyncs(15);
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`);
    await storage.storeCacheEntries(keys.map((key, i) => ({ key, data: { i } })));
    const resolved = trace.now();
    const cacheSyncs = trace.fsyncs.filter((sync) => sync.dir === cacheDir);
    expect(cacheSyncs).toHaveLength(1);
    const sync = cacheSyncs[0] as { start: number; end: number };
    const renames = keys.map((key) => trace.renamed.get(path.join(cacheDir, `${key}.json`))?.at ?? Infinity);
    expect(Math.max(...renames)).toBeLessThan(sync.start);
    expect(sync.end).toBeLessThan(resolved);
    expect(await storage.loadCacheEntries(keys)).toEqual(keys.map((_, i) => ({ i })));
  });

  it('report nothing of a cache batch written when its fsync fails, naming a file', async () => {
    const storage = await openStore({ searchIndex: false });
    traceSyncs(0, true);
    const error = await storage
      .storeCacheEntries(Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, data: { i } })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).not.toBeInstanceOf(BatchPartiallyAppliedError);
    expect((error as Error).message).toMatch(/sync folder of .*cache.*k\d\.json.*EIO/);
  });

  it('serve a cache delete batch with one fsync, after all its unlinks and before it resolves', async () => {
    const storage = await openStore({ searchIndex: false });
    const cacheDir = path.join(storage.baseDir, 'cache');
    const keys = Array.from({ length: 100 }, (_, i) => `key-${i}`);
    await storage.storeCacheEntries(keys.map((key, i) => ({ key, data: { i } })));
    const trace = traceSyncs(15);
    // Until 2026-12-05 no batch delete: one unshared folder fsync per key.
    await storage.deleteCacheEntries([...keys, 'never stored']);
    const resolved = trace.now();
    const cacheSyncs = trace.fsyncs.filter((sync) => sync.dir === cacheDir);
    expect(cacheSyncs).toHaveLength(1);
    const sync = cacheSyncs[0] as { start: number; end: number };
    const unlinks = keys.map((key) => trace.renamed.get(path.join(cacheDir, `${key}.json`))?.at ?? Infinity);
    expect(Math.max(...unlinks)).toBeLessThan(sync.start);
    expect(sync.end).toBeLessThan(resolved);
    expect(await storage.listCacheKeys()).toEqual([]);
  });

  it('report nothing of a cache delete batch removed when its fsync fails', async () => {
    const storage = await openStore({ searchIndex: false });
    await storage.storeCacheEntries(Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, data: { i } })));
    traceSyncs(0, true);
    const error = await storage
      .deleteCacheEntries(Array.from({ length: 8 }, (_, i) => `k${i}`))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).not.toBeInstanceOf(BatchPartiallyAppliedError);
    expect((error as Error).message).toMatch(/sync folder .*cache.*EIO/);
    expect(await storage.listCacheKeys()).toEqual([]); // the unlinks happened, unconfirmed
  });
});
