/**
 * Stores whose `baseDir`s nest: another store opened on a conversation's or agent's folder of
 * this one (`<A>/conversations/x`, `<A>/agents/x`). A call on one store must never remove the
 * other's data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StorageError } from '../../src/core/index.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

describe('a store inside another store', () => {
  it("is not removed with the outer store's conversation of its folder's name", async () => {
    const outerDir = await makeTempDir();
    const outer = await openStore({ baseDir: outerDir });
    const innerDir = path.join(outerDir, 'conversations', 'x');
    const inner = await openStore({ baseDir: innerDir });
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
    const outer = await openStore({ baseDir: outerDir });
    const inner = await openStore({ baseDir: path.join(outerDir, 'agents', 'x') });
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
