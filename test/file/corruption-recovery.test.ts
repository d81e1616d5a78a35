/** Corrupt files are reported with their path without making the rest unreadable; start-up cleans up after crashes. */
import path from 'node:path';
import fse from 'fs-extra';
import lockfile from 'proper-lockfile';
import { CorruptDataError } from '../../src/core/index.js';
import { tempEntryName } from '../../src/backends/file/temp-files.js';
import { deadPid, markCrashedWriter, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

async function expectCorrupt(promise: Promise<unknown>, file: string): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CorruptDataError);
  expect((error as CorruptDataError).location).toBe(file);
  expect((error as Error).message).toContain(file);
}

describe('corrupt files', () => {
  it('reports a corrupt memories.json with its path, keeps other conversations readable and refuses to overwrite it', async () => {
    const storage = await openStore();
    await storage.storeMemory('bad', 'm1', { a: 1 });
    await storage.storeMemory('good', 'm1', { a: 1 });
    const file = path.join(storage.baseDir, 'conversations', 'bad', 'memories.json');
    await fse.writeFile(file, '{"memories": [ {"memory_id": "m1"'); // cut off mid-write
    await expectCorrupt(storage.loadMemories('bad'), file);
    await expectCorrupt(storage.storeMemory('bad', 'm2', { a: 2 }), file);
    expect(await fse.readFile(file, 'utf8')).toBe('{"memories": [ {"memory_id": "m1"');
    expect(await storage.loadMemories('good')).toHaveLength(1);
    const stats = await storage.getStorageStats();
    expect(stats.memory_count).toBe(1);
    expect(stats.corrupt_files).toEqual(['conversations/bad/memories.json']);
  });

  it('reports a file with bytes that are not UTF-8 instead of loading or rewriting damaged text', async () => {
    const storage = await openStore();
    await storage.storeMemory('c1', 'm1', { text: 'ok' });
    const file = path.join(storage.baseDir, 'conversations', 'c1', 'memories.json');
    const damaged = Buffer.from((await fse.readFile(file, 'utf8')).replace('"ok"', '"o\u0000"'));
    damaged[damaged.indexOf(0)] = 0xff; // a byte that never occurs in UTF-8
    await fse.writeFile(file, damaged);
    await expectCorrupt(storage.loadMemories('c1'), file);
    await expectCorrupt(storage.storeMemory('c1', 'm2', { text: 'new' }), file);
    expect((await fse.readFile(file)).equals(damaged)).toBe(true);
  });

  it('treats JSON of the wrong shape as corrupt', async () => {
    const storage = await openStore();
    const dir = path.join(storage.baseDir, 'conversations', 'c1');
    await fse.ensureDir(dir);
    await fse.writeFile(path.join(dir, 'memories.json'), '{"memories": 5}');
    await fse.writeFile(path.join(dir, 'current.json'), '[1, 2]');
    await fse.writeFile(path.join(dir, 'raw_messages.json'), '{"messages": {}}');
    await expectCorrupt(storage.loadMemories('c1'), path.join(dir, 'memories.json'));
    await expectCorrupt(storage.loadConversation('c1'), path.join(dir, 'current.json'));
    await expectCorrupt(storage.loadRawMessages('c1'), path.join(dir, 'raw_messages.json'));
  });

  it('skips a corrupt cache or state file when listing, and throws for its own key', async () => {
    const storage = await openStore();
    await storage.storeCacheEntry('ok', { a: 1 });
    await storage.storeSystemState('ok', { a: 1 });
    const badCache = path.join(storage.baseDir, 'cache', 'broken.json');
    await fse.writeFile(badCache, 'not json');
    await fse.writeFile(path.join(storage.baseDir, 'system', 'broken.json'), '{"state_key": 7}');
    expect(await storage.listCacheKeys()).toEqual(['ok']);
    expect(await storage.listSystemStateKeys()).toEqual(['ok']);
    await expectCorrupt(storage.loadCacheEntry('broken'), badCache);
    expect(await storage.purgeExpiredCache()).toBe(0);
    expect((await storage.getStorageStats()).corrupt_files).toEqual([
      'cache/broken.json',
      'system/broken.json',
    ]);
    // A plain key owns its file: storing or deleting it replaces the broken one.
    await storage.storeCacheEntry('broken', { fixed: true });
    expect(await storage.loadCacheEntry('broken')).toEqual({ fixed: true });
    await storage.deleteSystemState('broken');
    expect(await storage.listSystemStateKeys()).toEqual(['ok']);
  });
});

describe('start-up clean-up after a killed process', () => {
  /** A pid that belonged to a process that has exited. */
  it('removes temp files, trash and stale locks of dead writers, and keeps live ones', async () => {
    const first = await openStore();
    const baseDir = first.baseDir;
    await first.storeMemory('c1', 'm1', { a: 1 });
    await first.shutdown();

    const dead = deadPid();
    // The dead writer's mark, as a writer killed mid-write leaves it.
    const mark = await markCrashedWriter(baseDir, dead);
    const asDead = (name: string) => name.replace(`-${process.pid}-`, `-${dead}-`);
    const conversation = path.join(baseDir, 'conversations', 'c1');
    const deadTemp = path.join(conversation, asDead(tempEntryName('memories.json')));
    const liveTemp = path.join(conversation, tempEntryName('memories.json'));
    const oldForeign = path.join(baseDir, 'cache', '.k.json.0badbeef-1-000000000000.tmp');
    const newForeign = path.join(baseDir, 'cache', '.k.json.0badbeef-2-000000000000.tmp');
    const deadTrash = path.join(
      baseDir,
      '.connectome-storage',
      'trash',
      asDead(tempEntryName('conversation')),
    );
    for (const file of [deadTemp, liveTemp, oldForeign, newForeign]) await fse.writeFile(file, '{"partial');
    await fse.outputFile(path.join(deadTrash, 'memories.json'), '{}');
    const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
    await fse.utimes(oldForeign, hourAgo, hourAgo);
    const staleLock = path.join(baseDir, '.connectome-storage', 'locks', 'f'.repeat(32));
    await fse.mkdir(`${staleLock}.lock`);
    await fse.utimes(`${staleLock}.lock`, hourAgo, hourAgo);
    const liveLock = path.join(baseDir, '.connectome-storage', 'locks', 'e'.repeat(32));
    const release = await lockfile.lock(liveLock, { realpath: false });

    const second = await openStore({ baseDir });
    expect(await fse.pathExists(deadTemp)).toBe(false);
    expect(await fse.pathExists(oldForeign)).toBe(false);
    expect(await fse.pathExists(deadTrash)).toBe(false);
    expect(await fse.pathExists(`${staleLock}.lock`)).toBe(false);
    expect(await fse.pathExists(liveTemp)).toBe(true);
    expect(await fse.pathExists(newForeign)).toBe(true);
    expect(await fse.pathExists(`${liveLock}.lock`)).toBe(true);
    expect(await fse.pathExists(mark)).toBe(false); // swept: forgotten
    await release();
    // Temp files are never taken for data.
    expect(await second.loadMemories('c1')).toHaveLength(1);
    expect(await second.listCacheKeys()).toEqual([]);
  });
});
