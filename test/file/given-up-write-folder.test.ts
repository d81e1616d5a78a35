/**
 * A conversation write stages its temp file (making the conversation's folder) before it takes
 * the conversation's lock. One that then gives up (its lock cannot be had) removes the folder
 * it made when nothing else is in it: until 2026-12-03 it left an empty folder in
 * `conversations/`, invisible here but litter in the user's store. Removed without the lock,
 * so a writer that loses a folder it just made must make it again (`openTemp`).
 */
import path from 'node:path';
import fse from 'fs-extra';
import { StorageError } from '../../src/index.js';
import { closeQuietly, writeTemp } from '../../src/backends/file/atomic-json.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import type { LockKindName } from '../../src/backends/file/lock-kinds.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** Puts a plain file where the store's locks folder is: every lock then fails at once (ENOTDIR). */
async function breakLocks(storage: FileStorage): Promise<() => Promise<void>> {
  const locks = path.join(storage.baseDir, '.connectome-storage', 'locks');
  await fse.remove(locks);
  await fse.writeFile(locks, 'not a folder');
  return async () => {
    await fse.remove(locks);
    await fse.ensureDir(locks);
  };
}

describe.each<LockKindName>(['range', 'folder'])(
  'a conversation write that cannot take its %s lock',
  (lockKind) => {
    it('leaves no folder it made, and the folders of others as they were', async () => {
      const storage = await openStore({}, { lockKind });
      const conversations = path.join(storage.baseDir, 'conversations');
      await storage.storeConversation('kept', { title: 'old' });
      const keptFiles = await fse.readdir(path.join(conversations, 'kept'));
      const repair = await breakLocks(storage);
      try {
        await expect(storage.storeConversation('fresh', { title: 'new' })).rejects.toThrow(StorageError);
        expect(await fse.readdir(conversations)).toEqual(['kept']);
        expect(await fse.readdir(path.join(conversations, 'kept'))).toEqual(keptFiles);
      } finally {
        await repair();
      }
      expect(await storage.loadConversation('kept')).toMatchObject({ title: 'old' });
    });
  },
);

it('a temp file whose new folder vanishes before the open makes the folder again', async () => {
  const root = await makeTempDir();
  const dir = path.join(root, 'conversations', 'c1');
  await fse.ensureDir(path.dirname(dir));
  let made = 0;
  const written = await writeTemp(path.join(dir, 'c1.tmp'), '{"a":1}', {
    pretty: false,
    createDirFirst: true,
    createDir: async () => {
      made += 1;
      await fse.ensureDir(dir);
      // What a write that gave up before its lock does meanwhile, twice.
      if (made <= 2) await fse.rmdir(dir);
      return [path.dirname(dir)];
    },
  });
  await closeQuietly(written.dirs);
  expect(made).toBe(3);
  expect(await fse.readFile(path.join(dir, 'c1.tmp'), 'utf8')).toBe('{"a":1}');
});
