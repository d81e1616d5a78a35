/**
 * The file backend's stats count a list file (raw messages, memories, chains) again only when
 * its identity (device, inode, size, mtime) changed since this store wrote or counted it: an
 * unchanged file is not read, and any change another writer makes is seen.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const memoriesFile = (baseDir: string, id: string): string =>
  path.join(baseDir, 'conversations', id, 'memories.json');

/** Overwrites `file` in place with `text` of the same length and puts its mtime back: same identity. */
function replaceKeepingIdentity(file: string, text: string, mtime: Date): void {
  expect(Buffer.byteLength(text)).toBe(fs.statSync(file).size);
  fs.writeFileSync(file, text);
  fs.utimesSync(file, mtime, mtime);
}

describe('file stats: record counts', () => {
  it('does not read a list file again while its identity is the one counted', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'one' });
    await s.storeMemory('c1', 'm2', { text: 'two' });
    const file = memoriesFile(s.baseDir, 'c1');
    // A whole-second mtime survives utimes exactly, so the identity can be restored below.
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 5000);
    fs.utimesSync(file, mtime, mtime);
    expect((await s.getStorageStats()).memory_count).toBe(2);
    // Same inode, size and mtime, content no longer JSON: only a read would notice.
    replaceKeepingIdentity(file, 'x'.repeat(fs.statSync(file).size), mtime);
    const stats = await s.getStorageStats();
    expect(stats.memory_count).toBe(2);
    expect(stats.corrupt_files).toEqual([]);
    // A store that never counted it reads it and reports it.
    const fresh = await openStore({ baseDir: s.baseDir });
    expect((await fresh.getStorageStats()).corrupt_files).toEqual(['conversations/c1/memories.json']);
  });

  it('counts again a list file another writer changed or replaced', async () => {
    const s = await openStore({ searchIndex: false });
    await s.storeRawMessages('c1', ['a', 'b', 'c']);
    await s.appendReasoningChains('a1', [{ step: 1 }, { step: 2 }]);
    let stats = await s.getStorageStats();
    expect([stats.raw_message_count, stats.reasoning_chain_count]).toEqual([3, 2]);
    // The Python reference rewrites in place (same inode): the size and mtime change.
    const raw = path.join(s.baseDir, 'conversations', 'c1', 'raw_messages.json');
    const value = JSON.parse(fs.readFileSync(raw, 'utf8')) as { messages: unknown[] };
    value.messages.push('d');
    fs.writeFileSync(raw, JSON.stringify(value));
    // Another store (process) appends a chain: a new file renamed in.
    const other = await openStore({ baseDir: s.baseDir, searchIndex: false });
    await other.storeReasoningChain('a1', { step: 3 });
    stats = await s.getStorageStats();
    expect([stats.raw_message_count, stats.reasoning_chain_count]).toEqual([4, 3]);
    await s.deleteConversation('c1');
    expect((await s.getStorageStats()).raw_message_count).toBe(0);
  });
});
