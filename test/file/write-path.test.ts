/**
 * The cheap write path keeps its guarantees: a list file (memories, chains) this process wrote
 * is not read back for the next update, yet a change by any other writer is seen; a lock used by
 * queued calls is taken once and freed soon after, and at shutdown.
 */
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import fne from 'fs-native-extensions';
import lockfile from 'proper-lockfile';
import { RANGE_LOCK_FILE } from '../../src/backends/file/lock-kinds.js';
import { recordingLogger } from '../support/recording-logger.js';
import { holdAllRangeLocks } from './range-lock-helpers.js';
import { countReadsOf, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lock folders (`*.lock`) in the store's locks folder. */
async function lockFolders(baseDir: string): Promise<string[]> {
  const dir = path.join(baseDir, '.connectome-storage', 'locks');
  return (await fse.readdir(dir))
    .filter((name) => name.endsWith('.lock'))
    .map((name) => path.join(dir, name));
}

describe('list files written by this process', () => {
  it('are not read back for the next memory or chain update', async () => {
    const storage = await openStore();
    const memories = path.join(storage.baseDir, 'conversations', 'c1', 'memories.json');
    const chains = path.join(storage.baseDir, 'agents', 'a1', 'reasoning_chains.json');
    await storage.storeMemory('c1', 'm0', { n: 0 });
    await storage.storeReasoningChain('a1', { n: 0 });
    const memoryReads = countReadsOf(memories);
    for (let n = 1; n <= 5; n += 1) await storage.storeMemory('c1', `m${n}`, { n });
    await storage.storeMemory('c1', 'm2', { n: 22 }); // an upsert in place
    await storage.deleteMemory('c1', 'm4');
    expect(memoryReads()).toBe(0);
    jest.restoreAllMocks();
    const chainReads = countReadsOf(chains);
    for (let n = 1; n <= 5; n += 1) await storage.storeReasoningChain('a1', { n });
    expect(chainReads()).toBe(0);
    jest.restoreAllMocks();
    const stored = await storage.loadMemories('c1');
    expect(stored.map((m) => [m.memory_id, m.n])).toEqual([
      ['m0', 0],
      ['m1', 1],
      ['m2', 22],
      ['m3', 3],
      ['m5', 5],
    ]);
    expect((await storage.loadReasoningChains('a1')).map((c) => c.n)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('take one replace for a memory delete batch, however many ids it names (one backup, one read at most)', async () => {
    const storage = await openStore({ maxBackupFiles: 50 });
    const folder = path.join(storage.baseDir, 'conversations', 'c1');
    const backups = async () => (await fse.readdir(folder)).filter((name) => name.includes('.backup')).length;
    await storage.storeMemories(
      'c1',
      Array.from({ length: 10 }, (_, n) => ({ memoryId: `m${n}`, data: { n } })),
    );
    const before = await backups();
    const reads = countReadsOf(path.join(folder, 'memories.json'));
    await expect(storage.deleteMemories('c1', ['m1', 'm3', 'absent', 'm5', 'm3', 'm7'])).resolves.toBe(6);
    expect(reads()).toBe(0);
    jest.restoreAllMocks();
    expect((await backups()) - before).toBe(1);
    expect((await storage.loadMemories('c1')).map((m) => m.memory_id)).toEqual([
      'm0',
      'm2',
      'm4',
      'm6',
      'm8',
      'm9',
    ]);
  });

  it('are read again once another writer changed them, in place or by a rename', async () => {
    const storage = await openStore();
    const other = await openStore({ baseDir: storage.baseDir }); // its own parsed copies
    const file = path.join(storage.baseDir, 'conversations', 'c1', 'memories.json');
    await storage.storeMemory('c1', 'm1', { n: 1 });
    // The Python reference rewrites the file in place (same inode, new size and mtime).
    const text = JSON.parse(await fse.readFile(file, 'utf8')) as { memories: Array<Record<string, unknown>> };
    text.memories.push({ memory_id: 'py', n: 'python', created_at: '2025-01-01T00:00:00' });
    fs.writeFileSync(file, JSON.stringify(text, null, 2));
    await storage.storeMemory('c1', 'm2', { n: 2 });
    // Another instance (as another process would) replaces it by a rename.
    await other.storeMemory('c1', 'm3', { n: 3 });
    await storage.storeMemory('c1', 'm4', { n: 4 });
    expect((await storage.loadMemories('c1')).map((m) => m.memory_id)).toEqual([
      'm1',
      'py',
      'm2',
      'm3',
      'm4',
    ]);
    await other.deleteConversation('c1');
    await storage.storeMemory('c1', 'm5', { n: 5 });
    expect((await storage.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['m5']);
    await other.storeMemory('c2', 'x', { n: 0 });
    await storage.storeMemory('c2', 'y', { n: 1 });
    expect((await other.loadMemories('c2')).map((m) => m.memory_id)).toEqual(['x', 'y']);
  });
});

describe('cross-process locks (folders) of back-to-back calls', () => {
  it('are taken once for a queue of calls, and freed soon after the last one', async () => {
    const storage = await openStore({}, { lockKind: 'folder' });
    await storage.storeMemory('c1', 'm0', { n: 0 });
    const taken = jest.spyOn(lockfile, 'lock');
    // Queued in this process: each call hands the lock to the next without freeing it.
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => storage.storeMemory('c1', `m${n}`, { n })));
    expect(taken.mock.calls.length).toBeLessThanOrEqual(1);
    expect(await storage.loadMemories('c1')).toHaveLength(7);
    const deadline = Date.now() + 5_000;
    while ((await lockFolders(storage.baseDir)).length > 0 && Date.now() < deadline) await sleep(10);
    expect(await lockFolders(storage.baseDir)).toEqual([]);
  });

  it('are freed at shutdown', async () => {
    const storage = await openStore({}, { lockKind: 'folder' });
    await Promise.all([
      storage.storeMemory('c1', 'm0', { n: 0 }),
      storage.storeReasoningChain('a1', { n: 0 }),
      storage.storeCacheEntry('k', { n: 0 }),
    ]);
    await storage.shutdown();
    expect(await lockFolders(storage.baseDir)).toEqual([]);
  });
});

describe('cross-process locks (byte ranges) of back-to-back calls', () => {
  /** Whether another descriptor could lock every byte now (no lock of the store is held). */
  const allFree = (baseDir: string): boolean => {
    try {
      holdAllRangeLocks(baseDir)();
      return true;
    } catch {
      return false;
    }
  };

  it('are taken once for a queue of calls, and freed soon after the last one', async () => {
    const storage = await openStore({}, { lockKind: 'range' });
    await storage.storeMemory('c1', 'm0', { n: 0 });
    const deadline = Date.now() + 5_000;
    while (!allFree(storage.baseDir) && Date.now() < deadline) await sleep(10);
    const taken = jest.spyOn(fne, 'tryLock');
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => storage.storeMemory('c1', `m${n}`, { n })));
    expect(taken.mock.calls.length).toBe(1);
    expect(await storage.loadMemories('c1')).toHaveLength(7);
    while (!allFree(storage.baseDir) && Date.now() < deadline) await sleep(10);
    expect(allFree(storage.baseDir)).toBe(true);
  });

  // Counts descriptors through /proc (Linux, where range locks are the platform's kind).
  const withProc = process.platform === 'linux' ? it : it.skip;
  withProc('are freed at shutdown, which closes the lock file (it stays)', async () => {
    const storage = await openStore({}, { lockKind: 'range' });
    const file = path.join(storage.baseDir, '.connectome-storage', 'locks', RANGE_LOCK_FILE);
    /** This process's descriptors open on the lock file. */
    const descriptors = (): number =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false; // closed meanwhile
        }
      }).length;
    await Promise.all([
      storage.storeMemory('c1', 'm0', { n: 0 }),
      storage.storeReasoningChain('a1', { n: 0 }),
      storage.storeCacheEntry('k', { n: 0 }),
    ]);
    expect(descriptors()).toBe(1);
    await storage.shutdown();
    expect(descriptors()).toBe(0);
    expect(allFree(storage.baseDir)).toBe(true);
    expect(await fse.readdir(path.dirname(file))).toEqual([RANGE_LOCK_FILE]);
  });

  it('turn into lock folders, logged once, when the file system refuses byte-range locks', async () => {
    const { logger, events } = recordingLogger();
    const storage = await openStore({ logger }, { lockKind: 'range' });
    const refused = jest.spyOn(fne, 'tryLock').mockImplementation(() => {
      throw Object.assign(new Error('no locks available'), { code: 'ENOLCK' });
    });
    const folders = jest.spyOn(lockfile, 'lock');
    await storage.storeMemory('c1', 'm0', { n: 0 });
    await storage.storeCacheEntry('k', { n: 1 });
    expect(refused).toHaveBeenCalledTimes(1);
    expect(folders).toHaveBeenCalledTimes(2);
    expect(await storage.loadMemories('c1')).toHaveLength(1);
    expect(events.filter((event) => event.message.includes('byte-range locks unavailable'))).toEqual([
      expect.objectContaining({
        level: 'warn',
        details: expect.objectContaining({ error: 'ENOLCK, no locks available' }),
      }),
    ]);
  });

  it('create the lock file with the locks folder’s read and write permissions (a group may share the store)', async () => {
    const storage = await openStore({}, { lockKind: 'range' });
    const locks = path.join(storage.baseDir, '.connectome-storage', 'locks');
    await fs.promises.chmod(locks, 0o770);
    await storage.storeMemory('c1', 'm0', { n: 0 });
    expect((await fs.promises.stat(path.join(locks, RANGE_LOCK_FILE))).mode & 0o777).toBe(0o660);
  });
});
