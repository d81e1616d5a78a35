/**
 * One writer per file vector folder: a second instance (in this process or another) is refused
 * at open, and a log changed behind an open store's back is never written over.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as lockKinds from '../../src/backends/file/lock-kinds.js';
import { CorruptDataError, FileVectorStore, StorageError, VectorStoreInUseError } from '../../src/index.js';
import { lockVectorFolder, writerLockEntry } from '../../src/semantic/vector-stores/file/writer-lock.js';
import { useTempDir } from '../support/temp-dir.js';
import { signatureOf } from './vector-fixtures.js';

const sig = signatureOf(3);
const CHILD = join('test', 'semantic', 'vector-writer.child.ts');

describe('file vector store writers', () => {
  const opened: FileVectorStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  // After the stores close: jest runs afterEach hooks in the order they were registered.
  const base = useTempDir('connectome-vector-writers-');

  function make(baseDir = base()): FileVectorStore {
    const store = new FileVectorStore({ baseDir });
    opened.push(store);
    return store;
  }

  test('a second instance on the folder is refused at open (and at reset) until the first closes', async () => {
    const first = make();
    await first.ensureIndex(sig);
    await first.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    const second = make();
    const refused = second.ensureIndex(sig);
    await expect(refused).rejects.toBeInstanceOf(VectorStoreInUseError);
    await expect(refused).rejects.toMatchObject({ location: first.dir, code: 'BACKEND_UNAVAILABLE' });
    await expect(second.reset(sig)).rejects.toBeInstanceOf(VectorStoreInUseError);
    // The first one still works, and what it wrote is what the second finds once it may open.
    await first.upsert([{ id: 'b', vector: [0, 1, 0], kind: 'memory' }]);
    await first.close();
    await second.ensureIndex(sig);
    expect(await second.count()).toBe(2);
    await second.upsert([{ id: 'c', vector: [0, 0, 1], kind: 'memory' }]);
  });

  test('a second instance reaching the folder through a symlink is refused too', async () => {
    const real = join(base(), 'real');
    const link = join(base(), 'link');
    await mkdir(real);
    await symlink(real, link, 'dir');
    const first = make(real);
    await first.ensureIndex(sig);
    await first.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    const second = make(link);
    const refused = second.ensureIndex(sig);
    await expect(refused).rejects.toBeInstanceOf(VectorStoreInUseError);
    await expect(refused).rejects.toMatchObject({ location: second.dir });
    await first.close();
    await second.ensureIndex(sig);
    expect(await second.count()).toBe(1);
  });

  test('a log that grew behind the store is never written over: the write fails and changes nothing', async () => {
    const store = make();
    await store.ensureIndex(sig);
    await store.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    const log = join(store.dir, 'log-1.bin');
    // What another writer's frame would look like to this store: bytes it did not write.
    await appendFile(log, Buffer.from('another writer'));
    const before = await readFile(log);
    const write = store.upsert([{ id: 'b', vector: [0, 1, 0], kind: 'memory' }]);
    await expect(write).rejects.toBeInstanceOf(CorruptDataError);
    await expect(write).rejects.toMatchObject({ location: log });
    expect((await readFile(log)).equals(before)).toBe(true);
    await expect(store.delete(['a'])).rejects.toBeInstanceOf(CorruptDataError);
    expect(await store.count()).toBe(1);
  });

  test('a writer in another process holds the folder; its lock goes with its process', async () => {
    const dir = base();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_, signal) => resolve(signal)),
    );
    try {
      // The child printed a committed batch: it has the folder open for writing.
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
      });
      const store = make();
      await expect(store.ensureIndex(signatureOf(32))).rejects.toBeInstanceOf(VectorStoreInUseError);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const after = make();
    await after.ensureIndex(signatureOf(32));
    expect(await after.count()).toBeGreaterThanOrEqual(10);
  }, 60_000);
});

describe('file vector writer lock within one process', () => {
  const base = useTempDir('connectome-vector-writer-lock-');
  afterEach(() => jest.restoreAllMocks());

  test('knows a folder reached through a symlink as the folder it holds, whatever the cross-process lock says', async () => {
    // A cross-process lock that grants every take, as one process's shared lock file does: the
    // in-process check alone must then refuse the second taker.
    jest.spyOn(lockKinds, 'crossProcessLocks').mockReturnValue({
      tryTake: () => Promise.resolve(() => Promise.resolve()),
      close: () => undefined,
    });
    const real = join(base(), 'real');
    const link = join(base(), 'link');
    await mkdir(real);
    await symlink(real, link, 'dir');
    const held = await lockVectorFolder(real);
    const refused = lockVectorFolder(link);
    await expect(refused).rejects.toBeInstanceOf(VectorStoreInUseError);
    await expect(refused).rejects.toMatchObject({ location: link });
    await held.release();
    await (await lockVectorFolder(link)).release();
  });

  test('a folder that is not there is a StorageError naming it', async () => {
    const missing = join(base(), 'missing');
    await expect(lockVectorFolder(missing)).rejects.toHaveProperty(
      'message',
      `Cannot lock vector store ${missing}: ENOENT, no such file or directory (realpath)`,
    );
  });

  test('a lock file that cannot be opened names the folder, then the call with the lock file', async () => {
    const dir = base();
    const entry = join(dir, writerLockEntry());
    await mkdir(join(entry, 'inside'), { recursive: true }); // a folder where the lock file goes
    const error = await lockVectorFolder(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    const { message } = error as StorageError;
    expect(message).toMatch(
      new RegExp(`^Cannot lock vector store ${dir}: E[A-Z]+, [^:]+ \\(\\w+ ${entry}\\)$`),
    );
    expect(message).not.toMatch(/Error:/);
    expect(message.split(dir).length - 1).toBe(2); // the folder, then the call's path
  });
});
