/**
 * Removals inside the conversation and agent folders, for {@link FolderFiles}: a data file
 * (backed up first, its folder removed when left empty), or a whole conversation folder moved
 * to the trash with one rename, so it is gone all at once or not at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { StorageError } from '../../core/index.js';
import { ensureDirUnder, fsyncDir, ioError } from './atomic-json.js';
import type { Backups } from './backups.js';
import { forgetEntry } from './durable-entries.js';
import type { AssertLockHeld } from './file-lock.js';
import type { FolderWriteListener } from './folder-files.js';
import { INTERNAL_DIR, type StoreLayout } from './layout.js';
import type { ListFileCache } from './list-cache.js';
import type { RecordCounts } from './record-counts.js';
import { isMissing, releaseTempEntry, tempEntryName } from './temp-files.js';

/** What a removal updates besides the files: the folder files' caches, backups and listener. */
export interface RemovalContext {
  readonly layout: StoreLayout;
  readonly backups: Backups;
  readonly lists: ListFileCache;
  readonly counts: RecordCounts;
  readonly listener: FolderWriteListener | null;
  /** Folders the store wrote into last (see `FolderFiles`): a removed one is forgotten. */
  readonly knownDirs: { delete(dir: string): boolean };
}

/**
 * Backs up and deletes `file` (nothing when absent), then its folder when that is left empty;
 * the caller holds the folder's lock. `dropBackups` (a delete of the whole record: an agent's
 * chains): no backup is made, and the file's backups go with it, after it, so a delete cut
 * short never brings the data back, at worst leaves backups the delete run again removes.
 */
export async function removeFolderFile(
  ctx: RemovalContext,
  file: string,
  assertHeld: AssertLockHeld,
  dropBackups = false,
): Promise<void> {
  ctx.lists.forget(file);
  ctx.counts.forget(file);
  if (!dropBackups) await ctx.backups.beforeOverwrite(file);
  const dir = path.dirname(file);
  let removed: boolean;
  try {
    assertHeld();
    removed = await fs.promises.unlink(file).then(
      () => true,
      (error: unknown) => {
        // ENOTDIR: the id's "folder" is a stray file (a `.DS_Store`), which holds no data file.
        if (isMissing(error)) return false;
        throw ioError('remove', file, error);
      },
    );
  } catch (error) {
    await ctx.backups.abandon(file);
    throw error;
  }
  await ctx.backups.landed(file, null);
  await ctx.listener?.removed(file);
  const dropped = dropBackups ? await ctx.backups.removeAll(file) : 0;
  if (!removed && dropped === 0) return;
  // A folder with nothing left is what an id with nothing stored looks like; one still
  // holding other files (or backups) stays.
  const removedDir = await fs.promises.rmdir(dir).then(
    () => true,
    () => false,
  );
  if (removedDir) {
    ctx.knownDirs.delete(dir);
    forgetEntry(dir);
  }
  // Make the unlink (or the folder's removal) durable.
  await fsyncDir(removedDir ? path.dirname(dir) : dir);
}

/**
 * Removes the conversation folder `dir` with everything in it (nothing when absent or no
 * folder, see {@link isStrayEntry}); the caller holds the conversation's lock and has checked
 * that the folder is this id's, not a twin's.
 */
export async function removeConversationFolder(
  ctx: RemovalContext,
  dir: string,
  assertHeld: AssertLockHeld,
): Promise<void> {
  ctx.lists.forgetUnder(dir);
  ctx.counts.forgetUnder(dir);
  ctx.knownDirs.delete(dir);
  forgetEntry(dir);
  // One rename takes every file away at once (all or nothing); removing the moved folder
  // afterwards cannot leave a half-deleted conversation behind.
  const trash = path.join(ctx.layout.trashDir, tempEntryName('conversation'));
  try {
    await moveToTrash(ctx, dir, assertHeld, trash);
  } finally {
    releaseTempEntry(trash);
  }
}

/** The rest of {@link removeConversationFolder}: moves `dir` to `trash`, then removes it. */
async function moveToTrash(
  ctx: RemovalContext,
  dir: string,
  assertHeld: AssertLockHeld,
  trash: string,
): Promise<void> {
  let renaming = false;
  let stray: boolean;
  let nestedStore: boolean;
  try {
    [, stray, nestedStore] = await Promise.all([
      ensureDirUnder(ctx.layout.baseDir, ctx.layout.trashDir),
      isStrayEntry(dir),
      holdsStore(dir),
    ]);
    if (!stray && !nestedStore) {
      assertHeld();
      renaming = true;
      await fs.promises.rename(dir, trash);
    }
  } catch (error) {
    // Already absent (or the whole store is gone); a segment left by another writer's delete
    // goes. A folder there by now that the rename did not find (the trash being there) was
    // made since by another process's write staging its temp file before taking this lock:
    // nothing of this id was stored, and that write lands after this delete.
    const absent =
      renaming && isMissing(error)
        ? !(await fse.pathExists(dir)) || (await fse.pathExists(ctx.layout.trashDir))
        : !(await fse.pathExists(dir));
    if (absent) return ctx.listener?.removedFolder(dir);
    throw ioError('delete conversation folder', dir, error);
  }
  if (nestedStore) throw nestedStoreError(dir);
  // A stray file (or a link to one, or to nothing) in the folder's place holds no conversation:
  // nothing of this id is stored, and a file this library did not write is not its to remove.
  if (stray) return ctx.listener?.removedFolder(dir);
  await fsyncDir(ctx.layout.conversationsDir);
  await ctx.listener?.removedFolder(dir);
  // A failure here only leaves garbage in the trash, which start-up removes.
  await fse.remove(trash).catch(() => undefined);
}

/**
 * True when `dir` is there but is no folder: a file, or a link to a file or to nothing. An
 * absent `dir`, or one that cannot be looked at, is left to the rename, which reports it. One
 * `lstat` (beside the trash folder's `mkdir`) but for a link.
 */
async function isStrayEntry(dir: string): Promise<boolean> {
  const entry = await fs.promises.lstat(dir).catch(() => null);
  if (entry === null || entry.isDirectory()) return false;
  if (!entry.isSymbolicLink()) return true;
  // A link to a folder is a conversation (see the README); to a file or to nothing, stray.
  const target = await fs.promises.stat(dir).catch(() => null);
  return target === null || !target.isDirectory();
}

/**
 * True when the folder `dir` holds this library's internal folder: it is the `baseDir` of
 * another store (a `FileStorage` opened on `<baseDir>/conversations/<id>`), whose data the
 * whole-folder removal would take with it. A link to a folder is not: the rename moves the link,
 * and its target stays. Two `lstat`s, made at once.
 */
function holdsStore(dir: string): boolean {
  // Look-ups the kernel answers from memory: made at once, not on the thread pool (see README).
  try {
    if (fs.lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) return false;
    return fs.lstatSync(path.join(dir, INTERNAL_DIR), { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false; // cannot be looked at: left to the rename, which reports it
  }
}

/** The refusal of a conversation delete whose folder is another store's `baseDir`. */
function nestedStoreError(dir: string): StorageError {
  return new StorageError(
    `Cannot delete conversation folder ${dir}: it holds ${INTERNAL_DIR}, so it is another store's baseDir ` +
      "(a store inside this one's conversations folder); nothing was removed (give that store a baseDir " +
      'outside this one, then delete the conversation)',
  );
}
