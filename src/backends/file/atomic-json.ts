/**
 * JSON files written the way the reference formats them, but atomically and durably (D10):
 * temp file in the same folder, fsync, rename over the target, fsync the folder.
 */
import fs, { type BigIntStats } from 'node:fs';
import path from 'node:path';
import type { JsonValue } from '../../core/index.js';
import { ioError, strayFileError } from './durable-dirs.js';
import { closeFdNow, fsyncFd, openFd, writeAllFd } from './fd-io.js';
import { releaseFd } from './descriptor-budget.js';
import { unsyncedEntry } from './durable-entries.js';
import { discardFolderSync, type FolderSyncTicket, prepareFolderSync, syncFolders } from './folder-sync.js';
import { keepOldMode, type ReplacedStat } from './kept-modes.js';
import { formatListEnvelope } from './list-format.js';
import { refuseLargeList } from './list-size.js';
import { isMissing, releaseTempEntry, tempEntryName } from './temp-files.js';

export {
  ensureDirDurable,
  ensureDirsDurable,
  ensureDirUnder,
  fsyncDir,
  ioError,
  makeDirUnder,
} from './durable-dirs.js';

/**
 * JSON text laid out as the reference's `json.dumps(data, indent=2 if pretty else None)` writes
 * it: 2-space indent when pretty, otherwise Python's default `", "` / `": "` separators; no
 * trailing newline. Non-ASCII is written as is, as the spec asks; the reference (default
 * `ensure_ascii`) escapes it as `\uXXXX`, and either reads both.
 */
export function formatJson(value: JsonValue, pretty: boolean): string {
  return pretty ? JSON.stringify(value, null, 2) : compactJson(value);
}

function compactJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(compactJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const parts = Object.keys(value).map(
      (key) => `${JSON.stringify(key)}: ${compactJson(value[key] as JsonValue)}`,
    );
    return `{${parts.join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** Entry names of a folder, `[]` when it does not exist. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw ioError('list', dir, error);
  }
}

/** Identity of a file's content on disk (inode, size, mtime), to notice a change made by someone else. */
export type FileIdentity = string;

/** The {@link FileIdentity} of a stat result. */
export function identityOf(stat: BigIntStats): FileIdentity {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
}

/** The size in bytes recorded in a {@link FileIdentity}. */
export function identitySize(identity: FileIdentity): number {
  return Number(identity.split(':')[2]);
}

/** Options of {@link atomicWriteJson}. */
export interface AtomicWriteOptions {
  /** Indent JSON (`prettyPrintJson`). */
  pretty: boolean;
  /**
   * Last check before the rename makes the write visible (e.g. that the lock is still held);
   * throwing abandons the write and leaves the old file.
   */
  beforeCommit?: () => void;
  /**
   * Creates the missing parent folder; called when the temp file cannot be created for lack of
   * it (again if the folder vanishes before the open, a few times at most). Returns the folders
   * that gained an entry (see {@link makeDirUnder}): they are synced after the file, before the
   * write resolves.
   */
  createDir?: () => Promise<string[]>;
  /** Calls `createDir` before the first try (the folder is likely missing), saving a failed open. */
  createDirFirst?: boolean;
  /**
   * Whether the caller needs the written file's identity (one `fstat` more); default `true`. A
   * promise is an answer given later (by a staged write, once the backup is decided): the
   * file stays open until then, and the `fstat` still runs alongside its sync.
   */
  identity?: boolean | Promise<boolean>;
  /**
   * Work that must be done before the rename but does not touch the temp file (the backup of
   * the old file): it runs while the temp file is written and synced.
   */
  beforeRename?: () => Promise<void>;
  /**
   * The stat of the file this write replaces when `beforeRename` took one (the backup's), asked
   * once it is done: the new file keeps the old one's mode (see `kept-modes.ts`); without it,
   * the file is looked up.
   */
  replaced?: () => ReplacedStat;
  /**
   * Work once the file is renamed into place, given its identity (pruning old backups): it runs
   * alongside the folder sync. It must not throw: the write has landed.
   */
  afterRename?: AfterRename;
  /**
   * Folders the store never removes or replaces (`cache/`, `conversations/`, ...): their fsync
   * after the rename may be shared with concurrent writes (see `folder-sync.ts`).
   */
  sharedSyncDirs?: ReadonlySet<string>;
  /**
   * Leave the folders to be opened by their fsync after the rename instead of while the file is
   * written: a batch's files all join one shared fsync, which then opens the folder once.
   */
  openFoldersLater?: boolean;
  /**
   * The list field of a list file's envelope: its records' encoded bytes are reused from
   * earlier writes (see `list-format.ts`).
   */
  listField?: string;
  /** With `listField`: the list as read from the file, whose records keep their text (`record-texts.ts`). */
  readList?: readonly JsonValue[];
}

/** Work done once a write's file is renamed into place, alongside its folder sync (see `AtomicWriteOptions`). */
export type AfterRename = (identity: FileIdentity | undefined) => Promise<void>;

/** What {@link writeTemp} leaves to do: folders to sync after the rename, and the file's identity. */
export interface WrittenTemp {
  /** The target's folder and any new folders above it, opened while the file was written. */
  dirs: FolderSyncTicket[];
  identity: FileIdentity | undefined;
  /** The temp file's `fstat`, when one was taken (it tells whether its mode needs changing, see `kept-modes.ts`). */
  made: BigIntStats | undefined;
}

/**
 * Opens at most this many times a temp file whose folder vanishes between its creation and the
 * open: an empty conversation folder may be removed at any time by a write that gave up before
 * its lock (see `FolderFiles.replaceInConversation`), once per such write.
 */
const OPEN_ATTEMPTS = 5;

async function openTemp(temp: string, options: AtomicWriteOptions): Promise<[number, string[]]> {
  const { createDir } = options;
  const newDirs = new Set<string>();
  let create = createDir !== undefined && options.createDirFirst === true;
  for (let attempt = 1; ; attempt += 1) {
    if (create && createDir) for (const dir of await createDir()) newDirs.add(dir);
    try {
      return [await openFd(temp, 'wx'), [...newDirs]];
    } catch (error) {
      // A file where the folder belongs is never replaced: making the folder again cannot help.
      const stray = await strayFileError(path.dirname(temp), error);
      if (stray !== null) throw stray;
      if (!createDir || !isMissing(error) || attempt >= OPEN_ATTEMPTS) throw error;
      create = true;
    }
  }
}

/**
 * Writes and syncs `text` to the new file `temp` (creating its folder if `options` say how).
 * `waitsBeforeRename`: the caller waits for something else (a lock, a backup copy) between this
 * write and its rename, work that may need a descriptor slot, so the folders are not opened
 * early: their handles would hold slots across that wait (see `descriptor-budget.ts`). The temp
 * file's descriptor never waits for anything but its own write and fsync.
 */
export async function writeTemp(
  temp: string,
  text: string | Buffer,
  options: AtomicWriteOptions,
  waitsBeforeRename = false,
): Promise<WrittenTemp> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const [fd, newDirs] = await openTemp(temp, options);
  const shared = options.sharedSyncDirs;
  const folder = path.dirname(temp);
  const syncs = new Map<string, (() => void) | undefined>(newDirs.map((dir) => [dir, undefined]));
  // A folder made lazily, made by this write or found there: its own entry too (see `durable-entries.ts`).
  const entry = options.createDir && !(shared?.has(folder) ?? false) ? unsyncedEntry(folder) : null;
  if (entry !== null) syncs.set(path.dirname(folder), entry);
  const openNow = options.openFoldersLater !== true && !waitsBeforeRename;
  const dirs = [folder, ...syncs.keys()].map((dir) =>
    prepareFolderSync(dir, shared?.has(dir) ?? false, openNow, syncs.get(dir)),
  );
  const { identity } = options;
  // Whether the identity is wanted; `undefined` until a promised answer (given under a lock) comes.
  let want = typeof identity === 'object' ? undefined : identity !== false;
  if (typeof identity === 'object')
    identity.then(
      (yes) => (want = yes),
      () => undefined,
    );
  let stat: BigIntStats | undefined;
  try {
    await writeAllFd(fd, bytes);
    await fsyncFd(fd);
    // Size and mtime are final once written. An `fstat` of an open file is answered from memory,
    // so it is made at once (see `metadata-now.ts`); still without an answer, it is made anyway:
    // waiting for it would hold the descriptor (and its budget slot) across a lock wait.
    if (want !== false) stat = fs.fstatSync(fd, { bigint: true });
  } catch (error) {
    closeFdNow(fd);
    await closeQuietly(dirs);
    throw error;
  }
  try {
    // At once: the data is synced, so the close has nothing left to flush (see `fd-io.ts`); a
    // file system that still reports an error here (a network one) fails the write, as before.
    fs.closeSync(fd);
  } catch (error) {
    await closeQuietly(dirs);
    throw error;
  } finally {
    releaseFd(fd); // closed either way (a failed close still frees the descriptor)
  }
  want ??= await identity;
  return { dirs, identity: want === true && stat !== undefined ? identityOf(stat) : undefined, made: stat };
}

/** Closes the folders a {@link WrittenTemp} opened, ignoring errors (the write failed anyway). */
export async function closeQuietly(dirs: FolderSyncTicket[] | undefined): Promise<void> {
  await Promise.all((dirs ?? []).map(discardFolderSync));
}

/** Syncs and closes every folder (at once: each must be on disk before the write resolves, in any order). */
export async function syncDirs(dirs: FolderSyncTicket[]): Promise<void> {
  await syncFolders(dirs);
}

/**
 * Replaces `file` with `value` atomically and durably: a reader sees the old or the new
 * content, never a mix, and the new content survives a crash once this resolves. Returns the
 * identity of the file written (`undefined` when `options.identity` is `false`).
 */
export async function atomicWriteJson(
  file: string,
  value: JsonValue,
  options: AtomicWriteOptions,
): Promise<FileIdentity | undefined> {
  const { listField, pretty } = options;
  const isList =
    listField !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value);
  let text: string | Buffer;
  if (isList) {
    text = formatListEnvelope(value, listField, pretty, options.readList);
    // Before any I/O: a list file too long to read back whole is never written.
    refuseLargeList(file, value, listField, text.length);
  } else {
    text = formatJson(value, pretty);
  }
  const written = await writeAndRename(file, text, options);
  const { afterRename } = options;
  await syncDirsAlong(written.dirs, file, afterRename && (() => afterRename(written.identity)));
  return written.identity;
}

/**
 * Syncs the folders of a write renamed into place as `file`, with `alongside` (which must not
 * throw) running meanwhile; a failed sync names `file`.
 */
export async function syncDirsAlong(
  dirs: FolderSyncTicket[],
  file: string,
  alongside?: () => Promise<void>,
): Promise<void> {
  const [synced] = await Promise.allSettled([syncDirs(dirs), alongside?.()]);
  if (synced.status === 'rejected') throw ioError('sync folder of', file, synced.reason);
}

/** Writes and syncs a temp file beside `file` (running `beforeRename` meanwhile), then renames it over `file`. */
async function writeAndRename(
  file: string,
  text: string | Buffer,
  options: AtomicWriteOptions,
): Promise<WrittenTemp> {
  const temp = path.join(path.dirname(file), tempEntryName(path.basename(file)));
  let written: WrittenTemp | undefined;
  try {
    const [temped, prepared] = await Promise.allSettled([
      writeTemp(temp, text, options, options.beforeRename !== undefined),
      options.beforeRename?.(),
    ]);
    if (temped.status === 'rejected') throw temped.reason;
    written = temped.value;
    if (prepared.status === 'rejected') throw prepared.reason;
    await keepOldMode(temp, file, written.made, options.replaced?.());
    options.beforeCommit?.();
    await fs.promises.rename(temp, file);
    return written;
  } catch (error) {
    await closeQuietly(written?.dirs);
    await fs.promises.unlink(temp).catch(() => undefined);
    throw ioError('write', file, error);
  } finally {
    releaseTempEntry(temp);
  }
}
