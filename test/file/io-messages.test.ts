/**
 * Messages of the file backend's errors from failed file-system calls, on real faults: a file
 * where a folder belongs (ENOTDIR), a folder where a file belongs (EISDIR), a full disk
 * (ENOSPC, on a private tmpfs). Each names the path once, then the code and the system's words,
 * with no "Error:" pasted in and no second (temp file's) path; the Node error is the `cause`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { StorageError } from '../../src/core/index.js';
import { describeWithSmallDisk, useSmallDisk } from '../support/small-disk.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** How often `part` occurs in `text`. */
function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

/** What `call` rejected with, checked to be a plain {@link StorageError} wrapping a Node error of `code`. */
async function failure(call: Promise<unknown>, code: string): Promise<StorageError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  expect(((error as StorageError).cause as NodeJS.ErrnoException).code).toBe(code);
  return error as StorageError;
}

/** The message names `named` once, no other path of the store, then `code` and the system's words. */
function expectTidy(error: StorageError, baseDir: string, named: string, code: string): void {
  const { message } = error;
  expect(message).not.toMatch(/Error:/);
  expect(message).toContain(`${named}: ${code}, `);
  expect(occurrences(message, named)).toBe(1);
  expect(occurrences(message, baseDir)).toBe(1);
  expect(message).not.toMatch(/\.tmp\b/);
}

describe('file backend error messages from failed file-system calls', () => {
  it('names the folder once when it is a file (ENOTDIR), not the temp file too', async () => {
    const store = await openStore();
    const folder = path.join(store.baseDir, 'conversations', 'c1');
    fs.writeFileSync(folder, 'not a folder');
    const error = await failure(store.storeMemory('c1', 'm1', { text: 'x' }), 'ENOTDIR');
    // Since 2026-12-04 it says what is wrong there, not "ENOTDIR, not a directory (open)".
    expect(error.message).toBe(
      `Cannot write in ${folder}: it is a file, not the folder this library keeps there; the file ` +
        'is left as it is (move it away to store data there)',
    );
    expect(error.message).not.toMatch(/\.tmp\b/);
  });

  it('names the file once when a folder stands where it is renamed to (EISDIR)', async () => {
    const store = await openStore();
    const file = path.join(store.baseDir, 'cache', 'k.json');
    fs.mkdirSync(path.join(file, 'inside'), { recursive: true });
    const error = await failure(store.storeCacheEntry('k', { v: 1 }), 'EISDIR');
    expectTidy(error, store.baseDir, file, 'EISDIR');
    expect(error.message).toContain('illegal operation on a directory (rename)');
  });

  it('names the new folder once when a file stands in its way', async () => {
    const store = await openStore();
    const agents = path.join(store.baseDir, 'agents');
    fs.rmSync(agents, { recursive: true });
    fs.writeFileSync(agents, 'not a folder');
    const error = await failure(store.storeReasoningChain('a1', { step: 1 }), 'ENOTDIR');
    const folder = error.message.match(/^Cannot create folder (\S+): /)?.[1] ?? '';
    expect(folder.startsWith(agents)).toBe(true);
    expectTidy(error, store.baseDir, folder, 'ENOTDIR');
  });

  it('a lock that cannot be taken names the lock, then the call and its path once', async () => {
    const store = await openStore();
    const locks = path.join(store.baseDir, '.connectome-storage', 'locks');
    fs.rmSync(locks, { recursive: true });
    fs.writeFileSync(locks, 'not a folder');
    try {
      const error = await failure(store.storeConversation('c1', { a: 1 }), 'ENOTDIR');
      expect(error.message).toMatch(/^Cannot lock conversation "c1": ENOTDIR, not a directory \(\w+ \//);
      expect(error.message).not.toMatch(/Error:/);
      expect(occurrences(error.message, store.baseDir)).toBe(1);
    } finally {
      fs.rmSync(locks);
    }
  });
});

describeWithSmallDisk()('file backend error messages on a full disk', () => {
  let store: FileStorage | undefined;
  // Declared first: the store lets go of the disk before it is unmounted.
  afterEach(async () => {
    await store?.shutdown();
    store = undefined;
  });
  const disk = useSmallDisk({ kb: 256, inodes: 100 });

  it('names the record file once, then ENOSPC and the system words', async () => {
    store = new FileStorage({ baseDir: path.join(disk().dir, 'store') });
    await store.initialize();
    disk().fillSpace(0);
    const file = path.join(store.baseDir, 'conversations', 'c1', 'current.json');
    const error = await failure(store.storeConversation('c1', { text: 'x'.repeat(64 * 1024) }), 'ENOSPC');
    expectTidy(error, store.baseDir, file, 'ENOSPC');
    expect(error.message).toMatch(/: ENOSPC, no space left on device \(\w+\)$/);
  });
});
