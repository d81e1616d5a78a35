/**
 * Log and health details of the file backend on real file-system faults: the `error` of a
 * search index segment that could not be removed, and of a `disk_usage` that cannot be read,
 * is the code, the system's words and the call, with no "Error:" pasted in and no path (the
 * entry names its file or folder in its own field); so is the logged refusal of byte-range
 * locks, whose native errors come from Node's realm, and the old copy of a key that could not be
 * removed. A lost lock's log entry names the lock, then the code and words with the call's path.
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import fne from 'fs-native-extensions';
import { FileLocks } from '../../src/backends/file/file-lock.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import { hashedKeyFileName } from '../../src/backends/file/layout.js';
import { ioReason } from '../../src/backends/io-reason.js';
import { StorageError } from '../../src/core/index.js';
import { type LoggedEvent, recordingLogger } from '../support/recording-logger.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterEach(() => jest.restoreAllMocks());
afterAll(removeTempDirs);

/** Waits for the segments `s` still has to write (a write queues its segment for the background). */
async function flushed(s: FileStorage): Promise<void> {
  await (s as unknown as { textIndex: { flush(): Promise<void> } | null }).textIndex?.flush();
}

/** Resolves once `events` holds an entry `match` accepts (polled; a lock folder is refreshed every 5 s). */
async function loggedSoon(events: LoggedEvent[], match: (event: LoggedEvent) => boolean): Promise<void> {
  for (let waited = 0; !events.some(match) && waited < 30_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('file backend log and health details from failed file-system calls', () => {
  it('a search index segment that cannot be removed (EISDIR) logs the segment, then code and words', async () => {
    const { logger, events } = recordingLogger();
    const store = await openStore({ logger });
    await store.storeMemory('c1', 'm1', { text: 'hello world' });
    await flushed(store);
    const dir = path.join(store.baseDir, '.connectome-storage', 'search', 'memories');
    const [name] = fs.readdirSync(dir);
    const segment = path.join(dir, name as string);
    // A folder where the segment file was: its unlink fails with EISDIR.
    fs.rmSync(segment);
    fs.mkdirSync(path.join(segment, 'inside'), { recursive: true });

    await store.deleteConversation('c1');
    await flushed(store);

    const failed = events.filter((event) => event.message.includes('search index segment'));
    expect(failed).toEqual([
      {
        level: 'warn',
        message: 'file storage: could not remove a search index segment; the next search rebuilds it',
        details: { file: segment, error: 'EISDIR, illegal operation on a directory (unlink)' },
      },
    ]);
  });

  it('a disk_usage that cannot be read (base folder gone: ENOENT) reports code and words only', async () => {
    const store = await openStore();
    fs.rmSync(store.baseDir, { recursive: true });
    const report = await store.healthCheck();
    expect(report.base_directory).toBe(store.baseDir);
    expect(report.disk_usage).toEqual({ error: 'ENOENT, no such file or directory (statfs)' });
  });

  it('byte-range locks refused with an error of another realm log its code and words, no "Error:"', async () => {
    const { logger, events } = recordingLogger();
    const store = await openStore({ logger }, { lockKind: 'range' });
    // The native module throws errors made in Node's realm, which fail `instanceof Error` here
    // (no file system at hand refuses range locks: the refusal is the module's answer).
    const refusal = Object.assign(vm.runInNewContext('new Error("no locks available")') as object, {
      code: 'ENOLCK',
    });
    const refused = jest.spyOn(fne, 'tryLock').mockImplementation(() => {
      throw refusal;
    });
    await store.storeMemory('c1', 'm1', { n: 1 });
    expect(refused).toHaveBeenCalledTimes(1);
    expect(await store.loadMemories('c1')).toHaveLength(1);
    const logged = events.filter((event) => event.message.includes('byte-range locks unavailable'));
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'warn',
        details: {
          locks: path.join(store.baseDir, '.connectome-storage', 'locks'),
          error: 'ENOLCK, no locks available',
        },
      }),
    ]);
  });

  it('a lost lock logs the lock, then code, words and the call with its path; its holder is told', async () => {
    const { logger, events } = recordingLogger();
    const locks = new FileLocks(await makeTempDir(), undefined, logger, 'folder');
    const lostLog = (lock: string) => (event: LoggedEvent) =>
      event.message.includes('lost a lock') && event.details?.lock === lock;
    // Two ways another process ends up with a lock folder this one holds: it removed the folder
    // (stat fails), or it took the lock over (the folder's mtime is no longer the one set here).
    // Either is found at the holder's next refresh of the folder, half the stale time after.
    const removed = 'conversation "c1"';
    const removedFolder = `${locks.targetFor(removed)}.lock`;
    const takenOver = 'conversation "c2"';
    const held = (name: string, steal: () => void) =>
      locks.run(name, async (assertHeld) => {
        steal();
        await loggedSoon(events, lostLog(name));
        return (() => assertHeld()) as () => void;
      });
    const [afterRemoval, afterTakeover] = await Promise.all([
      held(removed, () => fs.rmdirSync(removedFolder)),
      held(takenOver, () => {
        const folder = `${locks.targetFor(takenOver)}.lock`;
        fs.utimesSync(folder, new Date(1_000_000), new Date(1_000_000));
      }),
    ]);
    await locks.releaseIdle();

    const words = `ECOMPROMISED, ENOENT: no such file or directory (stat ${removedFolder})`;
    const message = 'file storage: lost a lock (its holder stalled past the stale time)';
    expect(events.filter(lostLog(removed))).toEqual([
      { level: 'error', message, details: { lock: removed, error: words } },
    ]);
    expect(events.filter(lostLog(takenOver))).toEqual([
      {
        level: 'error',
        message,
        details: { lock: takenOver, error: 'ECOMPROMISED, Unable to update lock within the stale threshold' },
      },
    ]);
    // The write under a lost lock is refused with the same words, the lock named once.
    expect(afterRemoval).toThrow(`Lost the lock on ${removed}: ${words}`);
    expect(afterTakeover).toThrow(
      `Lost the lock on ${takenOver}: ECOMPROMISED, Unable to update lock within the stale threshold`,
    );
  });

  it('an old copy of a key that cannot be removed (EISDIR) logs its path, then code, words and call', async () => {
    const { logger, events } = recordingLogger();
    const store = await openStore({ logger });
    // `x:y` is not a plain key: its reference name `x_y.json` is free, so it is written there and
    // its copy at the hashed name removed; a folder stands there, which unlink refuses.
    const hashed = path.join(store.baseDir, 'cache', hashedKeyFileName('x:y'));
    fs.mkdirSync(path.join(hashed, 'inside'), { recursive: true });

    await store.storeCacheEntry('x:y', { v: 1 });

    expect(await store.loadCacheEntry('x:y')).toEqual({ v: 1 });
    expect(events.filter((event) => event.message.includes('old copy'))).toEqual([
      {
        level: 'warn',
        message: 'file storage: could not remove the old copy of a key moved to its reference name',
        details: { path: hashed, error: 'EISDIR, illegal operation on a directory (unlink)' },
      },
    ]);
  });

  it('an error of ours is given by its message: its code (STORAGE_ERROR) is no system code', () => {
    // Called directly: each failed call logged today hands over Node's error (the old copy's
    // removal above hands over the cause of the error it throws).
    const cause = Object.assign(new Error("ENOTDIR: not a directory, mkdir '/x/y'"), {
      code: 'ENOTDIR',
      syscall: 'mkdir',
      path: '/x/y',
    });
    const wrapped = new StorageError(`Cannot create folder /x/y: ${ioReason(cause)}`, { cause });
    expect(ioReason(wrapped)).toBe('Cannot create folder /x/y: ENOTDIR, not a directory (mkdir)');
  });
});
