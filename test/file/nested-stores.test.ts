/**
 * Stores whose `baseDir`s nest: another store opened on a conversation's or agent's folder of
 * this one (`<A>/conversations/x`, `<A>/agents/x`). A writable open inside an existing store's
 * data folders is refused; where one got there anyway (opened before the outer store), a call on
 * one store must never remove the other's data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, StorageError } from '../../src/core/index.js';
import { FileStorage } from '../../src/backends/file/index.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

describe('a store inside another store', () => {
  it("is not removed with the outer store's conversation of its folder's name", async () => {
    const outerDir = await makeTempDir();
    const innerDir = path.join(outerDir, 'conversations', 'x');
    // Inner first: a store opened on a folder already holding one inside it is not refused.
    const inner = await openStore({ baseDir: innerDir });
    const outer = await openStore({ baseDir: outerDir });
    await inner.storeConversation('kept', { title: 'inner data' });
    await inner.storeMemory('kept', 'm1', { text: 'inner memory' });
    await outer.storeMemory('x', 'm1', { text: 'outer memory' });

    const refused = await outer.deleteConversation('x').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StorageError);
    expect((refused as Error).message).toContain(innerDir);
    expect((refused as Error).message).toContain("another store's baseDir");

    expect(await inner.loadConversation('kept')).toEqual({ title: 'inner data' });
    expect(await inner.loadMemories('kept')).toEqual([expect.objectContaining({ text: 'inner memory' })]);
    expect(await inner.listAllConversationIds()).toEqual(['kept']);
    expect((await inner.getStorageStats()).conversation_count).toBe(1);
    // Nothing of the outer store's was taken either: the refusal removed nothing.
    expect(await outer.loadMemories('x')).toEqual([expect.objectContaining({ text: 'outer memory' })]);
  });

  it("keeps its data when the outer store deletes the agent of its folder's name", async () => {
    const outerDir = await makeTempDir();
    const inner = await openStore({ baseDir: path.join(outerDir, 'agents', 'x') });
    const outer = await openStore({ baseDir: outerDir });
    await inner.storeConversation('kept', { title: 'inner data' });
    await outer.storeReasoningChain('x', { step: 1 });

    expect(await outer.deleteReasoningChains('x')).toBe(true);
    expect(await outer.loadReasoningChains('x')).toEqual([]);
    expect(await inner.loadConversation('kept')).toEqual({ title: 'inner data' });
  });

  it('still deletes a conversation folder that is a link to another store', async () => {
    const outer = await openStore();
    const other = await openStore();
    await other.storeConversation('kept', { title: 'linked' });
    const link = path.join(outer.baseDir, 'conversations', 'x');
    await fs.promises.mkdir(path.dirname(link), { recursive: true });
    await fs.promises.symlink(other.baseDir, link);

    expect(await outer.deleteConversation('x')).toBe(true);
    expect(fs.existsSync(link)).toBe(false);
    expect(await other.loadConversation('kept')).toEqual({ title: 'linked' });
  });
});

/** The rejection of `initialize()` of a writable store on `baseDir`. */
async function refusedOpen(baseDir: string): Promise<unknown> {
  const store = new FileStorage({ baseDir });
  return store.initialize().then(
    async () => {
      await store.shutdown();
      return null;
    },
    (error: unknown) => error,
  );
}

describe('opening a store inside another store', () => {
  it.each([
    'conversations/x',
    'agents/x',
    'cache',
    'system/deeper/still',
    '.connectome-storage/x',
    'conversations',
  ])('fails with a ConfigError naming both folders on <store>/%s, creating nothing', async (relative) => {
    const outer = await openStore();
    const innerDir = path.join(outer.baseDir, ...relative.split('/'));
    const dataDir = path.join(outer.baseDir, relative.split('/')[0]!);
    const before = fs.readdirSync(dataDir).sort();

    const refused = await refusedOpen(innerDir);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).key).toBe('baseDir');
    expect((refused as Error).message).toContain(innerDir);
    expect((refused as Error).message).toContain(`of the store at ${outer.baseDir} `);
    expect(fs.readdirSync(dataDir).sort()).toEqual(before);
  });

  it('writes nothing into an existing folder it refuses', async () => {
    const outer = await openStore();
    const innerDir = path.join(outer.baseDir, 'conversations', 'x');
    await outer.storeConversation('x', { title: 'outer' });
    const before = fs.readdirSync(innerDir).sort();

    expect(await refusedOpen(innerDir)).toBeInstanceOf(ConfigError);
    expect(fs.readdirSync(innerDir).sort()).toEqual(before);
    expect(await outer.listAllConversationIds()).toEqual(['x']);
  });

  it('fails when a symbolic link leads into the data folders, naming the real path', async () => {
    const outer = await openStore();
    const link = path.join(await makeTempDir(), 'link');
    await fs.promises.symlink(path.join(outer.baseDir, 'conversations'), link);

    const refused = await refusedOpen(path.join(link, 'x'));
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain(path.join(link, 'x'));
    expect((refused as Error).message).toContain(path.join(outer.baseDir, 'conversations', 'x'));
    expect(fs.existsSync(path.join(outer.baseDir, 'conversations', 'x'))).toBe(false);
  });

  it('opens beside another store, in its other folders, and under a folder no store holds', async () => {
    const parent = await makeTempDir();
    const a = await openStore({ baseDir: path.join(parent, 'a') });
    const elsewhere = [
      path.join(parent, 'b'),
      path.join(a.baseDir, 'backups', 'x'),
      path.join(a.baseDir, 'conversations-old', 'x'),
      // A folder of that name outside any store is no data folder.
      path.join(parent, 'conversations', 'x'),
    ];
    for (const baseDir of elsewhere) {
      const store = await openStore({ baseDir });
      await store.storeConversation('c', { at: baseDir });
      expect(await store.loadConversation('c')).toEqual({ at: baseDir });
    }
    expect(await a.listAllConversationIds()).toEqual([]);
  });

  it('opens read-only a store already inside another, to copy its data out', async () => {
    const outerDir = await makeTempDir();
    const innerDir = path.join(outerDir, 'conversations', 'x');
    const inner = await openStore({ baseDir: innerDir });
    await inner.storeConversation('kept', { title: 'inner data' });
    await inner.shutdown();
    await openStore({ baseDir: outerDir });

    expect(await refusedOpen(innerDir)).toBeInstanceOf(ConfigError);
    const reader = await openStore({ baseDir: innerDir, readOnly: true });
    expect(await reader.loadConversation('kept')).toEqual({ title: 'inner data' });
  });
});
