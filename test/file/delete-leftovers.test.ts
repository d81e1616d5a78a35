/**
 * A delete of a whole record whose file goes away (an agent's chains, a state key, a cache key,
 * a conversation) leaves no copy of the deleted data anywhere under the store's folder: it makes
 * no backup and removes the file's backups. Until 2026-12-06 a chains delete (a trim to 0)
 * backed up every chain it deleted, and a state delete left the key's older values in its
 * backups. Overwrites, partial deletes included, are still backed up.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FileStorage } from '../../src/backends/file/index.js';
import { isBackup, listTree, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** The files under `baseDir` whose bytes hold `secret`. */
async function filesHolding(baseDir: string, secret: string): Promise<string[]> {
  const files = await listTree(baseDir);
  return files.filter((rel) => fs.readFileSync(path.join(baseDir, rel)).includes(secret));
}

/** Stores each kind's record three times (two backups each), every version holding its secret. */
async function storeAll(storage: FileStorage): Promise<void> {
  for (let n = 1; n <= 3; n += 1) {
    await storage.storeReasoningChain('agent', { secret: `CHAIN-SECRET-${n}` });
    await storage.storeSystemState('state', { secret: `STATE-SECRET-${n}` });
    await storage.storeSystemState('state/odd', { secret: `ODD-SECRET-${n}` }); // not a plain key
    await storage.storeCacheEntry('cache', { secret: `CACHE-SECRET-${n}` });
    await storage.storeCacheEntry('batch', { secret: `BATCH-SECRET-${n}` });
    await storage.storeConversation('conv', { secret: `CONV-SECRET-${n}` });
  }
}

async function deleteAll(storage: FileStorage): Promise<void> {
  await storage.deleteReasoningChains('agent');
  await storage.deleteSystemState('state');
  await storage.deleteSystemState('state/odd');
  await storage.deleteCacheEntry('cache');
  await storage.deleteCacheEntries(['batch']);
  await storage.deleteConversation('conv');
}

describe.each([
  ['backups on', {}],
  ['createBackups: false, over backups an earlier open made', { createBackups: false }],
])('a whole-record delete (%s)', (_label, config) => {
  it('leaves no file holding the deleted data, and the records are gone', async () => {
    const first = await openStore();
    await storeAll(first);
    expect((await listTree(first.baseDir)).filter(isBackup)).not.toEqual([]);
    await first.shutdown();

    const storage = await openStore({ ...config, baseDir: first.baseDir });
    await deleteAll(storage);
    expect(await filesHolding(storage.baseDir, 'SECRET')).toEqual([]);
    expect(await storage.listAgents()).toEqual([]);
    expect(await storage.listSystemStateKeys()).toEqual([]);
    expect(await storage.listCacheKeys()).toEqual([]);
    expect(await storage.listAllConversationIds()).toEqual([]);
    expect(fs.existsSync(path.join(storage.baseDir, 'agents', 'agent'))).toBe(false);
  });
});

describe('a whole-record delete cut short after the file went (a crash)', () => {
  it('never shows the data as live, and run again removes the backups left', async () => {
    const storage = await openStore();
    await storeAll(storage);
    // What a crash right after the file's unlink leaves: the backups, not the file.
    fs.unlinkSync(path.join(storage.baseDir, 'agents', 'agent', 'reasoning_chains.json'));
    fs.unlinkSync(path.join(storage.baseDir, 'system', 'state.json'));
    await storage.shutdown();

    const reopened = await openStore({ baseDir: storage.baseDir });
    expect(await reopened.loadReasoningChains('agent')).toEqual([]);
    expect(await reopened.loadSystemState('state')).toBeNull();
    expect(await reopened.listSystemStateKeys()).toEqual(['state/odd']);
    await reopened.deleteReasoningChains('agent');
    await reopened.deleteSystemState('state');
    expect(await filesHolding(reopened.baseDir, 'CHAIN-SECRET')).toEqual([]);
    expect(await filesHolding(reopened.baseDir, 'STATE-SECRET')).toEqual([]);
    expect(await reopened.loadSystemState('state/odd')).toEqual({ secret: 'ODD-SECRET-3' });
  });
});

describe('what a delete leaves of other data', () => {
  it("keeps other agents' and keys' files and backups, and backs up a partial delete", async () => {
    const storage = await openStore();
    await storeAll(storage);
    for (let n = 1; n <= 2; n += 1) {
      await storage.storeReasoningChain('other', { secret: `KEPT-${n}` });
      await storage.storeSystemState('state2', { secret: `KEPT-STATE-${n}` });
    }
    await storage.storeMemory('conv2', 'm1', { secret: 'MEMORY-1' });
    await storage.storeMemory('conv2', 'm2', { secret: 'MEMORY-2' });
    await deleteAll(storage);
    await storage.deleteMemory('conv2', 'm1'); // an overwrite of memories.json: backed up
    const other = await filesHolding(storage.baseDir, 'KEPT-1'); // the file and its backup
    expect(other.map((rel) => (isBackup(rel) ? 'backup' : rel))).toEqual([
      'backup',
      'agents/other/reasoning_chains.json',
    ]);
    expect((await filesHolding(storage.baseDir, 'KEPT-STATE-1')).filter(isBackup)).toHaveLength(1);
    // The backups of storing m2 and of deleting m1.
    expect((await filesHolding(storage.baseDir, 'MEMORY-1')).filter(isBackup)).toHaveLength(2);
    expect(await storage.loadMemories('conv2')).toMatchObject([{ memory_id: 'm2' }]);
  });
});
