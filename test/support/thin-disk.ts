/**
 * A disk whose device runs out of room under its file system, for tests: an ext4 file system
 * (no journal) in a sparse image on a loop device, the image kept on a small tmpfs (see
 * `small-disk.ts`). ext4 sees plenty of free space, so each write into the page cache succeeds;
 * filling the tmpfs makes the device's writes fail, and the `fsync` that pushes new blocks out
 * rejects with ENOSPC, as on a thin-provisioned volume that ran out. A tmpfs alone never fails
 * an `fsync`: this is how its failure path runs for real. Needs what a loop disk needs (see
 * `loop-disk.ts`).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run } from './loop-disk.js';
import { mountSmallDisk, SmallDisk, unmountSmallDisk } from './small-disk.js';

/** A mounted thin disk: {@link SmallDisk}'s fills act on the device's room, not the file system's. */
export class ThinDisk extends SmallDisk {
  constructor(
    /** The tmpfs holding the image (the device's room). */
    readonly backing: SmallDisk,
    /** The loop device. */
    readonly device: string,
    mountPoint: string,
  ) {
    super(mountPoint);
  }

  /** Writes out what is cached (so it is not what fails), then leaves the device `slackPages` pages. */
  override fillSpace(slackPages: number): void {
    run('sync', ['-f', this.dir]);
    this.backing.fillSpace(slackPages);
  }

  /** The device has no inodes to run out of: fills its room, as {@link fillSpace}. */
  override fillInodes(slack: number): void {
    this.fillSpace(slack);
  }

  /** Gives the device its room back. */
  override free(): void {
    this.backing.free();
  }
}

/** Mounts a thin disk: a `mb` MB file system on a device with `roomKb` kB of room. */
export function mountThinDisk(mb: number, roomKb: number): ThinDisk {
  const backing = mountSmallDisk({ kb: roomKb, inodes: 64 });
  const image = path.join(backing.dir, 'disk.img');
  const mountPoint = path.join(backing.dir, 'mnt');
  let device: string | undefined;
  try {
    fs.writeFileSync(image, '');
    fs.truncateSync(image, mb * 1024 * 1024);
    run('mkfs.ext4', [
      '-q',
      '-F',
      '-b',
      '4096',
      '-O',
      '^has_journal',
      '-E',
      'lazy_itable_init=1,nodiscard',
      image,
    ]);
    device = run('losetup', ['-f', '--show', image]);
    fs.mkdirSync(mountPoint);
    run('mount', ['-o', 'errors=continue', device, mountPoint]);
    return new ThinDisk(backing, device, mountPoint);
  } catch (error) {
    if (device !== undefined) spawnSync('losetup', ['-d', device]);
    unmountSmallDisk(backing);
    throw error;
  }
}

/** Unmounts a thin disk (lazily when busy), detaches its device and unmounts its room. */
export function unmountThinDisk(disk: ThinDisk): void {
  disk.free();
  if (spawnSync('umount', [disk.dir]).status !== 0) run('umount', ['-l', disk.dir]);
  run('losetup', ['-d', disk.device]);
  fs.rmSync(path.join(disk.backing.dir, 'disk.img'), { force: true });
  fs.rmdirSync(disk.dir);
  unmountSmallDisk(disk.backing);
}
