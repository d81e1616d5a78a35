/**
 * Writer marks (`writer-marks.ts`): an open sweeps every folder for a dead writer's temp files
 * only when a writer may have died since the last sweep, so opening a store that was shut down
 * cleanly does not read every conversation folder.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fse from 'fs-extra';
import { releaseTempEntry, tempEntryName } from '../../src/backends/file/temp-files.js';
import { MARK_STALE_MS, WRITERS_DIR } from '../../src/backends/file/writer-marks.js';
import { deadPid, markCrashedWriter, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  await shutdownAll();
});

afterAll(async () => {
  await removeTempDirs();
});

const marksOf = async (baseDir: string): Promise<string[]> =>
  (await fse.readdir(path.join(baseDir, '.connectome-storage', WRITERS_DIR))).sort();

/** A store holding conversation `c1` ({ title: 'kept' }), shut down cleanly; its folder. */
async function cleanlyClosedStore(): Promise<string> {
  const store = await openStore();
  await store.storeConversation('c1', { title: 'kept' });
  await store.shutdown();
  return store.baseDir;
}

/** A temp file of a dead process in conversation `c1`'s folder, as a killed write leaves it. */
async function deadWritersTemp(baseDir: string): Promise<string> {
  const name = tempEntryName('conversation.json').replace(`-${process.pid}-`, `-${deadPid()}-`);
  const temp = path.join(baseDir, 'conversations', 'c1', name);
  await fse.writeFile(temp, '{"title": "half');
  return temp;
}

/** Resolves once `check` holds (polled every 10 ms), failing after 5 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('file backend writer marks', () => {
  it('an open marks its writer until shutdown; one per open, also in one process', async () => {
    const first = await openStore();
    const { baseDir } = first;
    const second = await openStore({ baseDir });
    const marks = await marksOf(baseDir);
    expect(marks).toHaveLength(2);
    for (const mark of marks)
      expect(mark).toMatch(new RegExp(`^[0-9a-f]{8}-${process.pid}-[0-9a-f]{12}\\.writer$`));
    await first.shutdown();
    expect(await marksOf(baseDir)).toHaveLength(1);
    await second.shutdown();
    expect(await marksOf(baseDir)).toEqual([]);
  });

  it('a read-only open leaves no mark', async () => {
    const writer = await openStore();
    await writer.storeConversation('c1', { title: 'x' });
    await writer.shutdown();
    const reader = await openStore({ baseDir: writer.baseDir, readOnly: true });
    expect(await reader.loadConversation('c1')).toEqual({ title: 'x' });
    expect(await marksOf(writer.baseDir)).toEqual([]);
  });

  it('after a clean shutdown the next open does not sweep; after a dead writer it does', async () => {
    const baseDir = await cleanlyClosedStore();
    const temp = await deadWritersTemp(baseDir);
    // Nobody died with a mark: the folders are not read (this temp was planted by hand).
    await (await openStore({ baseDir })).shutdown();
    expect(await fse.pathExists(temp)).toBe(true);
    const mark = await markCrashedWriter(baseDir);
    const reopened = await openStore({ baseDir });
    expect(await fse.pathExists(temp)).toBe(false);
    expect(await fse.pathExists(mark)).toBe(false); // swept, so forgotten
    expect(await reopened.loadConversation('c1')).toEqual({ title: 'kept' });
  });

  it('a process that exited without shutdown: the next open removes its temp files and its mark', async () => {
    const store = await openStore();
    const { baseDir } = store;
    await store.shutdown();
    const child = path.join('test', 'file', 'crashed-writer.child.ts');
    const temp = execFileSync(process.execPath, ['--import', 'tsx', child, baseDir]).toString().trim();
    expect(await fse.pathExists(temp)).toBe(true);
    expect(await marksOf(baseDir)).toHaveLength(1); // the child's
    const reopened = await openStore({ baseDir });
    expect(await fse.pathExists(temp)).toBe(false);
    const marks = await marksOf(baseDir);
    expect(marks).toHaveLength(1); // only this open's own
    expect(marks[0]).toContain(`-${process.pid}-`);
    expect(await reopened.loadConversation('c1')).toEqual({ title: 'stored' });
  });

  it("a mark of this process no open store holds makes the next open sweep: this process's orphaned temp files go, one a write holds stays", async () => {
    const baseDir = await cleanlyClosedStore();
    // Another store of this process on the folder, open throughout: its mark is alive.
    const other = await openStore({ baseDir });
    // A store of this process whose shutdown could not remove its mark (the disk had turned
    // read-only), and temp files its writes could not remove: a conversation write's, and a
    // search segment's that a journal replay brought back after its rename was lost.
    const left = await markCrashedWriter(baseDir, process.pid);
    const orphans = [
      path.join(baseDir, 'conversations', 'c1', tempEntryName('conversation.json')),
      path.join(
        baseDir,
        '.connectome-storage',
        'search',
        'reasoning_chains',
        tempEntryName('0'.repeat(32) + '.json'),
      ),
    ];
    for (const orphan of orphans) {
      await fse.outputFile(orphan, '{"half');
      releaseTempEntry(orphan); // its write has given up on it
    }
    // A write of this process still holds this one (another open store's, say).
    const held = path.join(baseDir, 'conversations', 'c1', tempEntryName('memories.json'));
    await fse.writeFile(held, '{"half');

    const reopened = await openStore({ baseDir });
    for (const orphan of orphans) expect([orphan, await fse.pathExists(orphan)]).toEqual([orphan, false]);
    expect(await fse.pathExists(held)).toBe(true);
    expect(await fse.pathExists(left)).toBe(false); // swept, so forgotten
    expect(await marksOf(baseDir)).toHaveLength(2); // the other store's and this open's
    expect(await reopened.loadConversation('c1')).toEqual({ title: 'kept' });
    releaseTempEntry(held);
    await fse.remove(held);
    await other.shutdown();
    await reopened.shutdown();
    expect(await marksOf(baseDir)).toEqual([]);
  });

  it("another host's mark cannot be checked: every open sweeps, and the mark stays", async () => {
    const baseDir = await cleanlyClosedStore();
    const foreign = path.join(baseDir, '.connectome-storage', WRITERS_DIR, '0badbeef-1-000000000000.writer');
    await fse.writeFile(foreign, '');
    for (let round = 0; round < 2; round += 1) {
      const temp = await deadWritersTemp(baseDir);
      await (await openStore({ baseDir })).shutdown();
      expect(await fse.pathExists(temp)).toBe(false);
    }
    expect(await fse.pathExists(foreign)).toBe(true);
  });

  it('a mark not touched for an hour is dead, even where its pid is alive (reused); so is a stale mark of another host', async () => {
    const baseDir = await cleanlyClosedStore();
    const dir = path.join(baseDir, '.connectome-storage', WRITERS_DIR);
    const reused = await markCrashedWriter(baseDir, process.pid); // a live pid: this one
    const foreign = path.join(dir, '0badbeef-1-000000000000.writer');
    await fse.writeFile(foreign, '');
    const longAgo = new Date(Date.now() - MARK_STALE_MS - 60_000);
    for (const mark of [reused, foreign]) await fse.utimes(mark, longAgo, longAgo);
    const temp = await deadWritersTemp(baseDir);
    const reopened = await openStore({ baseDir });
    expect(await fse.pathExists(temp)).toBe(false);
    expect(await fse.pathExists(reused)).toBe(false);
    expect(await fse.pathExists(foreign)).toBe(false);
    await reopened.shutdown();
    expect(await marksOf(baseDir)).toEqual([]);
  });

  it('an open store touches its mark, and makes it again if another process removed it', async () => {
    const store = await openStore({}, { writerMarkRefreshMs: 30 });
    const [name] = await marksOf(store.baseDir);
    const mark = path.join(store.baseDir, '.connectome-storage', WRITERS_DIR, name!);
    const longAgo = new Date(Date.now() - MARK_STALE_MS - 60_000);
    await fse.utimes(mark, longAgo, longAgo);
    await waitFor(async () => Date.now() - (await fse.stat(mark)).mtimeMs < MARK_STALE_MS);
    await fse.remove(mark);
    await waitFor(() => fse.pathExists(mark));
    await store.shutdown();
    expect(await fse.pathExists(mark)).toBe(false);
  });

  it('a store without a folder of marks (written by an older version) is swept at its first open', async () => {
    const baseDir = await cleanlyClosedStore();
    await fse.remove(path.join(baseDir, '.connectome-storage', WRITERS_DIR));
    const temp = await deadWritersTemp(baseDir);
    await openStore({ baseDir });
    expect(await fse.pathExists(temp)).toBe(false);
    expect(await marksOf(baseDir)).toHaveLength(1);
  });
});
