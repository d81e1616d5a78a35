/**
 * A batch of removals from one keyed folder (`keyed-files.ts`; the cache): each key's files
 * are removed as a single delete removes them (`removeKeyFiles`), under that key's lock, but
 * with every lock of a slice held at once, the keys' removals running together, and one
 * folder fsync for all of them (joined with the folder's concurrent writes, `folder-sync.ts`)
 * instead of one per key.
 *
 * Nothing is half-removed: a key with two copies (a crash's leftover) loses the stale one
 * first, synced before the current one goes, as a single delete does, so a failure between
 * the two leaves the key's current value. A key counts as removed once its files are gone
 * (or were absent) and the folder's fsync after it succeeded; a failure reports exactly those.
 * Locks are taken in the order of their lock files (`runHoldingAll`), so batches never wait
 * for each other in a cycle.
 */
import { ioError } from './durable-dirs.js';
import type { FileLocks } from './file-lock.js';
import { prepareFolderSync, syncFolders } from './folder-sync.js';
import { KEYS_PER_SLICE, runHoldingAll } from './keyed-batches.js';
import type { KeyedFiles } from './keyed-files.js';
import { removeKeyFiles } from './keyed-removals.js';

/**
 * Removes the entries of `keys` (a key may repeat; an absent key is no error) from `files`,
 * {@link KEYS_PER_SLICE} distinct keys at a time; `removed` learns each key known removed.
 * Rejects with the first failure once nothing of its slice is running any more; later slices
 * then do not start.
 */
export async function removeKeyedBatch<T extends { key: string }>(
  files: KeyedFiles<T>,
  locks: FileLocks,
  keys: readonly string[],
  removed: (key: string) => void,
): Promise<void> {
  const distinct = [...new Set(keys)];
  for (let from = 0; from < distinct.length; from += KEYS_PER_SLICE) {
    await removeSlice(files, locks, distinct.slice(from, from + KEYS_PER_SLICE), removed);
  }
}

/** One slice of {@link removeKeyedBatch}. */
async function removeSlice<T extends { key: string }>(
  files: KeyedFiles<T>,
  locks: FileLocks,
  keys: readonly string[],
  removed: (key: string) => void,
): Promise<void> {
  // Keys sharing a lock (one reference name) are removed one after another, as single deletes
  // under that lock would be; the groups run at once.
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const name = files.lockName(key);
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [key]);
    else group.push(key);
  }
  const { folder } = files;
  const done: string[] = [];
  let unlinked = false;
  let failure: { error: unknown } | undefined;
  await runHoldingAll(locks, [...groups.keys()], async (assertHeld) => {
    await Promise.all(
      [...groups.values()].map(async (group) => {
        for (const key of group) {
          if (failure !== undefined) return; // the batch fails: start no more removals
          try {
            if (await removeKeyFiles(folder, key, null, assertHeld, false)) unlinked = true;
            done.push(key);
          } catch (error) {
            failure ??= { error };
          }
        }
      }),
    );
    // One fsync of the folder, started after every unlink above, makes them all durable; none
    // when no file existed, as for a single delete. (A key that failed after removing a stale
    // copy synced that removal itself, before trying its current file.)
    if (!unlinked) return;
    try {
      await syncFolders([prepareFolderSync(folder.dir, true, false)]);
    } catch (error) {
      failure ??= { error: ioError('sync folder', folder.dir, error) };
      done.length = 0; // none is known durable
    }
  });
  for (const key of done) removed(key);
  if (failure !== undefined) throw failure.error;
}
