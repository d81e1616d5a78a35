/**
 * A durable JSON write in two halves: the temp file is written and synced first, before the
 * caller holds its lock, and renamed over its target later, under the lock, once the target is
 * known. No reader or other writer ever looks at a temp file, so writing it needs no lock; the
 * slowest step of a write (the fsync) then overlaps taking the lock and the checks made under
 * it, instead of following them. Crash safety is {@link atomicWriteJson}'s: the target changes
 * only by the rename, and a temp file left by a killed process is removed at start-up.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { JsonValue } from '../../core/index.js';
import {
  type AfterRename,
  type AtomicWriteOptions,
  closeQuietly,
  type FileIdentity,
  formatJson,
  ioError,
  syncDirsAlong,
  writeTemp,
  type WrittenTemp,
} from './atomic-json.js';
import { keepOldMode, type ReplacedStat } from './kept-modes.js';
import { releaseTempEntry, tempEntryName } from './temp-files.js';

/** How a staged file is written: the parts of {@link AtomicWriteOptions} that do not need the target. */
export type StageOptions = Pick<
  AtomicWriteOptions,
  'pretty' | 'createDir' | 'createDirFirst' | 'identity' | 'sharedSyncDirs' | 'openFoldersLater'
>;

/** A yes or no given later: whether a staged write needs its file's identity (see `StageOptions.identity`). */
export interface LaterAnswer {
  /** Settles with the answer once {@link LaterAnswer.give} is called (the first call counts). */
  readonly answer: Promise<boolean>;
  /** Gives the answer; later calls change nothing, so a `finally` may always give `false`. */
  give(yes: boolean): void;
}

/** A {@link LaterAnswer} not given yet. */
export function laterAnswer(): LaterAnswer {
  let give: (yes: boolean) => void = () => undefined;
  const answer = new Promise<boolean>((resolve) => {
    give = resolve;
  });
  return { answer, give };
}

/** A temp file being written and synced in its folder, not yet renamed over any target. */
export interface StagedJson {
  /** Path of the temp file. */
  readonly temp: string;
  /** Settles once the temp file is written and synced (its folder opened for the later sync). */
  readonly written: Promise<WrittenTemp>;
}

/**
 * Starts writing `value` to a new temp file in `dir` (named after `label`, usually the target's
 * file name). Every staged file must end in {@link commitStaged} or {@link discardStaged}.
 */
export function stageJson(dir: string, label: string, value: JsonValue, options: StageOptions): StagedJson {
  const temp = path.join(dir, tempEntryName(label));
  // Its rename waits for a lock: its folders are opened after it (see `writeTemp`).
  const written = writeTemp(temp, formatJson(value, options.pretty), options, true);
  // Its failure is reported by commitStaged, or dropped by discardStaged: never unhandled.
  written.catch(() => undefined);
  return { temp, written };
}

/**
 * Renames the staged file over `file` (in the same folder), after `beforeCommit` (the lock
 * check), then syncs the folder (`afterRename` alongside): from then on the new content
 * survives a crash. On a failure before the rename the temp file is removed and `file` is
 * unchanged. Returns the file's identity when it was asked. `replaced`: see {@link renameStaged}.
 */
export async function commitStaged(
  staged: StagedJson,
  file: string,
  beforeCommit?: () => void,
  afterRename?: AfterRename,
  replaced?: ReplacedStat,
): Promise<FileIdentity | undefined> {
  return syncRenamed(await renameStaged(staged, file, beforeCommit, replaced), file, afterRename);
}

/**
 * The first half of {@link commitStaged}: the rename, after `beforeCommit`. On failure the temp
 * file is removed and `file` is unchanged; on success the new content is visible but not yet
 * durable: {@link syncRenamed} must follow (a batch renames all its files first, then syncs
 * their folder once). The new file keeps the mode of the one it replaces (see `kept-modes.ts`),
 * whose stat is `replaced` when the caller took one (else it is looked up).
 */
export async function renameStaged(
  staged: StagedJson,
  file: string,
  beforeCommit?: () => void,
  replaced?: ReplacedStat,
): Promise<WrittenTemp> {
  let written: WrittenTemp | undefined;
  try {
    written = await staged.written;
    await keepOldMode(staged.temp, file, written.made, replaced);
    beforeCommit?.();
    await fs.promises.rename(staged.temp, file);
    return written;
  } catch (error) {
    await closeQuietly(written?.dirs);
    await fs.promises.unlink(staged.temp).catch(() => undefined);
    throw ioError('write', file, error);
  } finally {
    releaseTempEntry(staged.temp);
  }
}

/**
 * The second half of {@link commitStaged}: syncs the folders of a file renamed into place (with
 * `afterRename` alongside); returns its identity.
 */
export async function syncRenamed(
  written: WrittenTemp,
  file: string,
  afterRename?: AfterRename,
): Promise<FileIdentity | undefined> {
  await syncDirsAlong(written.dirs, file, afterRename && (() => afterRename(written.identity)));
  return written.identity;
}

/**
 * {@link syncRenamed} of many files, their folders synced together (one fsync per folder, see
 * `syncFolders`); a failure names `file` (one of them).
 */
export async function syncAllRenamed(written: readonly WrittenTemp[], file: string): Promise<void> {
  await syncDirsAlong(
    written.flatMap((one) => one.dirs),
    file,
  );
}

/** Abandons a staged file: waits for its write to settle, then removes it (nothing is left behind). */
export async function discardStaged(staged: StagedJson): Promise<void> {
  const written = await staged.written.catch(() => undefined);
  await closeQuietly(written?.dirs);
  await fs.promises.unlink(staged.temp).catch(() => undefined);
  releaseTempEntry(staged.temp);
}
