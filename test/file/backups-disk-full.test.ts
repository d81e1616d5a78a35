/**
 * Backups on a really full disk (a private tmpfs, no mocks): a write that fails leaves the
 * file's backups as they were. Until 2026-12-04 each failed overwrite linked the current file
 * as one more backup and pruned the oldest before the write failed, so `maxBackupFiles`
 * failed retries replaced every older version with copies of the current one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Backups } from '../../src/backends/file/backups.js';
import { FileStorage } from '../../src/backends/file/index.js';
import { StorageError, type StorageInterface } from '../../src/core/index.js';
import { recordingLogger } from '../support/recording-logger.js';
import { describeWithSmallDisk, type SmallDisk, useSmallDisk } from '../support/small-disk.js';
import { useTempDir } from '../support/temp-dir.js';
import { isBackup, listTree } from './helpers.js';

/** Backups kept per file in these tests. */
const KEEP = 2;

/** A write of one backed-up file: how to make version `v`, and the file (under the store). */
interface BackedUpWrite {
  name: string;
  file: string;
  /** Names the record the error must name. */
  id: string;
  write(store: StorageInterface, v: number): Promise<unknown>;
}

/** Version `v`'s text: 3 kB, or 24 kB for the one that must not fit (more than all the backups free). */
const body = (v: number) => `v${v}:`.padEnd(v === 9 ? 24_000 : 3000, String(v % 10));

const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

const WRITES: BackedUpWrite[] = [
  {
    name: 'storeConversation (staged before its lock)',
    file: 'conversations/c1/current.json',
    id: 'c1',
    write: (s, v) => s.storeConversation('c1', { v, body: body(v) }),
  },
  {
    name: 'storeMemory (a list file)',
    file: 'conversations/c1/memories.json',
    id: 'c1',
    write: (s, v) => s.storeMemory('c1', 'm1', { v, body: body(v) }),
  },
  {
    name: 'storeReasoningChain (an agent list file)',
    file: 'agents/a1/reasoning_chains.json',
    id: 'a1',
    write: (s, v) => s.storeReasoningChain('a1', { v, body: body(v) }),
  },
  {
    name: 'storeSystemState (a keyed file)',
    file: 'system/s1.json',
    id: 's1',
    write: (s, v) => s.storeSystemState('s1', { v, body: body(v) }),
  },
];

/** Each backup of `file` (by name, oldest first) with a digest of its bytes. */
function backupsOf(dir: string, file: string): Array<[string, string]> {
  const folder = path.dirname(path.join(dir, file));
  const stem = path.basename(file, '.json');
  return fs
    .readdirSync(folder)
    .filter((name) => name.startsWith(`${stem}.`) && isBackup(name))
    .sort()
    .map((name) => [name, digest(fs.readFileSync(path.join(folder, name)))]);
}

describeWithSmallDisk()('file backend backups on a full disk', () => {
  let store: FileStorage | undefined;
  // Declared first: the store lets go of the disk before it is unmounted.
  afterEach(async () => {
    await store?.shutdown();
    store = undefined;
  });
  const disk = useSmallDisk({ kb: 512, inodes: 200 });

  const cases: Array<[string, (d: SmallDisk) => void]> = [
    ['no free page', (d) => d.fillSpace(0)],
    ['no free inode', (d) => d.fillInodes(0)],
  ];
  for (const write of WRITES) {
    it.each(cases)(`${write.name}: failed overwrites keep every backup (%s)`, async (_, fill) => {
      const dir = path.join(disk().dir, 'store');
      store = new FileStorage({ baseDir: dir, maxBackupFiles: KEEP });
      await store.initialize();
      // Versions 1..3: version 3 is current, 1 and 2 are the backups kept.
      for (let v = 1; v <= 3; v += 1) await write.write(store, v);
      const before = backupsOf(dir, write.file);
      expect(before).toHaveLength(KEEP);
      const current = digest(fs.readFileSync(path.join(dir, write.file)));

      fill(disk());
      // More failed retries than backups kept: each must leave them alone.
      for (let attempt = 0; attempt <= KEEP; attempt += 1) {
        const error = await write.write(store, 9).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StorageError);
        expect((error as Error).message).toMatch(/ENOSPC/);
        expect((error as Error).message).toContain(write.id);
      }
      expect(backupsOf(dir, write.file)).toEqual(before);
      expect(digest(fs.readFileSync(path.join(dir, write.file)))).toBe(current);
      expect(await listTree(dir, (rel) => rel.includes('.tmp'))).toEqual([]);

      // Once there is room the write lands: the version it replaced is the newest backup.
      disk().free();
      await write.write(store, 4);
      const after = backupsOf(dir, write.file);
      expect(after).toHaveLength(KEEP);
      expect(after[0]).toEqual(before[1]);
      expect(after[1]?.[1]).toBe(current);
    });
  }
});

describe('file backend backups of a write that fails or lands', () => {
  const dir = useTempDir();

  it('a failed write whose file was replaced meanwhile keeps its backup: it holds the only copy of the old version', async () => {
    const backups = new Backups({ enabled: true, keep: KEEP });
    const file = path.join(dir(), 'f.json');
    fs.writeFileSync(file, '"old"');
    await backups.beforeOverwrite(file);
    // The write's rename landed, then it failed (its folder sync, say): the file is not the one backed up.
    fs.writeFileSync(`${file}.new`, '"new"');
    fs.renameSync(`${file}.new`, file);
    await backups.abandon(file);
    expect(backupsOf(dir(), 'f.json').map(([, bytes]) => bytes)).toEqual([digest(Buffer.from('"old"'))]);
    // A write that fails with the file unchanged takes its backup away again.
    await backups.beforeOverwrite(file);
    expect(backupsOf(dir(), 'f.json')).toHaveLength(2);
    await backups.abandon(file);
    expect(backupsOf(dir(), 'f.json').map(([, bytes]) => bytes)).toEqual([digest(Buffer.from('"old"'))]);
  });

  it('a backup that cannot be pruned does not fail the write that landed: it is logged and pruned later', async () => {
    const { logger, events } = recordingLogger();
    const store = new FileStorage({ baseDir: dir(), maxBackupFiles: 1, logger });
    await store.initialize();
    try {
      await store.storeConversation('c1', { v: 1 });
      // A folder under an old backup's name: its unlink fails (EISDIR), a real error, no mock.
      const folder = path.join(dir(), 'conversations', 'c1');
      const stuck = path.join(folder, 'current.20200101_000000_000000.backup.json');
      fs.mkdirSync(stuck);
      await store.storeConversation('c1', { v: 2 });
      expect(await store.loadConversation('c1')).toMatchObject({ v: 2 });
      expect(events.filter((e) => e.level === 'warn')).toMatchObject([
        {
          message: 'file storage: could not remove an old backup',
          details: { path: path.join(folder, 'current.json') },
        },
      ]);
      expect(String(events[0]?.details?.['error'])).toMatch(/^EISDIR, .* \(unlink\)$/);
      // Once it can go (a file now), the next write prunes it with the rest.
      fs.rmdirSync(stuck);
      fs.writeFileSync(stuck, '{}');
      await store.storeConversation('c1', { v: 3 });
      const left = backupsOf(dir(), 'conversations/c1/current.json');
      expect(left.map(([name]) => name)).not.toContain(path.basename(stuck));
      expect(left).toHaveLength(1);
    } finally {
      await store.shutdown();
    }
  });
});
