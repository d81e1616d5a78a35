/**
 * The file backend's side of the full-disk suites: its setups (backups on or off) and a
 * `describe` that runs every write of `test/support/disk-full-ops.ts` under each fill.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { isTempEntryName } from '../../src/backends/file/temp-files.js';
import { describeDiskFull, type DiskFill, type DiskSetup } from '../support/disk-full-cases.js';
import type { SmallDisk } from '../support/small-disk.js';
import { isBackup, listTree } from './helpers.js';

/** A short digest of a file's bytes (backups are compared by it). */
const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/** What a file-backend error on a full disk must name as its cause. */
export const ENOSPC = /ENOSPC|no space left/i;

/** A file store in a folder, with backups on or off. */
export function fileSetup(name: string, createBackups: boolean): DiskSetup {
  return {
    name,
    cause: ENOSPC,
    open: async (dir) => {
      const store = new FileStorage({ baseDir: dir, createBackups });
      await store.initialize();
      return store;
    },
    // Search segments are written in the background (see segment-writer.ts): one may be half
    // way through while the store is open, so they are looked at once it is shut down.
    backups: async (dir) => {
      const names = await listTree(dir, isBackup);
      return names.map((rel) => `${rel} ${digest(fs.readFileSync(path.join(dir, rel)))}`);
    },
    leftovers: (dir, closed) =>
      listTree(
        dir,
        (rel) =>
          isTempEntryName(path.basename(rel)) && (closed || !rel.startsWith('.connectome-storage/search/')),
      ),
  };
}

/** Room for `pages` pages of data (files, folders and inodes are plenty). */
export const spaceFill = (pages: number): DiskFill => ({
  label: `${pages} free pages`,
  apply: (disk: SmallDisk) => disk.fillSpace(pages),
  full: pages === 0,
});

/** Room for `inodes` new files or folders (space is plenty). */
export const inodeFill = (inodes: number): DiskFill => ({
  label: `${inodes} free inodes`,
  apply: (disk: SmallDisk) => disk.fillInodes(inodes),
  full: inodes === 0,
});

/** The disk every file case gets: room for the seeded store and its copies, few inodes. */
export const FILE_DISK = { kb: 1024, inodes: 400 };

/** Runs every write of the full-disk suite on the file backend `setup` under each of `fills`. */
export function describeFileDiskFull(setup: DiskSetup, fills: DiskFill[]): void {
  describeDiskFull(setup, fills, FILE_DISK);
}
