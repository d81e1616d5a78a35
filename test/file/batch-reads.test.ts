/**
 * `loadConversationBatch` on the file backend (synchronous reads, see `batch-reads.ts`):
 * corrupt files are reported as the single reads report them, and a store whose names fold
 * reads through the single reads' twin check.
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
