/**
 * Loads of memories and reasoning chains keep the parsed list file while its identity (device,
 * inode, size, mtime) is unchanged: an unchanged file is not read again, any change another
 * writer makes is seen, a file changed within one clock tick of its read is never trusted, and
 * callers get copies they may change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CorruptDataError } from '../../src/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const chainsFile = (baseDir: string, agentId: string): string =>
  path.join(baseDir, 'agents', agentId, 'reasoning_chains.json');

/** A whole second `offsetSeconds` from now: it survives `utimes` exactly, so an identity can be restored. */
const wholeSecond = (offsetSeconds: number): Date =>
  new Date((Math.floor(Date.now() / 1000) + offsetSeconds) * 1000);

/** Records without the `stored_at` the store adds. */
const bare = (records: Record<string, unknown>[]): Record<string, unknown>[] =>
  records.map(({ stored_at: _storedAt, ...rest }) => rest);

/** Overwrites `file` in place with `text` of the same length and sets its mtime to `mtime`. */
function replaceInPlace(file: string, text: string, mtime: Date): void {
  expect(Buffer.byteLength(text)).toBe(fs.statSync(file).size);
  fs.writeFileSync(file, text);
  fs.utimesSync(file, mtime, mtime);
}

describe('file loads: kept list files', () => {
  it('does not read a settled chains or memories file again while its identity is unchanged', async () => {
    const s = await openStore({ searchIndex: false });
    await s.appendReasoningChains('a1', [{ step: 1 }, { step: 2 }, { step: 3 }]);
    await s.storeMemory('c1', 'm1', { text: 'one' });
    const chains = chainsFile(s.baseDir, 'a1');
    const memories = path.join(s.baseDir, 'conversations', 'c1', 'memories.json');
    const past = wholeSecond(-10);
    for (const file of [chains, memories]) fs.utimesSync(file, past, past);
    // Read (the identity changed with the mtime) and kept: the mtime is older than the read.
    expect(bare(await s.loadReasoningChains('a1', 2))).toEqual([{ step: 2 }, { step: 3 }]);
    expect(await s.loadMemories('c1')).toEqual([expect.objectContaining({ memory_id: 'm1' })]);
    // Same inode, size and mtime, content no longer JSON: only a read would notice.
    for (const file of [chains, memories]) replaceInPlace(file, 'x'.repeat(fs.statSync(file).size), past);
    expect(bare(await s.loadReasoningChains('a1', 2))).toEqual([{ step: 2 }, { step: 3 }]);
    expect(await s.loadMemories('c1')).toHaveLength(1);
    // A store that never read it reads it and reports it.
    const fresh = await openStore({ baseDir: s.baseDir, searchIndex: false });
    await expect(fresh.loadReasoningChains('a1', 2)).rejects.toBeInstanceOf(CorruptDataError);
  });

  it('sees a list file another writer rewrote in place or replaced', async () => {
    const s = await openStore({ searchIndex: false });
    await s.appendReasoningChains('a1', [{ step: 1 }, { step: 2 }]);
    expect(bare(await s.loadReasoningChains('a1'))).toEqual([{ step: 1 }, { step: 2 }]);
    // The Python reference rewrites in place (same inode), here with the same size and a new mtime.
    const file = chainsFile(s.baseDir, 'a1');
    const text = fs.readFileSync(file, 'utf8').replace('"step": 2', '"step": 7');
    replaceInPlace(file, text, wholeSecond(-20));
    expect(bare(await s.loadReasoningChains('a1'))).toEqual([{ step: 1 }, { step: 7 }]);
    // Another store (process) appends: a new file renamed in.
    const other = await openStore({ baseDir: s.baseDir, searchIndex: false });
    await other.storeReasoningChain('a1', { step: 3 });
    expect(bare(await s.loadReasoningChains('a1', 2))).toEqual([{ step: 7 }, { step: 3 }]);
    await other.deleteReasoningChains('a1');
    expect(bare(await s.loadReasoningChains('a1'))).toEqual([]);
  });

  it('does not keep a file whose mtime is too recent to tell two writes apart', async () => {
    const s = await openStore({ searchIndex: false });
    await s.appendReasoningChains('a1', [{ step: 1 }]);
    const file = chainsFile(s.baseDir, 'a1');
    // Written by someone else within the current clock tick: its mtime is not older than the read.
    const tick = wholeSecond(3);
    replaceInPlace(file, fs.readFileSync(file, 'utf8'), tick);
    expect(bare(await s.loadReasoningChains('a1'))).toEqual([{ step: 1 }]);
    // A second in-place write in the same tick, same size: the identity is the same as read above.
    const text = fs.readFileSync(file, 'utf8').replace('"step": 1', '"step": 5');
    replaceInPlace(file, text, tick);
    expect(bare(await s.loadReasoningChains('a1'))).toEqual([{ step: 5 }]);
  });

  it('hands out copies: changing a loaded record changes neither the file nor the next load', async () => {
    const s = await openStore({ searchIndex: false });
    await s.appendReasoningChains('a1', [{ step: 1, tags: ['x'] }]);
    await s.storeMemory('c1', 'm1', { text: 'one' });
    const [chain] = await s.loadReasoningChains('a1', 1);
    (chain?.tags as string[]).push('changed');
    const [memory] = await s.loadMemories('c1');
    if (memory !== undefined) memory.text = 'changed';
    const sequenced = await s.loadSequencedReasoningChains('a1');
    (sequenced[0]?.chain as { step: number }).step = 9;
    expect(bare(await s.loadReasoningChains('a1'))).toEqual([{ step: 1, tags: ['x'] }]);
    expect(await s.loadMemories('c1')).toEqual([expect.objectContaining({ text: 'one' })]);
  });
});
