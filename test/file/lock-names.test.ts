/**
 * The file backend's cross-process lock files are named by a hash of the lock's name: processes
 * of different versions sharing a store must take the same file for the same key or id, so the
 * name is part of the on-disk format. The digests below are those the version before
 * 2026-12-04's message bounds computed (checked against d0655b4).
 */
import { FileLocks } from '../../src/backends/file/file-lock.js';
import { folderLockName, keyLockName } from '../../src/backends/file/layout.js';

const locks = new FileLocks('/locks');

describe('file lock names', () => {
  it('name a long cache key by the whole key, not by the bounded form messages show', () => {
    expect(locks.targetFor(keyLockName('cache', `${'a'.repeat(300)}b`))).toBe(
      '/locks/436ae4096b7e2b51c1002dcc5e722d61',
    );
    // Two keys that a message shows alike still take two locks.
    expect(keyLockName('cache', `${'a'.repeat(300)}b`)).not.toBe(keyLockName('cache', `${'a'.repeat(300)}c`));
  });

  it('name a folder by its whole case-folded id, which can be longer than the id itself', () => {
    // 254 UTF-8 bytes (a valid id), 381 characters once case-folded.
    expect(locks.targetFor(folderLockName('conversation', 'ΐ'.repeat(127)))).toBe(
      '/locks/11243b49d6040298a221cb29e10a6101',
    );
  });
});
