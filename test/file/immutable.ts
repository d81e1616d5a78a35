/**
 * Real file-system faults for the file backend's tests: a file or folder made immutable
 * (`chattr +i`), which even root may not unlink, rename or write into (EPERM). Setting the flag
 * needs CAP_LINUX_IMMUTABLE and a file system that has it (ext4, xfs, btrfs, tmpfs): without
 * them {@link describeImmutable} skips its suite with a loud notice.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Sets (`+i`) or clears (`-i`) the immutable flag; the error text, or `null` when it worked. */
function chattr(flag: '+i' | '-i', target: string): string | null {
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

/** Made immutable by {@link makeImmutable}, cleared by {@link clearImmutable}. */
const flagged: string[] = [];

/** Makes `target` immutable until {@link clearImmutable} (throws when the flag cannot be set). */
export function makeImmutable(target: string): void {
  const reason = chattr('+i', target);
  if (reason !== null) throw new Error(reason);
  flagged.push(target);
}

/** Clears every flag {@link makeImmutable} set (else their folders cannot be removed). */
export function clearImmutable(): void {
  for (const target of flagged.splice(0)) chattr('-i', target);
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
