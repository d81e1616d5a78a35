/**
 * The folders a file store knows to exist are bounded, least recently written forgotten first:
 * a write into a known folder opens its temp file at once; into one not known (new, or
 * forgotten), it makes the folder first (a `mkdir` that finds it there when it exists). Until
 * 2026-12-03 the memory was cleared when full, so every folder paid that `mkdir` again.
 * Observed on `fs.promises.mkdir`, which the store's folder making calls (not replaced: the
 * real call runs).
 */
import fs from 'node:fs';
import path from 'node:path';
import { resetKnownDirsBound } from '../../src/backends/file/folder-files.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  resetKnownDirsBound();
  await shutdownAll();
});
afterAll(removeTempDirs);

/** Records the folder of every `fs.promises.mkdir` call from now on. */
function recordMkdirs(): string[] {
  const made: string[] = [];
  const real = fs.promises.mkdir.bind(fs.promises);
  jest.spyOn(fs.promises, 'mkdir').mockImplementation((dir, options) => {
    made.push(String(dir));
    return real(dir, options);
  });
  return made;
}

describe('folders a file store knows to exist', () => {
  it('past the bound, the folder written longest ago is made first again; recently written ones are not', async () => {
    resetKnownDirsBound(3);
    const storage = await openStore({ searchIndex: false });
    const conversations = path.join(storage.baseDir, 'conversations');
    const made = recordMkdirs();
    /** Whether a write into conversation `id` made (or tried to make) its folder first. */
    const makesFolder = async (id: string): Promise<boolean> => {
      made.length = 0;
      await storage.storeConversation(id, { id });
      return made.includes(path.join(conversations, id));
    };
    for (const id of ['c1', 'c2', 'c3']) expect(await makesFolder(id)).toBe(true);
    expect(await makesFolder('c1')).toBe(false); // known, and now the most recently written
    expect(await makesFolder('c4')).toBe(true); // a fourth folder: c2, written longest ago, goes
    expect(await makesFolder('c1')).toBe(false);
    expect(await makesFolder('c3')).toBe(false);
    expect(await makesFolder('c4')).toBe(false);
    expect(await makesFolder('c2')).toBe(true); // forgotten: a mkdir that finds it
    expect(await storage.loadConversation('c2')).toEqual({ id: 'c2' });
  });

  it('a known folder removed behind the store is made again by the next write', async () => {
    const storage = await openStore({ searchIndex: false });
    await storage.storeMemory('c1', 'm1', { n: 1 });
    fs.rmSync(path.join(storage.baseDir, 'conversations', 'c1'), { recursive: true });
    const made = recordMkdirs();
    await storage.storeMemory('c1', 'm2', { n: 2 });
    expect(made).toContain(path.join(storage.baseDir, 'conversations', 'c1'));
    expect((await storage.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['m2']);
  });
});
