/**
 * A device that runs out of room under its file system (a real one, no mocks: ext4 on a loop
 * device whose image sits on a full tmpfs, see `test/support/thin-disk.ts`). Each write's data
 * goes into the page cache; the `fsync` that pushes it to the device fails with ENOSPC. Every
 * write of the full-disk suite then fails cleanly or lands, and the store writes again once the
 * device has room (what each case checks is in `test/support/disk-full-cases.ts`).
 */
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { StorageError } from '../../src/core/index.js';
import {
  type DiskFill,
  referenceOf,
  removeTemplate,
  runDiskCase,
  type SeededTemplate,
  seedTemplate,
} from '../support/disk-full-cases.js';
import { DISK_WRITES } from '../support/disk-full-ops.js';
import { describeWithLoopDisk } from '../support/loop-disk.js';
import { mountThinDisk, type ThinDisk, unmountThinDisk } from '../support/thin-disk.js';
import { fileSetup } from './disk-full-setup.js';

const setup = fileSetup('file (backups) on a thin device', true);

/**
 * No room left on the device, while the file system shows plenty: every write that adds data
 * needs new blocks (4 kB, one device page each), which cannot reach the device.
 */
const NO_ROOM: DiskFill = { label: 'no room on the device', apply: (disk) => disk.fillSpace(0), full: true };

/** A write's error when its fsync failed. */
const FAILED_FSYNC = expect.stringMatching(/: ENOSPC, no space left on device \(fsync\)/);

describeWithLoopDisk()('file backend when fsync fails (the device under the file system is full)', () => {
  let disk: ThinDisk | undefined;
  beforeEach(() => {
    disk = mountThinDisk(32, 8192);
  });
  afterEach(() => {
    if (disk !== undefined) unmountThinDisk(disk);
    disk = undefined;
  });
  const thin = (): ThinDisk => {
    if (disk === undefined) throw new Error('thin disk used outside a test');
    return disk;
  };
  let template: SeededTemplate;
  beforeAll(async () => {
    template = await seedTemplate(setup);
  });
  afterAll(() => removeTemplate(template));

  it('a new file that cannot reach the device fails its fsync: the write rejects naming the file and fsync', async () => {
    const store = new FileStorage({ baseDir: path.join(thin().dir, 'store') });
    await store.initialize();
    try {
      thin().fillSpace(0);
      const error = await store.storeConversation('c1', { body: 'x'.repeat(64 * 1024) }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      const file = path.join(store.baseDir, 'conversations', 'c1', 'current.json');
      expect((error as Error).message).toBe(`Cannot write ${file}: ENOSPC, no space left on device (fsync)`);
      expect(await store.loadConversation('c1')).toBeNull();
      thin().free();
      await store.storeConversation('c1', { body: 'fits' });
      expect(await store.loadConversation('c1')).toEqual({ body: 'fits' });
    } finally {
      await store.shutdown();
    }
  });

  for (const write of DISK_WRITES) {
    it(`${write.name}: fails cleanly or lands, loses nothing, writes again once there is room`, async () => {
      const ref = await referenceOf(setup, template, write);
      const { error } = await runDiskCase(thin(), setup, template, write, NO_ROOM, ref);
      // Every write that adds data fails (`full`), and at its fsync: the failure this suite is for.
      if (error !== null) expect([write.name, (error as Error).message]).toEqual([write.name, FAILED_FSYNC]);
    });
  }
});
