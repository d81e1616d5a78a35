/**
 * A really full disk (a private tmpfs, no mocks) under the file backend, default setup (with
 * backups): every kind of write, with the failure at different points (the temp file's data,
 * the backup, a new folder or file); what each case checks is in
 * `test/support/disk-full-cases.ts`. Also: background search segments and the health check
 * on a full disk. `disk-full-no-backups.test.ts` runs the writes with backups off.
 */
import fs from 'node:fs';
import { FileStorage } from '../../src/backends/file/index.js';
import { StorageError } from '../../src/core/index.js';
import { describeWithSmallDisk, useSmallDisk } from '../support/small-disk.js';
import {
  describeFileDiskFull,
  ENOSPC,
  FILE_DISK,
  fileSetup,
  inodeFill,
  spaceFill,
} from './disk-full-setup.js';

const setup = fileSetup('file (backups)', true);

describeFileDiskFull(setup, [
  spaceFill(0),
  spaceFill(1),
  spaceFill(2),
  spaceFill(4),
  inodeFill(0),
  inodeFill(1),
]);

describeWithSmallDisk()('file backend on a full disk: background writes and health', () => {
  const disk = useSmallDisk(FILE_DISK);
  const stores: FileStorage[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.shutdown();
  });
  const open = async (): Promise<FileStorage> => {
    const store = (await setup.open(`${disk().dir}/store`)) as FileStorage;
    stores.push(store);
    return store;
  };

  it('leaves no temp file when a search segment cannot be written (its data was)', async () => {
    const store = await open();
    const body = `banana ${'x'.repeat(6000)}`;
    for (const id of ['c1', 'c2']) await store.storeMemory(id, 'm1', { body });
    // The segments are written after the call, in the background: the disk fills first.
    disk().fillSpace(0);
    await store.shutdown(); // writes the queued segments (they fail)
    expect(await setup.leftovers(`${disk().dir}/store`, true)).toEqual([]);
    disk().free();
    const fresh = await open();
    expect(await fresh.loadMemories('c1')).toMatchObject([{ memory_id: 'm1', body }]);
    // The missing segments are rebuilt from the data files: both memories are found.
    expect((await fresh.search({ text: 'banana' })).length).toBe(2);
  });

  it('a chain append that trims either fails leaving the chains as they were or lands whole (never both)', async () => {
    const dir = `${disk().dir}/store`;
    const chain = (n: number) => ({ n, text: `${n}`.padEnd(3000, '.') });
    let sawFailure = false;
    let sawLanding = false;
    // From no room at all to room for the whole journalled trim: the failure lands on each step.
    for (let pages = 0; pages <= 8; pages += 1) {
      const store = new FileStorage({ baseDir: dir, maxReasoningChainsPerAgent: 2 });
      await store.initialize();
      await store.appendReasoningChains('a1', [chain(1), chain(2)]);
      disk().fillSpace(pages);
      const failed = await store.storeReasoningChain('a1', chain(3)).then(
        () => false,
        () => true,
      );
      const ns = (await store.loadReasoningChains('a1')).map((c) => c.n);
      expect([pages, ns]).toEqual([pages, failed ? [1, 2] : [2, 3]]);
      if (failed) sawFailure = true;
      else sawLanding = true;
      disk().free();
      await store.shutdown();
      await fs.promises.rm(dir, { recursive: true });
    }
    expect([sawFailure, sawLanding]).toEqual([true, true]);
  });

  it.each([
    ['no free page', () => disk().fillSpace(0), false],
    ['no free inode', () => disk().fillInodes(0), true],
  ])(
    'opens an existing store or fails naming ENOSPC (%s); a new one too (empty folders need no page)',
    async (_, fill, noFolder) => {
      const dir = `${disk().dir}/store`;
      const first = await open();
      await first.storeConversation('c1', { a: 1 });
      await first.shutdown();
      fill();
      const existing = new FileStorage({ baseDir: dir });
      const opened = await existing.initialize().then(
        () => null,
        (e: unknown) => e,
      );
      if (opened === null) {
        stores.push(existing);
        expect(await existing.loadConversation('c1')).toEqual({ a: 1 });
      } else {
        expect(opened).toBeInstanceOf(StorageError);
        expect((opened as Error).message).toMatch(ENOSPC);
      }
      // Node's recursive mkdir said ENOENT here: the new store's folder looked missing, not the disk full.
      const fresh = new FileStorage({ baseDir: `${disk().dir}/new` });
      if (noFolder)
        await expect(fresh.initialize()).rejects.toThrow(/ENOSPC, no space left on device \(mkdir\)/);
      else stores.push(await fresh.initialize().then(() => fresh));
      disk().free();
      expect(await (await open()).loadConversation('c1')).toEqual({ a: 1 });
    },
  );

  it.each([
    ['no free page', () => disk().fillSpace(0)],
    ['no free inode', () => disk().fillInodes(0)],
  ])(
    'reports unhealthy with the cause while the disk is full (%s), healthy once there is room',
    async (_, fill) => {
      const store = await open();
      await store.storeConversation('c1', { a: 1 });
      fill();
      const full = await store.healthCheck();
      expect(full).toMatchObject({ status: 'unhealthy', write_permissions: false });
      expect(full.error).toMatch(ENOSPC);
      disk().free();
      expect(await store.healthCheck()).toMatchObject({ status: 'healthy', write_permissions: true });
    },
  );
});
