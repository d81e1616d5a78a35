/**
 * A really full disk (a private tmpfs, no mocks) under a SQLite database file, with WAL (the
 * default) and with a rollback journal: every kind of write, the failure landing in the WAL
 * or journal or the database pages at different points; what each case checks is in
 * `test/support/disk-full-cases.ts`. Also the health check on a full disk.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { StorageError } from '../../src/core/index.js';
import { describeDiskFull, type DiskFill, type DiskSetup } from '../support/disk-full-cases.js';
import { describeWithSmallDisk, type SmallDisk, useSmallDisk } from '../support/small-disk.js';

const DB = 'store.db';

function sqliteSetup(name: string, enableWalMode: boolean): DiskSetup {
  return {
    name,
    cause: /SQLITE_FULL|disk is full|ENOSPC/i,
    storeName: (dir) => path.join(dir, DB),
    open: async (dir) => {
      const store = new SQLiteStorage({ dbPath: path.join(dir, DB), enableWalMode });
      await store.initialize();
      return store;
    },
    // Open, the WAL and its index belong to the connection; closed, only the database is left.
    leftovers: async (dir, closed) =>
      (await readdir(dir)).filter((name) => name !== DB && (closed || name.endsWith('-journal'))),
  };
}

const spaceFill = (pages: number): DiskFill => ({
  label: `${pages} free pages`,
  apply: (disk: SmallDisk) => disk.fillSpace(pages),
  full: pages === 0,
});

/** No inode left: a rollback journal cannot be created (the WAL and its index exist once open). */
const noInode = (full: boolean): DiskFill => ({
  label: 'no free inode',
  apply: (disk: SmallDisk) => disk.fillInodes(0),
  full,
});

const CASES: Array<[DiskSetup, DiskFill[]]> = [
  [sqliteSetup('sqlite (WAL)', true), [...[0, 3, 8, 20].map(spaceFill), noInode(false)]],
  [sqliteSetup('sqlite (rollback journal)', false), [...[0, 6, 20].map(spaceFill), noInode(true)]],
];

for (const [setup, fills] of CASES) describeDiskFull(setup, fills, { kb: 2048, inodes: 64 });

describeWithSmallDisk()('sqlite health on a full disk', () => {
  const disk = useSmallDisk({ kb: 2048, inodes: 64 });

  it('stays healthy (the database answers) and reports the free space, which shows the disk full', async () => {
    const setup = sqliteSetup('sqlite (WAL)', true);
    const store = await setup.open(path.join(disk().dir, 'store'));
    try {
      await store.storeConversation('c1', { a: 1 });
      const roomy = await store.healthCheck();
      expect(roomy.disk_usage).toMatchObject({ total_bytes: 2048 * 1024 });
      expect((roomy.disk_usage as { free_bytes: number }).free_bytes).toBeGreaterThan(1024 * 1024);
      disk().fillSpace(0);
      await expect(store.storeConversation('c2', { b: 'x'.repeat(9000) })).rejects.toThrow(/SQLITE_FULL/);
      const full = await store.healthCheck();
      expect(full).toMatchObject({ status: 'healthy', disk_usage: { free_bytes: 0 } });
      expect(await store.loadConversation('c1')).toEqual({ a: 1 });
    } finally {
      await store.shutdown();
    }
  });
});

describeWithSmallDisk()('sqlite opened on a full disk', () => {
  const disk = useSmallDisk({ kb: 2048, inodes: 64 });
  const fills: Array<[string, (d: SmallDisk) => void, RegExp]> = [
    ['no free page', (d) => d.fillSpace(0), /no free space on its file system \(ENOSPC\)|SQLITE_FULL/],
    [
      'no free inode',
      (d) => d.fillInodes(0),
      /no free inode on its file system \(ENOSPC\)|ENOSPC, no space left on device \(mkdir /,
    ],
  ];

  it.each(fills)(
    '(%s) fails naming the full disk, then opens and reads everything once there is room',
    async (_, fill, cause) => {
      const setup = sqliteSetup('sqlite (WAL)', true);
      const dir = path.join(disk().dir, 'store');
      const first = await setup.open(dir);
      await first.storeConversation('c1', { a: 1 });
      await first.shutdown(); // the WAL and its index are gone: the next open must create them
      fill(disk());
      for (const target of [dir, path.join(disk().dir, 'new')]) {
        const store = new SQLiteStorage({ dbPath: path.join(target, DB) });
        const error = await store.initialize().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StorageError);
        expect((error as Error).message).toContain(path.join(target, DB));
        expect((error as Error).message).toMatch(cause);
      }
      disk().free();
      const again = await setup.open(dir);
      try {
        expect(await again.loadConversation('c1')).toEqual({ a: 1 });
        expect((await again.healthCheck()).status).toBe('healthy');
      } finally {
        await again.shutdown();
      }
    },
  );
});
