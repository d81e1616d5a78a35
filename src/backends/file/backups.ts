/**
 * Backups before overwrite, in the reference's naming (`{stem}.{YYYYMMDD_HHMMSS}.backup{suffix}`)
 * extended with microseconds (`{stem}.{YYYYMMDD_HHMMSS}_{ffffff}.backup{suffix}`), so two writes
 * in one second keep two backups while the reference's glob `{stem}.*.backup{suffix}` still
 * matches and names still sort by time.
 *
 * A backup is a hard link to the file about to be replaced: writes replace files by renaming a
 * new one over them, so the old file stays intact under its backup name. That is atomic, costs
 * no copy, and holds bytes that were already synced. Where links are unsupported, the file is
 * copied to a temp file, synced and renamed into place, so no half-written backup can exist.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { logEvent, StorageError, type StorageLogger } from '../../core/index.js';
import { ioReason } from '../io-reason.js';
import { type FileIdentity, identityOf, ioError } from './atomic-json.js';
import { statNow } from './metadata-now.js';
import { backupName, backupOrder, backupPattern, copyDurably, nowMicros } from './backup-names.js';
import { isMissing } from './temp-files.js';

/** Backup policy of a store. */
export interface BackupPolicy {
  /** Whether to back up at all (`createBackups`). */
  enabled: boolean;
  /** How many backups to keep per file (newest). */
  keep: number;
}

/**
 * Decides whether an old backup may be deleted; the system folder uses it to spare a file that
 * only looks like a backup but is a key's data (a key may be named `x.20250306_101500.backup`).
 */
export type MayPrune = (file: string) => Promise<boolean>;

/**
 * Whether `file` (about to be backed up) does not parse; its backup is then marked as one of an
 * unreadable file (see `backup-names.ts`), so the folder's listing never takes it for a key's data.
 */
export type IsUnreadable = (file: string) => Promise<boolean>;

/** Files whose backup lists are remembered (least recently used are forgotten first). */
const REMEMBERED_FILES = 2_000;

/** Errors of `link` that mean "links are not supported here": copy instead. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK', 'EACCES']);

/** A file's backups as this process last saw them, valid while the file is the one it wrote. */
interface Remembered {
  /** The file as this process last wrote it (`undefined` until the write after the backup lands). */
  identity: FileIdentity | undefined;
  /** Backup names, newest first. */
  names: string[];
}

/** A backup made for a write that has not landed yet (see {@link Backups.beforeOverwrite}). */
interface Pending {
  /** The backup's name (`undefined`: `keep` is 0, none was made). */
  name: string | undefined;
  /** The file's identity when it was backed up: unchanged after a failed write, the backup is a copy of it. */
  identity: FileIdentity;
  /** The file's backups once the write lands, newest first, before pruning. */
  names: string[];
  /** The file backed up: the target itself, or the old copy the write replaces (see {@link Backups.beforeOverwrite}). */
  source: string;
}

/**
 * Makes and prunes the backups of one store. Pruning must know a file's backups; listing the
 * folder for each write costs time in proportion to the folder (the system folder holds every
 * state key and its backups), so the list is remembered per file and trusted while the file is
 * still the one this process wrote last. Any other writer (another process, the reference)
 * replaces the file, which changes its identity, and the folder is listed again.
 *
 * A write makes its backup first ({@link beforeOverwrite}) but prunes only once it has landed
 * ({@link landed}); a write that fails removes its backup again ({@link abandon}). Pruning
 * first lost an old version to each failed write (a full disk): after `keep` failed retries
 * every backup was a copy of the current file.
 */
export class Backups {
  private readonly remembered = new Map<string, Remembered>();
  /** Backups made for writes in flight (one per file: its writes hold its lock). */
  private readonly pending = new Map<string, Pending>();
  /** The stat {@link beforeOverwrite} took of each file it looked at, until the write uses it (see {@link replacedStat}). */
  private readonly looked = new Map<string, fs.BigIntStats | null>();

  /**
   * @param policy whether and how many backups to keep.
   * @param mayPrune spares look-alike files from pruning (see {@link MayPrune}).
   * @param logger receives a backup that could not be pruned after a write landed.
   * @param isUnreadable marks backups of files that do not parse (see {@link IsUnreadable});
   *   without it (conversation and agent folders, where only fixed names are read) none is marked.
   */
  constructor(
    private readonly policy: BackupPolicy,
    private readonly mayPrune: MayPrune = async () => true,
    private readonly logger?: StorageLogger,
    private readonly isUnreadable: IsUnreadable = async () => false,
  ) {}

  /**
   * True when this store manages backups (`createBackups`): it makes them when `keep` is over
   * 0, and prunes them to the newest `keep` (with `keep` 0, the ones an earlier open kept).
   */
  get enabled(): boolean {
    return this.policy.enabled;
  }

  /**
   * Backs up `file` (if it exists) before it is replaced or removed. The caller holds the
   * file's lock, and then reports the outcome: {@link landed} (which prunes the file's backups
   * to the newest `keep`) or {@link abandon}. `known` is the stat of `source` when the caller
   * just took it (`null`: it is missing), saving one. `source` is the file whose content the
   * write replaces when that is not `file` itself (a key's reference file the write moves to
   * `file`, see `KeyedFiles.place`): it is backed up under `file`'s backup names. `unreadable`:
   * whether `source` does not parse, when the caller just read it (else asked, see {@link IsUnreadable}).
   */
  async beforeOverwrite(
    file: string,
    known?: fs.BigIntStats | null,
    source = file,
    unreadable?: boolean,
  ): Promise<void> {
    if (!this.enabled) return;
    this.pending.delete(file);
    const stat = known === undefined ? statNow(source, 'back up') : known;
    this.looked.set(file, stat);
    if (stat === null) {
      this.remembered.delete(file);
      return; // nothing to back up yet
    }
    // `keep` 0 makes none, but prunes what a larger `keep` left, as a smaller one prunes down to it.
    const name =
      this.policy.keep > 0
        ? await this.makeBackup(file, source, unreadable ?? (await this.isUnreadable(source)))
        : undefined;
    if (name === null) return;
    const identity = identityOf(stat);
    const remembered = this.remembered.get(file);
    const names =
      remembered !== undefined && remembered.identity === identity
        ? [...(name === undefined ? [] : [name]), ...remembered.names]
        : await this.listBackups(file);
    this.pending.set(file, { name, identity, names, source });
  }

  /**
   * The stat {@link beforeOverwrite} just took of the file a write of `file` replaces (`null`:
   * there was none), `undefined` when it took none (backups off); the write gives the new file
   * its mode (see `kept-modes.ts`) without looking the file up again. Asked once.
   */
  replacedStat(file: string): fs.BigIntStats | null | undefined {
    const stat = this.looked.get(file);
    this.looked.delete(file);
    return stat;
  }

  /**
   * True when `file` was just backed up: then the write should report its new identity to
   * {@link landed}; a new file needs none.
   */
  remembers(file: string): boolean {
    return this.pending.has(file);
  }

  /**
   * The write of `file` backed up by {@link beforeOverwrite} landed (`identity`: the new file's,
   * `null`: it was removed): prunes its backups to the newest `keep`. The write has happened,
   * so a backup that cannot be removed does not fail it: it is logged and pruned by the next one.
   */
  async landed(file: string, identity: FileIdentity | undefined | null): Promise<void> {
    this.looked.delete(file);
    const pending = this.pending.get(file);
    if (pending === undefined) return;
    this.pending.delete(file);
    this.remembered.delete(file); // re-inserted below as the most recently used
    try {
      const kept = await this.prune(file, pending.names);
      if (identity !== null) this.remembered.set(file, { identity, names: kept });
    } catch (error) {
      logEvent(this.logger, 'warn', 'file storage: could not remove an old backup', {
        path: file,
        error: ioReason(error instanceof StorageError && error.cause !== undefined ? error.cause : error),
      });
      return;
    }
    if (this.remembered.size > REMEMBERED_FILES) {
      this.remembered.delete(this.remembered.keys().next().value as string);
    }
  }

  /**
   * The write of `file` backed up by {@link beforeOverwrite} failed: when the file is still the
   * one backed up, its new backup is a copy of it and is removed, so the backups stay as they
   * were. When the file changed (the write failed after its rename, or someone else replaced
   * it) the backup holds the only copy of the old version and stays, pruned by the next write.
   */
  async abandon(file: string): Promise<void> {
    this.looked.delete(file);
    const pending = this.pending.get(file);
    if (pending === undefined) return;
    this.pending.delete(file);
    let unchanged = false;
    try {
      const stat = statNow(pending.source, 'back up');
      unchanged = stat !== null && identityOf(stat) === pending.identity;
    } catch {
      // Unknown: keep the backup.
    }
    const { name } = pending;
    // The write failed already: a backup that cannot be removed is left for a later write to prune.
    const asBefore =
      unchanged &&
      (name === undefined ||
        (await fs.promises.unlink(path.join(path.dirname(file), name)).then(
          () => true,
          () => false,
        )));
    // Otherwise the remembered list misses a backup: the next write lists the folder again.
    if (!asBefore) this.remembered.delete(file);
  }

  /** Forgets what is known about `file` (it was removed). */
  forget(file: string): void {
    this.looked.delete(file);
    this.remembered.delete(file);
    this.pending.delete(file);
  }

  /**
   * Removes every backup of `file`, which a delete just removed (or found absent): they hold
   * only versions of deleted data, as a deleted conversation's folder took its backups with it.
   * Done whatever `createBackups` says (the data was deleted). Look-alikes that are data (see
   * {@link MayPrune}) stay. The caller syncs the folder. A failure names the backup; the file
   * is gone by then, and the delete run again removes what is left. Returns how many it removed.
   */
  async removeAll(file: string): Promise<number> {
    this.forget(file);
    const dir = path.dirname(file);
    const names = await this.listBackups(file).catch((error: unknown) => {
      if (isMissing(error)) return [];
      throw ioError('list the backups of', file, error);
    });
    for (const name of names) {
      const full = path.join(dir, name);
      await fs.promises.unlink(full).catch((error: unknown) => {
        if (!isMissing(error)) throw ioError('remove the backup', full, error);
      });
    }
    return names.length;
  }

  /**
   * Links (or durably copies) `source` to a new backup name of `file` (marked when `unreadable`);
   * `null` if `source` is gone.
   */
  private async makeBackup(file: string, source: string, unreadable: boolean): Promise<string | null> {
    for (let micros = nowMicros(), attempt = 0; ; micros += 1, attempt += 1) {
      const name = backupName(file, micros, unreadable);
      const backup = path.join(path.dirname(file), name);
      try {
        await fs.promises.link(source, backup);
        return name;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (isMissing(error)) return null;
        // A name already taken (clock stepped back) moves on by a microsecond.
        if (code === 'EEXIST' && attempt < 1000) continue;
        if (!NO_LINKS.has(code)) throw ioError('back up', source, error);
      }
      try {
        // Without links the name must be checked first: rename would replace an existing file.
        if (await fs.promises.access(backup).then(() => true, isNotMissing)) continue;
        await copyDurably(source, backup);
        return name;
      } catch (error) {
        if (isMissing(error)) return null;
        throw ioError('back up', source, error);
      }
    }
  }

  /**
   * Names of `file`'s backups on disk, newest first. Look-alikes that are data (see
   * {@link MayPrune}) are left out, so they take no place among the backups kept.
   */
  private async listBackups(file: string): Promise<string[]> {
    const dir = path.dirname(file);
    const pattern = backupPattern(file);
    const found: { name: string; order: string }[] = [];
    for (const name of await fs.promises.readdir(dir)) {
      const stamp = pattern.exec(name)?.[1];
      if (stamp && (await this.mayPrune(path.join(dir, name))))
        found.push({ name, order: backupOrder(stamp) });
    }
    found.sort((a, b) => (a.order < b.order ? 1 : a.order > b.order ? -1 : 0));
    return found.map(({ name }) => name);
  }

  /** Deletes all but the newest `keep` of `names` (newest first); returns the ones kept. */
  private async prune(file: string, names: string[]): Promise<string[]> {
    const dir = path.dirname(file);
    for (const name of names.slice(this.policy.keep)) {
      const full = path.join(dir, name);
      // Checked again now: a key named like this backup may have been stored there since.
      if (!(await this.mayPrune(full))) continue;
      await fs.promises.unlink(full).catch((error: unknown) => {
        if (!isMissing(error)) throw ioError('remove old backup', full, error);
      });
    }
    return names.slice(0, this.policy.keep);
  }
}

/** `access` rejection handler: a missing file means "free"; anything else is rethrown. */
function isNotMissing(error: unknown): boolean {
  if (isMissing(error)) return false;
  throw error;
}
