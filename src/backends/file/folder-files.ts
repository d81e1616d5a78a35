/**
 * Writes inside the per-conversation and per-agent folders: every write runs under its folder's
 * lock, backs up the file it replaces and replaces it atomically; a conversation is deleted
 * with one rename, so it is gone all at once or not at all. Where the file system folds names,
 * an id whose folder is another id's (`Conv` when `conv` exists) is refused before any write.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { InvalidIdError, type JsonObject, type JsonValue, StorageError } from '../../core/index.js';
import { atomicWriteJson, type FileIdentity, makeDirUnder } from './atomic-json.js';
import type { Backups } from './backups.js';
import type { AssertLockHeld, FileLocks } from './file-lock.js';
import { folderLockName, type StoreLayout } from './layout.js';
import { ListFileCache, type ListSnapshot } from './list-cache.js';
import { LIST_FIELDS, RecordCounts } from './record-counts.js';
import { commitStaged, discardStaged, laterAnswer, stageJson } from './staged-json.js';
import { removeConversationFolder, removeFolderFile, type RemovalContext } from './folder-removals.js';
import { knownStat, type ReplacedStat } from './kept-modes.js';
import { isMissing } from './temp-files.js';
import { quoteName } from '../../core/shown-text.js';

/**
 * Folders remembered as existing at most. Past it the least recently written one is forgotten
 * (its next write makes the folder first: one `mkdir` more, finding it there), not all of them.
 * An entry is only a hint, so one gone stale (the folder removed by another process) costs a
 * failed open and the folder is made again.
 */
const MAX_KNOWN_DIRS = 10_000;
let knownDirsBound = MAX_KNOWN_DIRS;

/** Test seam (not exported by the package): stores made from now on remember at most `max` folders. */
export function resetKnownDirsBound(max = MAX_KNOWN_DIRS): void {
  knownDirsBound = max;
}

/**
 * Told of every change to a conversation's or agent's data file, under the folder's lock,
 * right after the change (the search index keeps in step this way).
 */
export interface FolderWriteListener {
  /** `file` was replaced by `content`; `identity` is the new file's (see `identityOf`). */
  written(file: string, content: JsonObject, identity: FileIdentity | undefined): Promise<void>;
  /** `file` was removed (or was already absent). */
  removed(file: string): Promise<void>;
  /** The conversation folder `dir` was removed with everything in it. */
  removedFolder(dir: string): Promise<void>;
}

/** A write that runs holding a lock; `assertHeld` throws if the lock was lost meanwhile. */
export type LockedTask<T> = (assertHeld: AssertLockHeld) => Promise<T>;

/** Locked, backed-up, atomic writes to the files of conversation and agent folders. */
export class FolderFiles {
  private readonly lists = new ListFileCache();
  /**
   * Folders this store wrote into last (at most {@link MAX_KNOWN_DIRS}, least recently written
   * forgotten first): a write elsewhere (likely a new conversation or agent) creates its folder
   * before the first try instead of after a failed one.
   */
  private readonly knownDirs = new LRUCache<string, true>({ max: knownDirsBound });
  /** What {@link remove} and {@link removeConversation} update (see `folder-removals.ts`). */
  private readonly removals: RemovalContext;

  /**
   * @param layout where the folders are.
   * @param locks the store's cross-process locks.
   * @param backups the store's backup maker.
   * @param pretty indent JSON (`prettyPrintJson`).
   * @param listener told of every change (the search index), or `null`.
   * @param counts record counts of the list files, kept in step with every write (for stats).
   */
  constructor(
    private readonly layout: StoreLayout,
    private readonly locks: FileLocks,
    private readonly backups: Backups,
    private readonly pretty: boolean,
    private readonly listener: FolderWriteListener | null = null,
    readonly counts = new RecordCounts(),
  ) {
    const { lists, knownDirs } = this;
    this.removals = { layout, backups, lists, counts, listener, knownDirs };
  }

  /**
   * Runs `task` holding a conversation's lock (every file of a conversation shares it); rejects
   * with {@link InvalidIdError} when the id's folder belongs to a case/normalisation twin.
   */
  withConversation<T>(conversationId: string, task: LockedTask<T>): Promise<T> {
    return this.locks.run(folderLockName('conversation', conversationId), async (assertHeld) => {
      await this.refuseTwin('conversationId', this.layout.conversationsDir, conversationId);
      return task(assertHeld);
    });
  }

  /** Runs `task` holding an agent's lock; refuses a twin id as {@link withConversation} does. */
  withAgent<T>(agentId: string, task: LockedTask<T>): Promise<T> {
    return this.locks.run(folderLockName('agent', agentId), async (assertHeld) => {
      await this.refuseTwin('agentId', this.layout.agentsDir, agentId);
      return task(assertHeld);
    });
  }

  /**
   * The id owning `id`'s folder when it is another one (only where the file system folds
   * names; no I/O otherwise), else `null`. Reads of such an id find nothing.
   */
  twinOf(parent: string, id: string): Promise<string | null> {
    return this.layout.names.twinOf(parent, id);
  }

  /** Checked under the folder's lock, which twins share (see `folderLockName`), so no twin appears meanwhile. */
  private async refuseTwin(field: 'conversationId' | 'agentId', parent: string, id: string): Promise<void> {
    const twin = await this.twinOf(parent, id);
    if (twin === null) return;
    throw new InvalidIdError(
      field,
      id,
      `the file system of ${parent} does not tell it apart from the existing ${quoteName(twin)} ` +
        '(it ignores case or Unicode normalisation), so both would share one folder; nothing was written',
    );
  }

  /**
   * Backs up the current `file`, then replaces it atomically; the caller holds its folder's
   * lock. The folder is created when missing (never the base folder, see `ensureDirUnder`).
   * `readList`: for a list file, the list as read from it (see {@link write}).
   */
  async replace(
    file: string,
    envelope: JsonObject,
    assertHeld: AssertLockHeld,
    readList?: readonly JsonValue[],
  ): Promise<void> {
    this.lists.forget(file);
    const tracked = this.listener !== null;
    const backUp = () => this.backups.beforeOverwrite(file);
    const identity = await this.write(file, envelope, assertHeld, backUp, tracked, readList);
    this.counts.written(file, envelope, identity);
    await this.listener?.written(file, envelope, identity);
  }

  /**
   * Replaces a conversation's `file` (backed up) under the conversation's lock. Where names do
   * not fold, its temp file is written and synced before the lock is held (see `staged-json.ts`);
   * where they do, nothing may be written before the twin check under the lock.
   */
  async replaceInConversation(conversationId: string, file: string, envelope: JsonObject): Promise<void> {
    if (this.layout.names.folds) {
      await this.withConversation(conversationId, (assertHeld) => this.replace(file, envelope, assertHeld));
      return;
    }
    const dir = path.dirname(file);
    // The index (listener) and the counts of list files need the new file's identity; backups
    // only when this write backed up an old file (decided under the lock).
    const backedUp = laterAnswer();
    const tracked = this.listener !== null || LIST_FIELDS[path.basename(file)] !== undefined;
    let madeDir = false;
    const staged = stageJson(dir, path.basename(file), envelope, {
      pretty: this.pretty,
      createDir: async () => {
        const made = await makeDirUnder(this.layout.baseDir, dir);
        madeDir ||= made.length > 0;
        return made;
      },
      createDirFirst: !this.knownDirs.has(dir),
      identity: tracked || (this.backups.enabled && backedUp.answer),
      sharedSyncDirs: this.layout.fixedDirs,
    });
    let handedOver = false;
    try {
      await this.withConversation(conversationId, async (assertHeld) => {
        this.lists.forget(file);
        await this.backups.beforeOverwrite(file);
        backedUp.give(this.backups.remembers(file));
        handedOver = true; // commitStaged removes the temp file itself if it fails
        let identity: string | undefined;
        try {
          // Old backups are pruned once the file is in place (see Backups.landed).
          const landed = (id: FileIdentity | undefined) => this.backups.landed(file, id);
          identity = await commitStaged(staged, file, assertHeld, landed, this.backups.replacedStat(file));
        } catch (error) {
          await this.backups.abandon(file);
          // A delete (under this lock) moved the folder away with the temp file: write it again.
          if (!(error instanceof StorageError && isMissing(error.cause))) throw error;
          await this.replace(file, envelope, assertHeld);
          return;
        }
        this.wrote(file);
        this.counts.written(file, envelope, identity);
        await this.listener?.written(file, envelope, identity);
      });
    } finally {
      backedUp.give(false); // no answer yet (the lock or the backup failed): the temp file closes
      if (!handedOver) {
        await discardStaged(staged);
        // The folder this write made is litter if nothing else is in it. Removed without the
        // lock (this write never had it): rmdir fails on a folder holding another writer's
        // file, and a writer that made the folder and lost it before its open makes it again
        // (`openTemp`); a staged one, which lost its temp file, writes again under the lock.
        if (madeDir) await fs.promises.rmdir(dir).catch(() => undefined);
      }
    }
  }

  /**
   * A list file's items for a read-modify-write (the caller holds its folder's lock): the list
   * this process wrote last when the file is unchanged since, else read by `readFromDisk`.
   */
  readList(file: string, readFromDisk: () => Promise<JsonValue[]>): Promise<ListSnapshot> {
    return this.lists.load(file, readFromDisk);
  }

  /**
   * A list file's items for a load (`null`: no file), kept parsed while the file is unchanged
   * (see `list-cache.ts`); shared with the cache, so the caller copies what it hands out.
   */
  loadList(
    file: string,
    parse: (file: string, value: JsonValue, text: string) => JsonValue[],
  ): Promise<JsonValue[] | null> {
    return this.lists.read(file, parse);
  }

  /**
   * {@link replace} for a list file read by {@link readList}: `list` is the new content inside
   * `envelope`, kept for the next update; `read`'s stat spares the backup one of its own.
   */
  async replaceList(
    file: string,
    list: JsonValue[],
    envelope: JsonObject,
    read: ListSnapshot,
    assertHeld: AssertLockHeld,
  ): Promise<void> {
    this.lists.forget(file);
    const backUp = () => this.backups.beforeOverwrite(file, read.stat);
    const identity = await this.write(file, envelope, assertHeld, backUp, true, read.list, read.stat);
    if (identity !== undefined) this.lists.remember(file, identity, list);
    this.counts.written(file, envelope, identity);
    await this.listener?.written(file, envelope, identity);
  }

  /**
   * Writes `file`, backing up the old one (`backUp`) meanwhile; returns its identity when asked
   * or tracked. A list file reuses its records' encoded bytes (see `list-format.ts`), and those
   * of `readList`, the list as read from it, keep the text they had (see `record-texts.ts`).
   * The new file keeps the old one's mode (see `kept-modes.ts`): `known` is the old file's stat
   * when the caller took one, else the backup's is used, else it is looked up.
   */
  private async write(
    file: string,
    envelope: JsonObject,
    assertHeld: AssertLockHeld,
    backUp: () => Promise<void>,
    identity = false,
    readList?: readonly JsonValue[],
    known?: ReplacedStat,
  ): Promise<string | undefined> {
    const dir = path.dirname(file);
    const listField = LIST_FIELDS[path.basename(file)];
    let written: string | undefined;
    try {
      written = await atomicWriteJson(file, envelope, {
        pretty: this.pretty,
        beforeCommit: assertHeld,
        createDir: () => makeDirUnder(this.layout.baseDir, dir),
        createDirFirst: !this.knownDirs.has(dir),
        // Backups remember the file's identity (see Backups.landed).
        identity: identity || this.backups.enabled,
        beforeRename: backUp,
        replaced: () => knownStat(this.backups.replacedStat(file), known),
        afterRename: (id) => this.backups.landed(file, id),
        sharedSyncDirs: this.layout.fixedDirs,
        ...(listField === undefined ? {} : { listField, ...(readList ? { readList } : {}) }),
      });
    } catch (error) {
      await this.backups.abandon(file);
      throw error;
    }
    this.wrote(file);
    return written;
  }

  /** Records a write of `file`: its folder as existing. */
  private wrote(file: string): void {
    this.knownDirs.set(path.dirname(file), true); // the most recently written from now on
  }

  /**
   * Backs up and deletes `file` (nothing when absent), then its folder when that is left empty;
   * the caller holds the folder's lock. `dropBackups`: a whole-record delete, which makes no
   * backup and removes the file's backups (see `removeFolderFile`).
   */
  remove(file: string, assertHeld: AssertLockHeld, dropBackups = false): Promise<void> {
    return removeFolderFile(this.removals, file, assertHeld, dropBackups);
  }

  /** Removes a conversation's folder with everything in it; nothing when absent. */
  async removeConversation(conversationId: string): Promise<void> {
    await this.locks.run(folderLockName('conversation', conversationId), async (assertHeld) => {
      // A twin's folder is not this id's: this id has nothing stored, so there is nothing to delete.
      if ((await this.twinOf(this.layout.conversationsDir, conversationId)) !== null) return;
      const dir = this.layout.conversationDir(conversationId);
      await removeConversationFolder(this.removals, dir, assertHeld);
    });
  }
}
