/**
 * `loadConversationBatch` and the cache batch reads on the file backend (synchronous reads,
 * see `batch-reads.ts` and `KeyedFiles.readMany`): corrupt files are reported as the single
 * reads report them, keys find their files by the single reads' D3 names, and a store whose
 * names fold reads through the single reads' twin check.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { FileStorage } from '../../src/backends/file/index.js';
import { CorruptDataError } from '../../src/core/index.js';
import { NTFS_LIKE, foldingEntryNames } from './folding-names.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

const opened: FileStorage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((storage) => storage.shutdown()));
  await shutdownAll();
});
afterAll(removeTempDirs);

async function corruptionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
}

describe('loadConversationBatch on files', () => {
  it('reports a corrupt, non-UTF-8, misshapen or folder-shaped file with its path, like the single reads', async () => {
    const storage = await openStore();
    const dir = (id: string) => path.join(storage.baseDir, 'conversations', id);
    await storage.storeConversation('good', { title: 'fine' });
    for (const id of ['cut', 'bytes', 'shape', 'folder']) await storage.storeMemory(id, 'm1', { a: 1 });
    await fse.writeFile(path.join(dir('cut'), 'memories.json'), '{"memories": [ {"memory_id": "m1"');
    await fse.writeFile(path.join(dir('bytes'), 'memories.json'), Buffer.from([0x7b, 0xff, 0x7d]));
    await fse.writeFile(path.join(dir('shape'), 'current.json'), '[1, 2]');
    await fse.ensureDir(path.join(dir('folder'), 'raw_messages.json'));
    const cases: Array<[string, string, () => Promise<unknown>]> = [
      ['cut', 'memories.json', () => storage.loadMemories('cut')],
      ['bytes', 'memories.json', () => storage.loadMemories('bytes')],
      ['shape', 'current.json', () => storage.loadConversation('shape')],
      ['folder', 'raw_messages.json', () => storage.loadRawMessages('folder')],
    ];
    for (const [id, name, single] of cases) {
      const file = path.join(dir(id), name);
      const batch = await corruptionOf(storage.loadConversationBatch(['good', id]));
      expect(batch).toBeInstanceOf(CorruptDataError);
      expect((batch as CorruptDataError).location).toBe(file);
      expect((batch as Error).message).toBe(((await corruptionOf(single())) as Error).message);
    }
    expect((await storage.loadConversationBatch(['good']))[0]?.conversation).toEqual({ title: 'fine' });
  });

  it('reads nothing for an id whose folder is a twin where names fold', async () => {
    const storage = new FileStorage(
      { baseDir: await makeTempDir() },
      { entryNames: foldingEntryNames(NTFS_LIKE) },
    );
    await storage.initialize();
    opened.push(storage);
    await storage.storeConversation('conv', { title: 'lower' });
    await storage.storeMemory('conv', 'm', { v: 1 });
    const [twin, own] = await storage.loadConversationBatch(['Conv', 'conv']);
    expect(twin).toEqual({
      conversationId: 'Conv',
      conversation: null,
      rawMessages: [],
      memories: [],
      chunkInfo: null,
    });
    expect(own?.conversation).toEqual({ title: 'lower' });
    expect(own?.memories.map((m) => m.memory_id)).toEqual(['m']);
  });
});

describe('loadCacheEntries and loadCacheRecords on files', () => {
  it('find each key where the single reads do: its own name, its hashed name, or none', async () => {
    const storage = await openStore();
    // `a b` and `a:b` both map to `a_b.json`: the second key written takes its hashed name.
    const keys = ['a_b', 'a b', 'a:b', 'plain', 'x'.repeat(300), 'ünï cödé'];
    for (const [i, key] of keys.entries()) await storage.storeCacheEntry(key, { key, i }, 600);
    await storage.storeCacheRecord('old', {
      data: { v: 0 },
      storedAt: '2020-01-01T00:00:00+00:00',
      expiresAt: '2020-01-02T00:00:00+00:00',
    });
    const asked = [...keys, 'missing', 'old', 'a b'];
    const singles = [];
    for (const key of asked) singles.push(await storage.loadCacheEntry(key));
    expect(await storage.loadCacheEntries(asked)).toEqual(singles);
    expect(singles.slice(0, keys.length)).toEqual(keys.map((key, i) => ({ key, i })));
    const records = [];
    for (const key of asked) records.push(await storage.loadCacheRecord(key));
    expect(await storage.loadCacheRecords(asked)).toEqual(records);
    expect(records.at(-2)).toBeNull(); // expired
  });

  it('report a corrupt cache file with its path, like the single read', async () => {
    const storage = await openStore();
    await storage.storeCacheEntry('good', { v: 1 });
    await storage.storeCacheEntry('bad', { v: 2 });
    const file = path.join(storage.baseDir, 'cache', 'bad.json');
    await fse.writeFile(file, '{"key": "bad", "data": ');
    const single = await corruptionOf(storage.loadCacheEntry('bad'));
    const batch = await corruptionOf(storage.loadCacheEntries(['good', 'bad']));
    expect(batch).toBeInstanceOf(CorruptDataError);
    expect((batch as CorruptDataError).location).toBe(file);
    expect((batch as Error).message).toBe((single as Error).message);
    expect(await storage.loadCacheEntries(['good'])).toEqual([{ v: 1 }]);
  });

  it('read case twins as the single reads do where names fold', async () => {
    const storage = new FileStorage(
      { baseDir: await makeTempDir() },
      { entryNames: foldingEntryNames(NTFS_LIKE) },
    );
    await storage.initialize();
    opened.push(storage);
    await storage.storeCacheEntry('Key', { v: 'upper' });
    await storage.storeCacheEntry('key', { v: 'lower' });
    const asked = ['key', 'KEY', 'Key'];
    const singles = [];
    for (const key of asked) singles.push(await storage.loadCacheEntry(key));
    expect(singles).toEqual([{ v: 'lower' }, null, { v: 'upper' }]);
    expect(await storage.loadCacheEntries(asked)).toEqual(singles);
  });
});
