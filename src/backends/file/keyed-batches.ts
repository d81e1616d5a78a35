/**
 * A batch of writes to one keyed folder (`keyed-files.ts`; the cache), in the raw writer's
 * phases instead of one locked write per key: every temp file is written and fsynced at once
 * while every key's lock is taken, then each key's name is chosen (D3) and its file renamed in,
 * then the folder is fsynced once for all of them. One locked write per key, 32 at once, made
 * the same calls but waited for a folder fsync per group of writes that renamed together, and
 * for the slowest write of each group before the next could start.
 *
 * Guarantees kept: each key's file changes only by a rename under its lock (checked just before
 * it); keys sharing a lock (one reference name, see `keyLockName`) are placed one after another,
 * so the name check of one sees the other's rename; a key counts as written once its rename and
 * the folder's fsync after it succeeded, and a failure reports exactly those keys. Locks are taken
 * in the order of their lock files, so batches (in this process or another) never wait for each
 * other in a cycle, and a single write holds one lock only. A large batch goes in slices
 * ({@link KEYS_PER_SLICE}), each in those phases.
 */
import { type JsonObject, StorageError } from '../../core/index.js';
import type { AssertLockHeld, FileLocks } from './file-lock.js';
import type { KeyedFiles } from './keyed-files.js';
import type { PlacedEntry } from './keyed-names.js';
import { discardStaged, type StagedJson, syncAllRenamed } from './staged-json.js';

/** One key's new entry. */
export interface KeyedWrite {
  key: string;
  envelope: JsonObject;
}

/**
 * Runs `task` holding every lock of `names` (repeated names count once), taken one after another
 * in the order of their lock files; `task` gets one check that every lock is still held.
 */
export async function runHoldingAll<T>(
  locks: FileLocks,
  names: readonly string[],
  task: (assertHeld: AssertLockHeld) => Promise<T>,
): Promise<T> {
  const ordered = [...new Set(names)]
    .map((name) => ({ name, target: locks.targetFor(name) }))
    .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const checks: AssertLockHeld[] = [];
  const assertAll: AssertLockHeld = () => checks.forEach((check) => check());
  const from = (i: number): Promise<T> => {
    const lock = ordered[i];
    if (lock === undefined) return task(assertAll);
    return locks.run(
      lock.name,
      (assertHeld) => {
        checks.push(assertHeld);
        return from(i + 1);
      },
      lock.target,
    );
  };
  return from(0);
}

/**
 * Keys a batch writes in one go (their temp files open, their locks held): a batch of up to
 * `MAX_BATCH_ITEMS` (1,000) is written in slices of this many, one after another, so it never
 * holds more descriptors or locks than this at once.
 */
export const KEYS_PER_SLICE = 128;

/**
 * Writes every entry of `writes` (distinct keys) into `files`, a folder without backups (the
 * cache), as above, {@link KEYS_PER_SLICE} keys at a time; `written` learns each key written.
 * Rejects with the first failure once nothing of its slice is running any more; later slices
 * then do not start.
 */
export async function writeKeyedBatch<T extends { key: string }>(
  files: KeyedFiles<T>,
  locks: FileLocks,
  writes: readonly KeyedWrite[],
  written: (key: string) => void,
): Promise<void> {
  // A backup must be taken under each key's lock before its rename: not made here.
  if (files.keepsBackups) throw new StorageError('A batch writes only keyed folders without backups');
  for (let from = 0; from < writes.length; from += KEYS_PER_SLICE) {
    await writeSlice(files, locks, writes.slice(from, from + KEYS_PER_SLICE), written);
  }
}

/** One slice of {@link writeKeyedBatch}. */
async function writeSlice<T extends { key: string }>(
  files: KeyedFiles<T>,
  locks: FileLocks,
  writes: readonly KeyedWrite[],
  written: (key: string) => void,
): Promise<void> {
  const staged = writes.map(({ key, envelope }) => files.stage(key, envelope, false, true));
  const handedOver = writes.map(() => false);
  // Keys sharing a lock (one reference name), in batch order: the first of each is placed with
  // the batch; the others one after another afterwards, each write finished (its old copy
  // removed) before the next one's name check, as single writes under that lock would be.
  const groups = new Map<string, number[]>();
  writes.forEach(({ key }, i) => {
    const name = files.lockName(key);
    groups.set(name, [...(groups.get(name) ?? []), i]);
  });
  let failure: { error: unknown } | undefined;
  const attempt = async <R>(step: () => Promise<R>): Promise<R | undefined> =>
    step().catch((error: unknown) => {
      failure ??= { error };
      return undefined;
    });
  try {
    await runHoldingAll(locks, [...groups.keys()], async (assertHeld) => {
      const place = (i: number) =>
        attempt(() =>
          files.place(
            (writes[i] as KeyedWrite).key,
            staged[i] as StagedJson,
            assertHeld,
            async () => {
              handedOver[i] = true; // renameStaged removes the temp file itself if it fails
            },
            'now',
          ),
        );
      const finish = async (entries: Array<[index: number, entry: PlacedEntry | undefined]>) => {
        const renamed = entries.filter((pair): pair is [number, PlacedEntry] => pair[1] !== undefined);
        const [first] = renamed;
        if (first === undefined) return;
        const synced = await attempt(async () => {
          await syncAllRenamed(
            renamed.map(([, entry]) => entry.written),
            first[1].target,
          );
          return true;
        });
        if (synced !== true) return;
        for (const [i] of renamed) written((writes[i] as KeyedWrite).key);
        for (const [, entry] of renamed) await files.dropOldCopy(entry);
      };
      // The name checks look up their names at once, after every temp file of the batch is
      // created: then no create of its own holds the folder (see `existsSoon`).
      await Promise.allSettled(staged.map((one) => one.written));
      const firsts = [...groups.values()].map((indexes) => indexes[0] as number);
      const placed = await Promise.all(firsts.map(place));
      // Every rename is done: one fsync of the folder serves them all (see `folder-sync.ts`).
      await finish(firsts.map((i, n) => [i, placed[n]]));
      for (const i of [...groups.values()].flatMap((indexes) => indexes.slice(1)).sort((x, y) => x - y)) {
        await finish([[i, await place(i)]]);
      }
    });
  } finally {
    await Promise.all(staged.map((one, i) => (handedOver[i] ? undefined : discardStaged(one))));
  }
  if (failure) throw failure.error;
}
