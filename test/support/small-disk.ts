/**
 * A real full disk for tests: a private tmpfs of a few kilobytes (and a few inodes) mounted
 * under a fresh temp dir, and a filler file that takes all of its space, then gives back a
 * chosen number of pages, so the next write of a store fails part-way with a real ENOSPC.
 * Mounting needs root (CAP_SYS_ADMIN): without it a suite is skipped with a loud notice, on CI
 * too. Unlike an unreachable server, which `scripts/services.sh` can start, a missing kernel
 * privilege is nothing `.ci/run` can provide, so it must not fail a run that tests all else.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** tmpfs hands out space in pages: slack is counted in them. */
export const PAGE = 4096;

/** Runs mount/umount; the error text, or `null` when it worked. */
function run(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) return result.error.message;
  return result.status === 0
    ? null
    : `${command} ${args.join(' ')}: ${result.stderr.trim() || `exit ${result.status}`}`;
}

let probed: string | null | undefined;

/** Why a tmpfs cannot be mounted here, or `null` when it can (probed once per test file). */
export function smallDiskUnavailableReason(): string | null {
  if (probed !== undefined) return probed;
  const dir = mkdtempSync(path.join(tmpdir(), 'connectome-disk-probe-'));
  probed = run('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir]);
  if (probed === null) run('umount', [dir]);
  rmdirSync(dir);
  return probed;
}

/** `describe` for a suite that needs a small disk: skipped loudly when mounting is not permitted. */
export function describeWithSmallDisk(): jest.Describe {
  const reason = smallDiskUnavailableReason();
  if (reason === null) return describe;
  console.warn(
    `\n!!! SKIPPING FULL-DISK TESTS: cannot mount a private tmpfs (${reason}).\n` +
      `!!! They need root or CAP_SYS_ADMIN.\n`,
  );
  return describe.skip;
}

/** A mounted small disk: its folder, and the filler that makes it full. */
export class SmallDisk {
  private readonly filler: string;
  private readonly inodeFiller: string;

  constructor(
    /** Where the tmpfs is mounted; a store goes in a folder under it. */
    readonly dir: string,
  ) {
    this.filler = path.join(dir, 'filler.bin');
    this.inodeFiller = path.join(dir, 'inode-filler');
  }

  /** Fills all free space, then frees `slackPages` pages: the next writes get only those. */
  fillSpace(slackPages: number): void {
    const fd = fs.openSync(this.filler, 'a');
    const page = Buffer.alloc(PAGE, 0x78);
    try {
      for (;;) fs.writeSync(fd, page);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      fs.closeSync(fd);
    }
    const size = fs.statSync(this.filler).size;
    fs.truncateSync(this.filler, Math.max(0, size - slackPages * PAGE));
  }

  /** Uses up all free inodes with empty files, then frees `slack` of them. */
  fillInodes(slack: number): void {
    fs.mkdirSync(this.inodeFiller, { recursive: true });
    const made: string[] = [];
    try {
      for (let i = 0; ; i += 1) {
        const file = path.join(this.inodeFiller, `f${i}`);
        fs.closeSync(fs.openSync(file, 'wx'));
        made.push(file);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    }
    for (const file of made.slice(made.length - Math.min(slack, made.length))) fs.unlinkSync(file);
  }

  /** Frees everything the fillers took. */
  free(): void {
    fs.rmSync(this.filler, { force: true });
    fs.rmSync(this.inodeFiller, { recursive: true, force: true });
  }

  /** Free bytes and inodes right now (as `statfs` reports them). */
  freeSpace(): { bytes: number; inodes: number } {
    const s = fs.statfsSync(this.dir);
    return { bytes: s.bavail * s.bsize, inodes: s.ffree };
  }
}

/** Size of a small disk: kilobytes and inodes. */
export interface SmallDiskSize {
  kb: number;
  inodes: number;
}

/** Mounts a fresh small disk; {@link unmountSmallDisk} undoes it. */
export function mountSmallDisk(size: SmallDiskSize): SmallDisk {
  const dir = mkdtempSync(path.join(tmpdir(), 'connectome-disk-'));
  const failed = run('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${size.kb}k,nr_inodes=${size.inodes},mode=0700`,
    'tmpfs',
    dir,
  ]);
  if (failed !== null) {
    rmdirSync(dir);
    throw new Error(`cannot mount a small disk: ${failed}`);
  }
  return new SmallDisk(dir);
}

/** Unmounts a small disk (lazily when busy: an open descriptor must not keep it mounted) and removes its folder. */
export function unmountSmallDisk(disk: SmallDisk): void {
  if (run('umount', [disk.dir]) !== null) {
    const lazy = run('umount', ['-l', disk.dir]);
    if (lazy !== null) throw new Error(`cannot unmount ${disk.dir}: ${lazy}`);
  }
  rmdirSync(disk.dir);
}

/** A fresh small disk per test (mounted before it, unmounted after it, also when it fails). */
export function useSmallDisk(size: SmallDiskSize): () => SmallDisk {
  let disk: SmallDisk | undefined;
  beforeEach(() => {
    disk = mountSmallDisk(size);
  });
  afterEach(() => {
    const current = disk;
    disk = undefined;
    if (current !== undefined) unmountSmallDisk(current);
  });
  return () => {
    if (disk === undefined) throw new Error('small disk used outside a test');
    return disk;
  };
}
