/**
 * A write costs the trips through Node's thread pool of the durability-equal raw writer
 * (`bench/raw/file.ts`), plus only the changes it adds (a lock folder where range locks are not
 * used, a backup link) and a cache or state key's D3 name check (two look-ups of names that are
 * usually missing, which would wait on the folder's lock on the calling thread): its other
 * look-ups (`stat`s of the lock, the list file, the backups) and its closes are synchronous.
 * Each trip is a hand-off to a worker thread and back, which is what a write's time and CPU
 * are made of on a busy machine (the fsyncs aside).
 */
import fs from 'node:fs';
import path from 'node:path';
import { lockFs } from '../../src/backends/file/lock-fs.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

/** Asynchronous `fs` calls (callback, promise and file-handle methods) made from now on, by name. */
async function countPoolTrips(dir: string): Promise<() => string[]> {
  const calls: string[] = [];
  const spy = (target: object, name: string, label: string) => {
    const original = (target as Record<string, unknown>)[name];
    if (typeof original !== 'function') return;
    jest.spyOn(target as Record<string, (...args: unknown[]) => unknown>, name).mockImplementation(function (
      this: unknown,
      ...args: unknown[]
    ) {
      calls.push(label);
      return (original as (...args: unknown[]) => unknown).apply(this, args);
    });
  };
  const handle = await fs.promises.open(dir, 'r');
  const handleMethods = Object.getPrototypeOf(handle) as object;
  await handle.close();
  for (const name of Object.getOwnPropertyNames(handleMethods)) {
    if (name !== 'constructor' && name !== 'fd') spy(handleMethods, name, `handle.${name}`);
  }
  for (const name of Object.keys(fs.promises)) spy(fs.promises, name, `promises.${name}`);
  const callbackApi = Object.keys(fs).filter(
    (name) => !name.endsWith('Sync') && /^[a-z]/.test(name) && !/Stream|watch|promises|constants/.test(name),
  );
  for (const name of callbackApi) spy(fs, name, name);
  return () => calls.slice().sort();
}

/**
 * A durable write's trips: the raw writer makes 8 (open, write, sync, close the temp file;
 * rename; open, sync, close the folder). The library makes the temp file's `open`, `write` and
 * `fsync`, the `rename` and the folder's `fsync`; the closes (of a synced file, of a folder)
 * and the folder's `open` are made at once (see `fd-io.ts`).
 */
const RAW_WRITE = ['open', 'write', 'fsync', 'promises.rename', 'fsync'];
describe('thread-pool trips of a write', () => {
  it('storeCacheEntry of a new key makes the raw writer’s trips and its name check’s look-ups with a range lock', async () => {
    const storage = await openStore({}, { lockKind: 'range' });
    await storage.storeCacheEntry('warm', { n: 0 }); // folders made, name folding known
    const trips = await countPoolTrips(storage.baseDir);
    await storage.storeCacheEntry('fresh-key', { n: 1 });
    // Taking and freeing the lock are two synchronous calls on a descriptor kept open; the D3
    // name check's two look-ups of names that do not exist yet go through the pool (`existsSoon`).
    expect(trips()).toEqual([...RAW_WRITE, 'promises.lstat', 'promises.stat'].sort());
    jest.restoreAllMocks();
    expect(await storage.loadCacheEntry('fresh-key')).toEqual({ n: 1 });
  });

  it('storeCacheEntry of a new key makes the raw writer’s trips, its look-ups and the lock folder’s mkdir', async () => {
    const storage = await openStore({}, { lockKind: 'folder' });
    await storage.storeCacheEntry('warm', { n: 0 }); // folders made, name folding known
    const locksDir = path.join(storage.baseDir, '.connectome-storage', 'locks');
    const statted = jest.spyOn(fs, 'statSync');
    const trips = await countPoolTrips(storage.baseDir);
    await storage.storeCacheEntry('fresh-key', { n: 1 });
    // The lock folder is made through the pool; its `stat` is not. Lock folders are removed 10 ms
    // after their last use, off the calls' path (the warm-up's may fall in here on a busy machine).
    expect(trips().filter((call) => call !== 'rmdir')).toEqual(
      [...RAW_WRITE, 'mkdir', 'promises.lstat', 'promises.stat'].sort(),
    );
    expect(statted.mock.calls.map(([file]) => path.dirname(String(file)))).toContain(locksDir);
    jest.restoreAllMocks();
    expect(await storage.loadCacheEntry('fresh-key')).toEqual({ n: 1 });
  });
  it('storeMemory in a loop adds only its backup’s link and the pruning of the oldest one', async () => {
    // No search index: its segments are written 100 ms after a write, in the background, and a
    // loaded machine's delays put one in the counted write (a new segment folder's three
    // `mkdir`s); they are no trip of the write's.
    const storage = await openStore({ searchIndex: false });
    // Past `maxBackupFiles` (5): each write backs up the old file and removes the oldest backup.
    for (let n = 0; n < 8; n += 1) await storage.storeMemory('c1', `m${n}`, { n });
    const trips = await countPoolTrips(storage.baseDir);
    await storage.storeMemory('c1', 'm8', { n: 8 });
    expect(trips()).toEqual([...RAW_WRITE, 'promises.link', 'promises.unlink'].sort());
    jest.restoreAllMocks();
    expect(await storage.loadMemories('c1')).toHaveLength(9);
    const folder = await fs.promises.readdir(path.join(storage.baseDir, 'conversations', 'c1'));
    expect(folder.filter((name) => name.includes('.backup.'))).toHaveLength(5);
  });
});

describe('the lock folder calls', () => {
  it('report to their callback after the current tick, errors with their code', async () => {
    const dir = path.join(await makeTempDir(), 'x.lock');
    const outcome = (call: (done: (error: NodeJS.ErrnoException | null) => void) => void) =>
      new Promise<string>((resolve) => {
        let returned = false;
        call((error) => resolve(`${returned ? 'later' : 'same tick'}: ${error?.code ?? 'ok'}`));
        returned = true;
      });
    expect(await outcome((done) => lockFs.mkdir(dir, done))).toBe('later: ok');
    expect(await outcome((done) => lockFs.mkdir(dir, done))).toBe('later: EEXIST');
    expect(await outcome((done) => lockFs.rmdir(dir, done))).toBe('later: ok');
    expect(await outcome((done) => lockFs.stat(dir, done))).toBe('later: ENOENT');
  });
});
