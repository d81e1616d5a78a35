/**
 * Start-up clean-up after a crash, the health probe and folder listing of the file backend:
 * whole-store jobs that must not fail on one bad file.
 */
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import {
  type HealthProbe,
  logEvent,
  SEARCH_KINDS,
  type StorageLogger,
  StoreNotFoundError,
} from '../../core/index.js';
import { ioError, readdirOrEmpty } from './atomic-json.js';
import { withDescriptorSlot } from './descriptor-budget.js';
import { CHAIN_SEQUENCES_DIR } from './chains.js';
import { SEARCH_DIR } from './search-index.js';
import type { FileLocks } from './file-lock.js';
import { DATA_DIRS, type StoreLayout } from './layout.js';
import { LoopTurns } from './loop-turns.js';
import { mapConcurrent } from '../../core/concurrency.js';
import { diskUsage } from '../disk-usage.js';
import { ioReason } from '../io-reason.js';
import { isMissing, releaseTempEntry, removeAbandonedTempEntries, tempEntryName } from './temp-files.js';

/** Folders cleaned at once at start-up. */
const CLEANUP_CONCURRENCY = 64;

/** Existence checks made in one go before yielding to other work (each takes microseconds). */
const CHECK_CHUNK = 256;

/**
 * True when `file` exists (a missing folder on the way counts as "no"). `existsSync` reports a
 * miss without building an exception, which costs more than the lookup itself.
 */
function existsNow(file: string): boolean {
  return fs.existsSync(file);
}

/**
 * Names of the sub-folders of `parent` holding at least one of `files` (`[]` when `parent` is
 * missing). Synchronous checks in chunks: each is a cached metadata lookup of a few
 * microseconds, where a trip through the thread pool costs ten times that in CPU and, on a
 * busy machine, far more in waiting; a listing makes one per folder. The event loop is released
 * between chunks.
 */
export async function subfoldersHolding(parent: string, files: readonly string[]): Promise<string[]> {
  const names = await readdirOrEmpty(parent);
  // Paths are concatenated: `path.join` normalises the whole path each time, a measurable part
  // of a listing of 10,000 folders (the names are single entries, never `.` or `..`).
  const base = path.join(parent, path.sep);
  const out: string[] = [];
  const turns = new LoopTurns(CHECK_CHUNK);
  for (const name of names) {
    const turn = turns.stepSoon();
    if (turn !== undefined) await turn;
    const prefix = base + name + path.sep;
    for (const file of files) {
      if (existsNow(prefix + file)) {
        out.push(name);
        break;
      }
    }
  }
  return out;
}

/**
 * Removes what killed processes left: stale lock folders and, when `sweepTemps` (the writer
 * marks say a writer may have died: see `writer-marks.ts`), temp files whose writer is gone and
 * half-removed conversations in the trash, which takes a look into every conversation and agent
 * folder. Live writers' files are left alone. Each folder something was removed from is
 * reported to `logger` (the locks report their own).
 */
export async function cleanUpAfterCrash(
  layout: StoreLayout,
  locks: FileLocks,
  logger: StorageLogger | undefined,
  sweepTemps: boolean,
): Promise<void> {
  await locks.removeStale();
  if (!sweepTemps) return;
  const now = Date.now();
  const subdirs = async (parent: string) =>
    (await readdirOrEmpty(parent)).map((name) => path.join(parent, name));
  const dirs = [
    layout.baseDir,
    layout.internalDir, // name probes of a killed process
    path.join(layout.internalDir, CHAIN_SEQUENCES_DIR),
    ...SEARCH_KINDS.map((kind) => path.join(layout.internalDir, SEARCH_DIR, kind)),
    layout.cacheDir,
    layout.systemDir,
    layout.trashDir,
    ...(await subdirs(layout.conversationsDir)),
    ...(await subdirs(layout.agentsDir)),
  ];
  await mapConcurrent(dirs, CLEANUP_CONCURRENCY, async (dir) => {
    const removed = await removeAbandonedTempEntries(dir, now);
    if (removed > 0) {
      logEvent(logger, 'warn', 'file storage: removed leftovers of a crashed writer at start-up', {
        folder: dir,
        removed,
      });
    }
  });
}

/**
 * Refuses (with {@link StoreNotFoundError}) a read-only open of a base folder that does not
 * exist, so a mistyped path is reported instead of read as an empty store. Creates nothing.
 */
export async function assertStoreFolderExists(layout: StoreLayout): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(layout.baseDir);
  } catch (error) {
    // ENOTDIR too: a path under a file is no folder either.
    if (isMissing(error)) {
      throw new StoreNotFoundError('file', layout.baseDir, 'no such folder');
    }
    throw ioError('open folder', layout.baseDir, error);
  }
  if (!stat.isDirectory()) throw new StoreNotFoundError('file', layout.baseDir, 'not a folder');
}

/** Folders the health probe checks, and how: read-only opens skip missing data folders and never write. */
async function inaccessibleDirs(layout: StoreLayout, readOnly: boolean): Promise<string[]> {
  const { R_OK, W_OK, X_OK } = fse.constants;
  const mode = readOnly ? R_OK | X_OK : R_OK | W_OK | X_OK;
  const dirs = [layout.baseDir, ...DATA_DIRS.map((name) => path.join(layout.baseDir, name))];
  const access = await Promise.all(
    dirs.map((dir) =>
      fse.access(dir, mode).then(
        () => null,
        (error: NodeJS.ErrnoException) =>
          // A store the reference has not written every kind to yet lacks some data folders.
          readOnly && dir !== layout.baseDir && error.code === 'ENOENT' ? null : dir,
      ),
    ),
  );
  return access.filter((dir): dir is string => dir !== null);
}

/**
 * Health details with the reference's keys: folders, a real write probe (skipped when
 * read-only: `write_permissions` is then `null`), base folder, disk usage.
 */
export async function probeFileHealth(layout: StoreLayout, readOnly = false): Promise<HealthProbe> {
  const inaccessible = await inaccessibleDirs(layout, readOnly);
  const writeError = readOnly ? null : await probeWrite(layout);
  const errors = [
    ...(inaccessible.length > 0 ? [`folders not accessible: ${inaccessible.join(', ')}`] : []),
    ...(writeError === null ? [] : [writeError]),
  ];
  return {
    healthy: errors.length === 0,
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    details: {
      directories_accessible: inaccessible.length === 0,
      write_permissions: readOnly ? null : writeError === null,
      base_directory: layout.baseDir,
      disk_usage: await diskUsage(layout.baseDir),
    },
  };
}

/** Writes, reads back and removes a probe file; the problem, or `null` when it worked. */
async function probeWrite(layout: StoreLayout): Promise<string | null> {
  let writeError: string | null = null;
  const probe = path.join(layout.baseDir, tempEntryName('health-probe'));
  try {
    await withDescriptorSlot(probe, () => fse.writeFile(probe, 'ok'));
    const back = await withDescriptorSlot(probe, () => fse.readFile(probe, 'utf8'));
    if (back !== 'ok') writeError = `probe file ${probe} read back wrong`;
  } catch (error) {
    writeError = `cannot write ${probe}: ${ioReason(error)}`;
  } finally {
    await fse.remove(probe).catch(() => undefined);
    releaseTempEntry(probe);
  }
  return writeError;
}
