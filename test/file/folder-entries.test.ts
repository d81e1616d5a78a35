/**
 * A conversation or agent folder is made by the first write into it, which fsyncs
 * `conversations/` (or `agents/`) so the folder's own entry is on disk. A writer that finds the
 * folder already there cannot tell whether its maker did that: one that gave up, or was killed,
 * between its `mkdir` and that fsync leaves a folder a power failure could take away, with every
 * acknowledged write made into it since. Until 2026-12-03 such a writer never fsynced the
 * parent; now the first write into a folder in a process does (once: later ones do not), and so
 * does a write into a folder another process deleted and made again. Observed on the module's
 * own fsync helper (`fd-io.ts`), by the path of each descriptor synced.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { resetKnownEntries } from '../../src/backends/file/durable-entries.js';
import * as fdIo from '../../src/backends/file/fd-io.js';
import { StorageError } from '../../src/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  resetKnownEntries();
  await shutdownAll();
});
afterAll(removeTempDirs);

/** Records the path of every descriptor fsynced through `fsyncFd` from now on (Linux: `/proc/self/fd`). */
function recordSyncs(): string[] {
  const synced: string[] = [];
  const real = fdIo.fsyncFd;
  jest.spyOn(fdIo, 'fsyncFd').mockImplementation((fd) => {
    synced.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
    return real(fd);
  });
  return synced;
}

/** Runs `script` in another Node process, which gets `dir` as `process.argv[1]`. */
function inOtherProcess(script: string, dir: string): void {
  execFileSync(process.execPath, ['-e', script, dir], { stdio: 'pipe' });
}

/** What a writer killed after its `mkdir` and its temp file leaves: a folder never synced into its parent. */
const KILLED_WRITER = `
const fs = require('fs');
fs.mkdirSync(process.argv[1]);
fs.writeFileSync(process.argv[1] + '/.current.json.killed.tmp', '{"half":');
process.kill(process.pid, 'SIGKILL');`;

const describeLinux = process.platform === 'linux' ? describe : describe.skip;

describeLinux('a folder this process did not make has its own entry synced', () => {
  it('left by a writer killed before its fsync (another process): the first write syncs conversations/, later ones do not', async () => {
    const storage = await openStore({ searchIndex: false });
    const conversations = path.join(storage.baseDir, 'conversations');
    expect(() => inOtherProcess(KILLED_WRITER, path.join(conversations, 'c1'))).toThrow();
    const synced = recordSyncs();
    await storage.storeConversation('c1', { title: 'acknowledged' });
    expect(synced).toContain(conversations);
    synced.length = 0;
    await storage.storeConversation('c1', { title: 'again' });
    await storage.storeMemory('c1', 'm1', { n: 1 });
    // Once per folder per process: the entry is known to be on disk now.
    expect(synced).not.toContain(conversations);
    expect(synced).toContain(path.join(conversations, 'c1'));
  });

  it('left by a write of this process that gave up before its lock (its rmdir failed)', async () => {
    const storage = await openStore({ searchIndex: false });
    const conversations = path.join(storage.baseDir, 'conversations');
    const locks = path.join(storage.baseDir, '.connectome-storage', 'locks');
    await fse.remove(locks);
    await fse.writeFile(locks, 'not a folder'); // every lock fails at once
    // Another writer's temp file in the folder, or a kill, keeps the folder: as if rmdir failed.
    const rmdir = jest
      .spyOn(fs.promises, 'rmdir')
      .mockRejectedValue(Object.assign(new Error('ENOTEMPTY'), { code: 'ENOTEMPTY' }));
    await expect(storage.storeConversation('c1', { title: 'given up' })).rejects.toThrow(StorageError);
    rmdir.mockRestore();
    await fse.remove(locks);
    await fse.ensureDir(locks);
    expect(await fse.readdir(conversations)).toEqual(['c1']);
    const synced = recordSyncs();
    await storage.storeConversation('c1', { title: 'acknowledged' });
    expect(synced).toContain(conversations);
  });

  it('an agent folder made and synced by another process: synced once all the same (it cannot be told apart)', async () => {
    const storage = await openStore({ searchIndex: false });
    const agents = path.join(storage.baseDir, 'agents');
    // Made and synced into agents/ as a finished write does: this process cannot know that.
    const madeAndSynced = `
const fs = require('fs');
fs.mkdirSync(process.argv[1]);
fs.fsyncSync(fs.openSync(require('path').dirname(process.argv[1]), 'r'));`;
    inOtherProcess(madeAndSynced, path.join(agents, 'a1'));
    const synced = recordSyncs();
    await storage.storeReasoningChain('a1', { chain_id: 'c1' });
    expect(synced).toContain(agents);
    synced.length = 0;
    await storage.storeReasoningChain('a1', { chain_id: 'c2' });
    expect(synced).not.toContain(agents);
  });

  it('deleted and made again by another process after this one synced it: synced again', async () => {
    const storage = await openStore({ searchIndex: false });
    const conversations = path.join(storage.baseDir, 'conversations');
    const dir = path.join(conversations, 'c1');
    await storage.storeConversation('c1', { title: 'first' });
    inOtherProcess(
      "const fs = require('fs'); fs.rmSync(process.argv[1], { recursive: true }); fs.mkdirSync(process.argv[1])",
      dir,
    );
    const synced = recordSyncs();
    await storage.storeConversation('c1', { title: 'second' });
    expect(synced).toContain(conversations);
  });

  it('a store folder made by an open killed before its fsync: the next open syncs the base folder once, the internal one not', async () => {
    const first = await openStore({ searchIndex: false });
    const base = first.baseDir;
    await shutdownAll();
    // As an open killed after its mkdir leaves it: this process never saw these folders synced.
    for (const dir of ['cache', '.connectome-storage/locks', '.connectome-storage/writers']) {
      await fse.remove(path.join(base, dir));
      inOtherProcess("require('fs').mkdirSync(process.argv[1])", path.join(base, dir));
    }
    const synced = recordSyncs();
    await openStore({ searchIndex: false, baseDir: base });
    expect(synced.filter((dir) => dir === base)).toHaveLength(1);
    // Locks, trash and writer marks hold no data: their entries cost no fsync of their own.
    expect(synced).not.toContain(path.join(base, '.connectome-storage'));
  });
});

describeLinux('folders known to be on disk are bounded, least recently written forgotten first', () => {
  it('past the bound, the folder written longest ago is synced again; recently written ones are not', async () => {
    const storage = await openStore({ searchIndex: false });
    resetKnownEntries(3); // from here on: the conversation folders only
    const conversations = path.join(storage.baseDir, 'conversations');
    const synced = recordSyncs();
    /** Whether a write into conversation `id` synced `conversations/` (the folder's own entry). */
    const syncsEntry = async (id: string): Promise<boolean> => {
      synced.length = 0;
      await storage.storeConversation(id, { id });
      return synced.includes(conversations);
    };
    for (const id of ['c1', 'c2', 'c3']) expect(await syncsEntry(id)).toBe(true);
    expect(await syncsEntry('c1')).toBe(false); // known, and now the most recently written
    expect(await syncsEntry('c4')).toBe(true); // a fourth folder: c2, written longest ago, goes
    expect(await syncsEntry('c1')).toBe(false);
    expect(await syncsEntry('c3')).toBe(false);
    expect(await syncsEntry('c4')).toBe(false);
    expect(await syncsEntry('c2')).toBe(true);
  });
});
