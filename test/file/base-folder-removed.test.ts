/**
 * A store's base folder removed, or a file put at its path, after the store opened. Reads treat
 * a missing file or folder as nothing stored, so until 2026-12-06 `getStorageStats()` counted
 * zero of everything and every listing came back empty, an emptied store looking like a
 * healthy empty one, while `healthCheck()` reported it unhealthy. Stats and empty listings now
 * reject with a `BackendUnavailableError` naming the folder.
 */
import fs from 'node:fs';
import { BackendUnavailableError } from '../../src/core/index.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** A store holding one of each kind. */
async function filledStore(readOnly = false): Promise<FileStorage> {
  const writer = await openStore();
  await writer.storeConversation('c1', { a: 1 });
  await writer.storeReasoningChain('a1', { step: 1 });
  await writer.storeCacheEntry('k1', { v: 1 });
  await writer.storeSystemState('s1', { v: 1 });
  return readOnly ? openStore({ baseDir: writer.baseDir, readOnly: true }) : writer;
}

/** Every call that lists or counts the store's contents. */
const LISTINGS: Array<[string, (s: FileStorage) => Promise<unknown>]> = [
  ['getStorageStats', (s) => s.getStorageStats()],
  ['listConversations', (s) => s.listConversations()],
  ['listAllConversationIds', (s) => s.listAllConversationIds()],
  ['listAgents', (s) => s.listAgents()],
  ['listCacheKeys', (s) => s.listCacheKeys()],
  ['listSystemStateKeys', (s) => s.listSystemStateKeys()],
  ['purgeExpiredCache', (s) => s.purgeExpiredCache()],
  ['listUnlistedFiles', (s) => s.listUnlistedFiles()],
];

describe('file: the base folder gone under an open store', () => {
  it.each([
    ['removed', false, 'does not exist'],
    ['replaced by a file', false, 'is not a folder'],
    ['removed, read-only store', true, 'does not exist'],
  ])('%s: stats and listings reject naming the folder', async (how, readOnly, words) => {
    const storage = await filledStore(readOnly);
    const baseDir = storage.baseDir;
    fs.rmSync(baseDir, { recursive: true });
    if (how.startsWith('replaced')) fs.writeFileSync(baseDir, 'not a store');
    expect((await storage.healthCheck()).status).toBe('unhealthy');
    for (const [name, call] of LISTINGS) {
      if (readOnly && name === 'purgeExpiredCache') continue; // a write: refused read-only
      const error = await rejectionOf(call(storage));
      expect([name, error]).toEqual([name, expect.any(BackendUnavailableError)]);
      expect((error as Error).message).toContain(`File store base folder ${baseDir} ${words}`);
    }
    // Loads are not checked (see the README): an absent record, as before.
    expect(await storage.loadConversation('c1')).toBeNull();
  });

  it('writes fail naming the folder they cannot create', async () => {
    const storage = await filledStore();
    fs.rmSync(storage.baseDir, { recursive: true });
    await expect(storage.storeConversation('c2', { a: 2 })).rejects.toThrow(
      `the base folder ${storage.baseDir} is missing`,
    );
  });

  it('an empty store whose folder is there lists and counts nothing, as before', async () => {
    const storage = await openStore();
    expect(await storage.listConversations()).toEqual([]);
    expect(await storage.listCacheKeys()).toEqual([]);
    expect(await storage.purgeExpiredCache()).toBe(0);
    expect((await storage.getStorageStats()).conversation_count).toBe(0);
    // Data folders removed, the base folder there: empty, not unavailable.
    fs.rmSync(`${storage.baseDir}/conversations`, { recursive: true });
    expect(await storage.listAllConversationIds()).toEqual([]);
  });
});
