/**
 * A conversation write creates the conversation's folder and its temp file before it holds the
 * conversation's lock (see `staged-json.ts`), so the folder can appear at any moment, also
 * while another process deletes that conversation under the lock. A delete whose rename of the
 * folder found nothing must succeed: nothing of the id was stored at that moment, and the new
 * folder holds only the other write's temp file (that write lands after the delete, under the
 * lock). Until 2026-12-03 the delete looked again, found the folder and failed with
 * "Cannot delete conversation folder ...: ENOENT" (found by the multi-process conformance
 * suite, where one child died of it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

describe('file backend: deleteConversation while another process stages a write', () => {
  it('succeeds when the folder appears right after its rename found none', async () => {
    const storage = await openStore();
    const dir = path.join(storage.baseDir, 'conversations', 'c');
    const rename = fs.promises.rename.bind(fs.promises);
    let raced = false;
    jest.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
      try {
        return await rename(from, to);
      } finally {
        if (!raced && from === dir) {
          raced = true;
          // What the other process's write does before it holds the lock: the folder and a temp file.
          await fs.promises.mkdir(dir, { recursive: true });
          await fs.promises.writeFile(path.join(dir, '.current.json.staged.tmp'), '{}');
        }
      }
    });
    await expect(storage.deleteConversation('c')).resolves.toBe(true);
    expect(raced).toBe(true);
    jest.restoreAllMocks();
    // The other write then lands under the lock, after the delete.
    await storage.storeConversation('c', { v: 1 });
    expect(await storage.loadConversation('c')).toEqual({ v: 1 });
    expect(await storage.listConversations()).toEqual(['c']);
  });
});
