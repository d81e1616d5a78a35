/**
 * A disk that turns read-only while a file store has it open (a real one, no mocks: the
 * kernel's emergency remount of an ext4 loop disk, see `test/support/loop-disk.ts`). Every
 * write rejects with a `StorageError` naming its record and EROFS; reads, search, stats and
 * shutdown keep working; once the disk is writable again nothing stored is lost. Writes in
 * flight when it happens each land or fail cleanly, and their temp files go at the next open.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { isTempEntryName, releaseTempEntry, tempEntryName } from '../../src/backends/file/temp-files.js';
import { WRITERS_DIR } from '../../src/backends/file/writer-marks.js';
import { StorageError } from '../../src/core/index.js';
import { DISK_WRITES, seedStore, snapshotStore } from '../support/disk-full-ops.js';
import { describeWithLoopDisk, useLoopDisk } from '../support/loop-disk.js';
import { listTree } from './helpers.js';
import { midwayWrites, type Outcome, seedMidway } from './read-only-midway.js';

const EROFS = /EROFS, read-only file system/;

/** Temp files under `dir`. */
const tempFiles = (dir: string) => listTree(dir, (rel) => isTempEntryName(path.basename(rel)));

/**
 * Plants, durably, what a background search segment write may leave when the disk fails: its
 * temp file's create was committed to the journal (by a data write's fsync) but its rename
 * was not, so the replay at the next mount brings the temp file back. Planted so that every
 * run checks its removal, not only a run whose timing hits it (once in many under load).
 */
function plantLostRename(dir: string): string {
  const folder = path.join(dir, '.connectome-storage', 'search', 'reasoning_chains');
  fs.mkdirSync(folder, { recursive: true });
  const temp = path.join(folder, tempEntryName(`${'0'.repeat(32)}.json`));
  const fd = fs.openSync(temp, 'wx');
  try {
    fs.writeSync(fd, 'cseg2');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  releaseTempEntry(temp); // its write finished: it holds it no more
  return temp;
}

/** Search hits for `text`, each as text, sorted. */
async function hits(store: FileStorage, text: string): Promise<string[]> {
  return (await store.search({ text })).map((hit) => JSON.stringify(hit)).sort();
}

describeWithLoopDisk()('file backend on a disk that turns read-only', () => {
  const stores: FileStorage[] = [];
  // Declared first: the stores let go of the disk before it is unmounted.
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.shutdown().catch(() => undefined);
  });
  const disk = useLoopDisk(32);
  const open = async (dir: string, readOnly = false): Promise<FileStorage> => {
    const store = new FileStorage({ baseDir: dir, readOnly });
    stores.push(store);
    await store.initialize();
    return store;
  };

  it('rejects every write naming its record and EROFS; reads, search, stats and shutdown work; nothing is lost', async () => {
    const dir = path.join(disk().dir, 'store');
    const store = await open(dir);
    await seedStore(store);
    const before = await snapshotStore(store);
    const found = await hits(store, 'c1-m1');
    expect(found.length).toBeGreaterThan(0);
    const lost = plantLostRename(dir);
    disk().failReadOnly();

    expect(await snapshotStore(store)).toEqual(before);
    for (const write of DISK_WRITES) {
      const error = await write.run(store).then(
        () => null,
        (e: unknown) => e,
      );
      expect([write.name, error]).toEqual([write.name, expect.any(StorageError)]);
      const { message } = error as StorageError;
      expect([write.name, EROFS.test(message)]).toEqual([write.name, true]);
      expect([write.name, write.ids.some((id) => message.includes(id))]).toEqual([write.name, true]);
    }
    expect(await snapshotStore(store)).toEqual(before);
    expect(await hits(store, 'c1-m1')).toEqual(found);
    const health = await store.healthCheck();
    expect(health).toMatchObject({ status: 'unhealthy', write_permissions: false });
    expect(health.error).toMatch(EROFS);
    await store.shutdown();

    // A writable open needs its writer mark: it fails naming the folder; a read-only one reads all.
    await expect(open(dir)).rejects.toThrow(/Cannot mark this writer in .*writers: EROFS/);
    expect(await snapshotStore(await open(dir, true))).toEqual(before);
    for (const opened of stores.splice(0)) await opened.shutdown();

    disk().remount();
    expect(fs.existsSync(lost)).toBe(true);
    // This process lives on: its temp files no write holds go all the same (until 2026-12-05
    // they stayed until it exited), as the store's shutdown could not remove its mark.
    const again = await open(dir);
    expect(await snapshotStore(again)).toEqual(before);
    expect(await tempFiles(dir)).toEqual([]);
    await again.storeConversation('c1', { after: true });
    expect(await again.loadConversation('c1')).toEqual({ after: true });
  });

  it('writes in flight when it turns read-only each land or fail cleanly; their temp files go at the next open', async () => {
    const dir = path.join(disk().dir, 'store');
    const seeded = await open(dir);
    await seedMidway(seeded);
    await seeded.shutdown();
    const writes = midwayWrites();
    const trigger = `/sys/fs/ext4/${path.basename(disk().device)}/trigger_fs_error`;
    const child = path.join('test', 'file', 'read-only-midway.child.ts');
    // A third of the writes settle before the disk turns read-only.
    const after = String(Math.floor(writes.length / 3));
    const printed = execFileSync(process.execPath, ['--import', 'tsx', child, dir, trigger, after], {
      timeout: 60_000,
    });
    const { outcomes, unhandled } = JSON.parse(printed.toString()) as {
      outcomes: Outcome[];
      unhandled: string[];
    };
    expect(unhandled).toEqual([]);
    expect(outcomes.map((o) => o.name)).toEqual(writes.map((w) => w.name));
    const failed = outcomes.filter((o) => o.error !== null);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(outcomes.length);
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.error === null) continue;
      expect([outcome.name, outcome.error]).toEqual([outcome.name, expect.stringMatching(/^StorageError: /)]);
      expect([outcome.name, /EROFS|EIO/.test(outcome.error)]).toEqual([outcome.name, true]);
      expect([outcome.name, outcome.error.includes(writes[i]?.id ?? '?')]).toEqual([outcome.name, true]);
    }

    disk().remount();
    const again = await open(dir);
    const problems: string[] = [];
    for (const [i, write] of writes.entries()) {
      problems.push(...(await write.check(again, outcomes[i]?.error === null)));
    }
    expect(problems).toEqual([]);
    // The child is gone: the open removed its temp files and its mark.
    expect(await tempFiles(dir)).toEqual([]);
    const marks = fs.readdirSync(path.join(dir, '.connectome-storage', WRITERS_DIR));
    expect(marks).toEqual([expect.stringContaining(`-${process.pid}-`)]);
    expect((await again.healthCheck()).status).toBe('healthy');
  });
});
