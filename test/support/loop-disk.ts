/**
 * A real disk that turns read-only while files on it are open, for tests: a small ext4 file
 * system in an image file on a loop device, mounted with `errors=remount-ro`. Writing to
 * `/sys/fs/ext4/<device>/trigger_fs_error` makes the kernel report a file-system error, and it
 * then remounts the disk read-only at once, as it does on a real disk error: every later change
 * fails with EROFS (and a sync of what was not yet on disk with EIO), reads keep working. A
 * tmpfs cannot do this: `mount -o remount,ro` refuses while a store holds a file open for
 * writing (its byte-range lock file). Needs root, `losetup`, `mkfs.ext4` and a free loop
 * device: without them a suite is skipped with a loud notice.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Runs a command; its stdout, or throws with its stderr. */
export function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')}: ${result.stderr.trim() || `exit ${result.status}`}`);
  }
  return result.stdout.trim();
}

/** A mounted loop disk: the folder it is mounted on, its device and image file. */
export class LoopDisk {
  /** Where the file system is mounted; a store goes in a folder under it. */
  readonly dir: string;

  constructor(
    /** Temp folder holding the image and the mount point. */
    readonly root: string,
    /** The loop device, e.g. `/dev/loop3`. */
    readonly device: string,
  ) {
    this.dir = path.join(root, 'mnt');
  }

  /** The kernel's emergency read-only remount, as after a disk error; checks that writes now fail. */
  failReadOnly(): void {
    fs.writeFileSync(`/sys/fs/ext4/${path.basename(this.device)}/trigger_fs_error`, '1');
    try {
      fs.mkdirSync(path.join(this.dir, '.read-only-probe'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EROFS') return;
      throw error;
    }
    throw new Error(`${this.dir} is still writable after the error`);
  }

  /** Unmounts and mounts again, writable (as after a reboot: the journal is replayed). Nothing may be open. */
  remount(): void {
    run('umount', [this.dir]);
    run('mount', ['-o', 'errors=remount-ro', this.device, this.dir]);
  }
}

/** Mounts a fresh loop disk of `mb` megabytes; {@link unmountLoopDisk} undoes it (also when this fails part-way). */
export function mountLoopDisk(mb: number): LoopDisk {
  const root = fs.mkdtempSync(path.join(tmpdir(), 'connectome-loop-'));
  const image = path.join(root, 'disk.img');
  let device: string | undefined;
  try {
    fs.writeFileSync(image, '');
    fs.truncateSync(image, mb * 1024 * 1024);
    run('mkfs.ext4', ['-q', '-F', image]);
    device = run('losetup', ['-f', '--show', image]);
    fs.mkdirSync(path.join(root, 'mnt'));
    run('mount', ['-o', 'errors=remount-ro', device, path.join(root, 'mnt')]);
    return new LoopDisk(root, device);
  } catch (error) {
    if (device !== undefined) spawnSync('losetup', ['-d', device]);
    fs.rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

/** Unmounts a loop disk (lazily when busy), detaches its device and removes its image. */
export function unmountLoopDisk(disk: LoopDisk): void {
  if (spawnSync('umount', [disk.dir]).status !== 0) run('umount', ['-l', disk.dir]);
  run('losetup', ['-d', disk.device]);
  fs.rmSync(disk.root, { recursive: true, force: true });
}

let probed: string | null | undefined;

/** Why a loop disk cannot be used here, or `null` when it can (probed once per test file). */
export function loopDiskUnavailableReason(): string | null {
  if (probed !== undefined) return probed;
  try {
    const disk = mountLoopDisk(4);
    try {
      fs.accessSync(`/sys/fs/ext4/${path.basename(disk.device)}/trigger_fs_error`, fs.constants.W_OK);
    } finally {
      unmountLoopDisk(disk);
    }
    probed = null;
  } catch (error) {
    probed = error instanceof Error ? error.message : String(error);
  }
  return probed;
}

/** `describe` for a suite that needs a loop disk: skipped loudly when one cannot be made. */
export function describeWithLoopDisk(): jest.Describe {
  const reason = loopDiskUnavailableReason();
  if (reason === null) return describe;
  console.warn(
    `\n!!! SKIPPING READ-ONLY DISK TESTS: cannot mount an ext4 loop disk (${reason}).\n` +
      `!!! They need root (CAP_SYS_ADMIN), losetup, mkfs.ext4 and a free loop device.\n`,
  );
  return describe.skip;
}

/** A fresh loop disk per test (mounted before it, unmounted after it, also when it fails). */
export function useLoopDisk(mb: number): () => LoopDisk {
  let disk: LoopDisk | undefined;
  beforeEach(() => {
    disk = mountLoopDisk(mb);
  });
  afterEach(() => {
    const current = disk;
    disk = undefined;
    if (current !== undefined) unmountLoopDisk(current);
  });
  return () => {
    if (disk === undefined) throw new Error('loop disk used outside a test');
    return disk;
  };
}
