/**
 * Read-only opens of a file store change nothing in its folder: no folders, no lock or trash
 * folder, no health probe file, and crash leftovers stay for a writable open to remove.
 */
import { existsSync } from 'node:fs';
import { chmod, cp, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { ReadOnlyError } from '../../src/core/index.js';
import { FIXTURE_STORE, referenceExpectations } from '../support/reference-fixture.js';
import { useTempDir } from '../support/temp-dir.js';

/** Every entry under `root` with its size and modification time, sorted. */
async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  const described = await Promise.all(
    entries.map(async (entry) => {
      const info = await stat(join(root, entry));
      return `${relative(root, join(root, entry))} ${info.isDirectory() ? 'dir' : info.size} ${info.mtimeMs}`;
    }),
  );
  return described.sort();
}

describe('file backend: read-only opens', () => {
  const opened: FileStorage[] = [];
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
  });
  // After the stores close: jest runs afterEach hooks in the order they were registered.
  const dir = useTempDir();
  const open = async (baseDir: string, readOnly: boolean) => {
    const storage = new FileStorage({ baseDir, readOnly });
    opened.push(storage);
    await storage.initialize();
    return storage;
  };

  async function referenceCopy(): Promise<string> {
    const baseDir = join(dir(), 'storage_data');
    await cp(FIXTURE_STORE, baseDir, { recursive: true });
    // The fixture is read-only and cp keeps the modes.
    for (const entry of ['', ...(await readdir(baseDir, { recursive: true }))]) {
      const path = join(baseDir, entry);
      await chmod(path, (await stat(path)).isDirectory() ? 0o755 : 0o644);
    }
    return baseDir;
  }

  it('reads the reference store, reports health and stats, and leaves its tree as it was', async () => {
    const baseDir = await referenceCopy();
    const before = await tree(baseDir);
    const storage = await open(baseDir, true);
    const expected = referenceExpectations().file;
    for (const [id, value] of Object.entries(expected.conversations)) {
      // The reference hands its metadata back; this library strips it (D6).
      if (value === null) {
        expect(await storage.loadConversation(id)).toBeNull();
        continue;
      }
      const stored: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      delete stored._storage_metadata;
      expect(await storage.loadConversation(id)).toEqual(stored);
    }
    // Every other kind of read too.
    for (const id of await storage.listAllConversationIds()) {
      await storage.loadRawMessages(id);
      await storage.loadMemories(id);
      await storage.loadChunkInfo(id);
    }
    for (const agent of await storage.listAgents()) await storage.loadReasoningChains(agent, 1);
    for (const key of await storage.listCacheKeys())
      expect(await storage.loadCacheRecord(key)).not.toBeNull();
    for (const key of await storage.listSystemStateKeys())
      expect(await storage.loadSystemState(key)).not.toBeNull();
    expect(await storage.healthCheck()).toMatchObject({
      status: 'healthy',
      read_only: true,
      write_permissions: null,
    });
    expect(await storage.getStorageStats()).toMatchObject({ read_only: true, conversation_count: 3 });
    await expect(storage.storeConversation('new', {})).rejects.toThrow(ReadOnlyError);
    await storage.shutdown();
    expect(await tree(baseDir)).toEqual(before);
    expect(existsSync(join(baseDir, '.connectome-storage'))).toBe(false);
  });

  it('leaves crash leftovers alone (a writable open removes them)', async () => {
    const baseDir = await referenceCopy();
    const leftover = join(baseDir, 'cache', '.x.json.00000000-1-aaaaaaaaaaaa.tmp');
    await writeFile(leftover, 'half a write');
    const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
    await utimes(leftover, hourAgo, hourAgo);
    await open(baseDir, true);
    expect(existsSync(leftover)).toBe(true);
    await open(baseDir, false);
    expect(existsSync(leftover)).toBe(false);
  });

  it('opens an empty existing folder (a store with nothing in it yet) without creating its data folders', async () => {
    const storage = await open(dir(), true);
    expect(await storage.listAllConversationIds()).toEqual([]);
    expect(await storage.getStorageStats()).toMatchObject({ conversation_count: 0, cache_entry_count: 0 });
    expect(await storage.healthCheck()).toMatchObject({ status: 'healthy' });
    expect(await readdir(dir())).toEqual([]);
  });

  it('refuses a base folder that is a file', async () => {
    const file = join(dir(), 'not-a-folder');
    await writeFile(file, '');
    await expect(open(file, true)).rejects.toMatchObject({
      code: 'STORE_NOT_FOUND',
      message: expect.stringContaining('not a folder'),
    });
  });

  it('refuses a base folder under a file (ENOTDIR) as missing, not as an I/O error', async () => {
    const file = join(dir(), 'plain-file');
    await writeFile(file, '');
    await expect(open(join(file, 'store'), true)).rejects.toMatchObject({
      code: 'STORE_NOT_FOUND',
      message: expect.stringContaining('no such folder'),
    });
  });
});
