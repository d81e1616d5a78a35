/**
 * One folder of key → file entries (the cache and system state), with the D3 naming rule:
 * two distinct keys never share a file, files the reference wrote stay readable, and reads
 * and listing trust only the key recorded inside a file, never its name. On a file system that
 * folds names (case-insensitive), names are compared folded: of two plain keys differing only by
 * case, the one already holding `{key}.json` keeps it and the other uses its hashed name.
 */
import path from 'node:path';
import type { CorruptDataError, JsonObject, JsonValue, StorageLogger } from '../../core/index.js';
import { makeDirUnder, readdirOrEmpty } from './atomic-json.js';
import { isUnreadableBackupName } from './backup-names.js';
import { type BackupPolicy, Backups } from './backups.js';
import type { AssertLockHeld, FileLocks } from './file-lock.js';
import {
  candidateKeyFileNames,
  hashedKeyFileName,
  isPlainKey,
  keyLockName,
  sanitizedKeyFileName,
} from './layout.js';
import { KeptEntries, type ListedFile } from './kept-entries.js';
import { chooseTarget, type KeyedFolder, legacyCopyOf, type PlacedEntry, rankIn } from './keyed-names.js';
import { probeKeyedFile, probeKeyedFileNow } from './keyed-probes.js';
import { LoopTurns } from './loop-turns.js';
import type { FileNames } from './name-folding.js';
import { existsNow, existsSoon } from './metadata-now.js';
import {
  discardStaged,
  laterAnswer,
  renameStaged,
  type StagedJson,
  stageJson,
  syncRenamed,
} from './staged-json.js';
import { removeKeyFiles, removeOldCopy } from './keyed-removals.js';

/** Keys read by {@link KeyedFiles.readMany}, or files by a listing, per turn of the event loop. */
const KEYS_PER_TURN = 32;

/** What a parsed entry must tell: the key recorded in the file. */
interface Keyed {
  key: string;
}

/** How one kind of keyed file is handled. */
export interface KeyedFilesOptions<T extends Keyed> {
  /** The folder (`cache/` or `system/`). */
  dir: string;
  /** The store's base folder: `dir` is recreated under it if removed, never the base folder itself. */
  root: string;
  /** Lock namespace, e.g. `cache`. */
  kind: string;
  /** Checks a parsed file and says whose it is; throws {@link CorruptDataError} for a wrong shape. */
  parse: (file: string, value: JsonValue) => T;
  /** The store's cross-process locks. */
  locks: FileLocks;
  /** Indent JSON (`prettyPrintJson`). */
  pretty: boolean;
  /** Backups before overwrite, or `null` for none (the cache). */
  backups: BackupPolicy | null;
  /** The store's name rules (paths, and whether the file system folds names). */
  names: FileNames;
  /** Receives an old copy that could not be removed after a write (see {@link KeyedFiles.write}). */
  logger: StorageLogger | undefined;
}

/** A valid entry found on disk. */
export interface KeyedFile<T> {
  /** Absolute path of the file. */
  file: string;
  /** The parsed entry. */
  entry: T;
}

/** Key → file store for one folder (see the module comment). */
export class KeyedFiles<T extends Keyed> {
  private readonly backups: Backups | null;
  /** The folder's fsync is shared by concurrent writes: the store never removes it (see `folder-sync.ts`). */
  private readonly sharedSyncDirs: ReadonlySet<string>;
  /** Parsed files kept by {@link list} (only listings use them). */
  private readonly listed: KeptEntries<T>;

  constructor(private readonly options: KeyedFilesOptions<T>) {
    this.sharedSyncDirs = new Set([options.dir]);
    this.listed = new KeptEntries(options.parse);
    // A backup of a file that does not parse is marked, so listings never take it for a key's.
    const isUnreadable = async (file: string) =>
      (await probeKeyedFile(file, options.parse)).state === 'corrupt';
    this.backups = options.backups
      ? new Backups(options.backups, (file) => this.mayPrune(file), options.logger, isUnreadable)
      : null;
  }

  /** The entry stored for `key`, or `null`; a corrupt file that may be this key's throws. Never writes. */
  async read(key: string): Promise<T | null> {
    return this.find(key, (file) => probeKeyedFile(file, this.options.parse));
  }

  /**
   * {@link read} of many keys (results aligned), each file read synchronously: a page-cached
   * file costs about a third of the CPU of a read through the thread pool (see
   * `batch-reads.ts`); the event loop gets a turn every {@link KEYS_PER_TURN} keys or 10 ms.
   */
  async readMany(keys: readonly string[]): Promise<Array<T | null>> {
    const turns = new LoopTurns(KEYS_PER_TURN);
    const out: Array<T | null> = [];
    for (const key of keys) {
      await turns.step();
      out.push(await this.find(key, (file) => probeKeyedFileNow(file, this.options.parse)));
    }
    return out;
  }

  private async find(
    key: string,
    probeFile: (file: string) => ListedFile<T> | Promise<ListedFile<T>>,
  ): Promise<T | null> {
    const names = candidateKeyFileNames(key);
    // A key that is not plain (or, where names fold, a plain key whose case twin held the name)
    // moves from its hashed name back to the reference name when that is free again (written
    // there, then the hashed copy removed). A read probing the reference name just before the
    // write and the hashed name just after the removal finds neither, so it looks at the
    // reference name once more before saying "missing".
    if (names.length > 1 && (!isPlainKey(key) || this.options.names.folds)) names.push(names[0] as string);
    let corrupt: CorruptDataError | undefined;
    for (const name of names) {
      const probe = await probeFile(this.pathOf(name));
      if (probe.state === 'ok' && probe.entry.key === key) return probe.entry;
      if (probe.state === 'corrupt') corrupt ??= probe.error;
    }
    if (corrupt) throw corrupt;
    return null;
  }

  /** Stores `envelope` as `key`'s entry, choosing (and freeing) its file per D3. */
  async write(key: string, envelope: JsonObject): Promise<void> {
    const backups = this.backups;
    // The temp file is the same whichever name the key gets: it is written and synced while the
    // lock is taken and the name chosen, and only the rename waits for them.
    // Backups remember the identity of a file they just backed up (decided under the lock); a
    // new key's file needs none, and the cache keeps no backups.
    const backedUp = laterAnswer();
    const staged = this.stage(key, envelope, (backups?.enabled ?? false) && backedUp.answer);
    let handedOver = false;
    try {
      await this.options.locks.run(this.lockName(key), async (assertHeld) => {
        let backedUpFile = null as string | null;
        let placed: PlacedEntry;
        try {
          placed = await this.place(key, staged, assertHeld, async (target, replaced, unreadable) => {
            backedUpFile = target;
            await backups?.beforeOverwrite(target, undefined, replaced, unreadable);
            backedUp.give(backups?.remembers(target) ?? false);
            handedOver = true; // renameStaged removes the temp file itself if it fails
          });
          // Old backups are pruned once the file is in place (see Backups.landed).
          const { target } = placed;
          await syncRenamed(placed.written, target, async (id) => backups?.landed(target, id));
        } catch (error) {
          // The write did not land: its backup goes again (see Backups.abandon).
          if (backedUpFile !== null) await backups?.abandon(backedUpFile);
          throw error;
        }
        await this.dropOldCopy(placed);
      });
    } finally {
      backedUp.give(false); // no answer yet (the lock or the backup failed): the temp file closes
      if (!handedOver) await discardStaged(staged);
    }
  }

  /** Whether this folder keeps backups (a batch then writes key by key, see `keyed-batches.ts`). */
  get keepsBackups(): boolean {
    return this.backups !== null;
  }

  /** The cross-process lock every write of `key` holds (keys sharing a reference name share it). */
  lockName(key: string): string {
    return keyLockName(this.options.kind, key);
  }

  /**
   * Starts writing `key`'s temp file (see `stageJson`); it must end in {@link place} or
   * `discardStaged`. `identity`: see `StageOptions`; `inBatch`: the folder is opened by the
   * batch's one fsync (`openFoldersLater`).
   */
  stage(
    key: string,
    envelope: JsonObject,
    identity: boolean | Promise<boolean>,
    inBatch = false,
  ): StagedJson {
    const { dir, root, pretty } = this.options;
    return stageJson(dir, sanitizedKeyFileName(key) ?? hashedKeyFileName(key), envelope, {
      pretty,
      createDir: () => makeDirUnder(root, dir),
      identity,
      sharedSyncDirs: this.sharedSyncDirs,
      openFoldersLater: inBatch,
    });
  }

  /**
   * Under `key`'s lock: picks its file (D3, see `chooseTarget`) and renames `staged` over
   * it after `beforeRename` (which hands the temp file over: from then on a failure removes it).
   * `beforeRename` is told the file whose content the write replaces: the target, or the
   * reference's file of a key too long for it while the hashed name is free (it goes once the
   * write lands, so its version is backed up as the target's would be), and whether that file
   * does not parse when the name check read it (`undefined`: not read).
   * The folder sync ({@link syncRenamed}) and then {@link dropOldCopy} are the caller's.
   * `lookup`: the name checks' look-ups (and read of a file found) made through the pool or at
   * once (a batch, once its own temp files are all created: see `keyed-batches.ts`).
   */
  async place(
    key: string,
    staged: StagedJson,
    assertHeld: AssertLockHeld,
    beforeRename: (target: string, replaced: string, unreadable: boolean | undefined) => Promise<void>,
    lookup: 'pool' | 'now' = 'pool',
  ): Promise<PlacedEntry> {
    const hashed = this.pathOf(hashedKeyFileName(key));
    // An older copy under the key's hashed name (one key, one file) is looked for alongside
    // the name check; usually there is none, and then nothing is removed afterwards. Both
    // look up names that are usually missing: through the pool (see `existsSoon`), except in a
    // batch, whose own creates are done by then, so nothing of its own holds the folder.
    const hashedCopy = lookup === 'now' ? existsNow(hashed, false) : await existsSoon(hashed, false);
    const { file: target, unreadable } = await chooseTarget(this.folder, key, hashed, assertHeld, lookup);
    const legacyCopy = target === hashed ? await legacyCopyOf(this.folder, key, lookup) : null;
    // The legacy copy was just read: it is this key's entry, so it parses.
    const fromLegacy = target === hashed && !hashedCopy && legacyCopy !== null;
    await beforeRename(target, fromLegacy ? legacyCopy : target, fromLegacy ? false : unreadable);
    // The backup's stat of the file replaced gives the new file its mode (see `kept-modes.ts`).
    const written = await renameStaged(staged, target, assertHeld, this.backups?.replacedStat(target));
    if (target !== hashed && hashedCopy) return { target, written, oldCopy: { file: hashed, backup: true } };
    return { target, written, oldCopy: legacyCopy === null ? null : { file: legacyCopy, backup: false } };
  }

  /** Removes the old copy a {@link place} left (see `PlacedEntry`), once the new file is synced. */
  async dropOldCopy(placed: PlacedEntry): Promise<void> {
    const { oldCopy } = placed;
    if (oldCopy === null) return;
    await removeOldCopy(oldCopy.file, oldCopy.backup ? this.backups : null, this.options.logger);
  }

  /** Deletes `key`'s entry wherever it is; nothing when absent. */
  async remove(key: string): Promise<void> {
    await this.removeMatching(key, null);
  }

  /**
   * Deletes `key`'s entry if `predicate` still holds for it once locked (used to purge
   * expired entries without racing a fresh write); `null` deletes it whatever it holds, and
   * also a corrupt file that can only be this key's. Returns whether something was deleted.
   */
  async removeMatching(key: string, predicate: ((entry: T) => boolean) | null): Promise<boolean> {
    return this.options.locks.run(keyLockName(this.options.kind, key), (assertHeld) =>
      removeKeyFiles(this.folder, key, predicate, assertHeld),
    );
  }

  /**
   * Every valid entry (one per key) and the files that do not parse. A file counts only when
   * its name is one the recorded key may use, so backups and strays are never reported as keys.
   * `checkAbort` is called before each file read and stops the listing by throwing.
   */
  async list(checkAbort?: () => void): Promise<{ entries: KeyedFile<T>[]; corrupt: string[] }> {
    const names = await readdirOrEmpty(this.options.dir);
    const byKey = new Map<string, KeyedFile<T> & { rank: number }>();
    const corrupt: string[] = [];
    // A marked backup of a file that did not parse is no key's file (see `backup-names.ts`):
    // it holds no record a listing, the stats or a migration could miss.
    const files = names.filter((name) => name.endsWith('.json') && !isUnreadableBackupName(name));
    // One file at a time, read at once (see `fd-io.ts`), the event loop getting a turn every
    // few files; an unchanged file is not read again (see `kept-entries.ts`).
    const probes: ListedFile<T>[] = [];
    const turns = new LoopTurns(KEYS_PER_TURN);
    for (const name of files) {
      await turns.step();
      // A purge's abort fires during a turn: without this it read every file first.
      checkAbort?.();
      probes.push(this.listed.read(this.pathOf(name)));
    }
    probes.forEach((probe, i) => {
      const name = files[i] as string;
      const file = this.pathOf(name);
      if (probe.state === 'corrupt') corrupt.push(file);
      if (probe.state !== 'ok') return;
      const rank = this.rankOf(probe.entry.key, name); // -1: a backup or a stray
      const seen = byKey.get(probe.entry.key);
      // Where a crash left two copies, the one reads find first wins.
      if (rank !== -1 && (seen === undefined || rank < seen.rank)) {
        byKey.set(probe.entry.key, { file, entry: probe.entry, rank });
      }
    });
    return { entries: [...byKey.values()].map(({ file, entry }) => ({ file, entry })), corrupt };
  }

  /**
   * Whether `file`, named like a backup, may be pruned: a file that looks like a backup may be a
   * key's data (the plain key `x.20250306_101500.backup` owns `x.20250306_101500.backup.json`).
   * A file that parses says whose it is; one that does not is spared unless its name is marked
   * as a backup of an unreadable file (see `backup-names.ts`): until 2026-12-05 such a key's
   * damaged file was pruned as a backup of `x.json`, and with it whatever could be recovered.
   */
  private async mayPrune(file: string): Promise<boolean> {
    const probe = await probeKeyedFile(file, this.options.parse);
    const name = path.basename(file);
    if (probe.state === 'corrupt') return isUnreadableBackupName(name);
    return probe.state === 'missing' || this.rankOf(probe.entry.key, name) === -1;
  }

  /** This folder as choosing and removing a key's files sees it (a batch removal's too). */
  get folder(): KeyedFolder<T> {
    const { dir, names, parse } = this.options;
    return { dir, names, parse, backups: this.backups };
  }

  private rankOf(key: string, name: string): number {
    return rankIn(this.options.names, key, name);
  }

  private pathOf(name: string): string {
    return this.options.names.pathOf(this.options.dir, name);
  }
}
