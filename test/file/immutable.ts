/**
 * Real file-system faults for the file backend's tests: a file or folder made immutable
 * (`chattr +i`), which even root may not unlink, rename or write into (EPERM), or a folder made
 * append-only (`chattr +a`), where files can be created but not unlinked or renamed. Setting a flag
 * needs CAP_LINUX_IMMUTABLE and a file system that has it (ext4, xfs, btrfs, tmpfs): without
 * them {@link describeImmutable} skips its suite with a loud notice.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Sets or clears the immutable (`i`) or append-only (`a`) flag; the error text, or `null` when it worked. */
function chattr(flag: '+i' | '-i' | '+a' | '-a', target: string): string | null {
  const result = spawnSync('chattr', [flag, target], { encoding: 'utf8' });
  if (result.error) return result.error.message;
  return result.status === 0 ? null : `chattr ${flag} ${target}: ${result.stderr.trim()}`;
}

let probed: { reason: string | null } | undefined;

/** Why the immutable flag cannot be set in the temp folder, or `null` when it can (probed once). */
function unavailableReason(): string | null {
  if (probed === undefined) {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'connectome-immutable-probe-'));
    const reason = chattr('+i', dir);
    if (reason === null) chattr('-i', dir);
    fs.rmdirSync(dir);
    probed = { reason };
  }
  return probed.reason;
}

/** Flagged by {@link makeImmutable} or {@link makeAppendOnly}, cleared by {@link clearImmutable}. */
const flagged: Array<[target: string, flag: 'i' | 'a']> = [];

/** Sets the flag `which` on `target` until {@link clearImmutable} (throws when it cannot be set). */
function flag(target: string, which: 'i' | 'a'): void {
  const reason = chattr(`+${which}`, target);
  if (reason !== null) throw new Error(reason);
  flagged.push([target, which]);
}

/** Makes `target` immutable until {@link clearImmutable} (throws when the flag cannot be set). */
export function makeImmutable(target: string): void {
  flag(target, 'i');
}

/**
 * Makes the folder `target` append-only until {@link clearImmutable}: a file can be created
 * and written in it, and then neither unlinked nor renamed (EPERM), even by root.
 */
export function makeAppendOnly(target: string): void {
  flag(target, 'a');
}

/** Clears every flag set here (else their folders cannot be removed). */
export function clearImmutable(): void {
  for (const [target, set] of flagged.splice(0)) chattr(`-${set}`, target);
}

/**
 * `describe` when the immutable flag can be set, else `describe.skip` after a loud notice; its
 * suites clear the flags after each test, before the stores shut down and their folders go.
 */
export function describeImmutable(name: string, body: () => void): void {
  const reason = unavailableReason();
  if (reason !== null) {
    console.warn(
      `\n!!! SKIPPING IMMUTABLE-FILE TESTS (${name}): ${reason}\n!!! They need CAP_LINUX_IMMUTABLE.\n`,
    );
    describe.skip(name, body);
    return;
  }
  describe(name, () => {
    afterEach(clearImmutable);
    body();
  });
}
