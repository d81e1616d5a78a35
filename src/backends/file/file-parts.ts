/**
 * The parts a file store is made of (name rules, layout, locks, folder writes, reads, chains,
 * the cache and state folders, the optional full-text index), wired together from its config,
 * and the cache operations that are more than a call into one part (a conversation's files:
 * `conversation-files.ts`).
 */
import path from 'node:path';
import { isCacheExpired } from '../../core/index.js';
import { throwIfAborted } from '../../core/abort.js';
import { ensureDirsDurable, ensureDirUnder, ioError } from './atomic-json.js';
import { Backups } from './backups.js';
import type { ResolvedFileStorageConfig } from './config.js';
import { type CacheFileEntry, parseCacheFile, parseStateFile, type StateFileEntry } from './envelopes.js';
import { FileChains } from './chains.js';
import { FileLocks } from './file-lock.js';
import { FolderFiles } from './folder-files.js';
import { FolderListings } from './folder-listings.js';
import { FolderReads } from './folder-reads.js';
import { KeyedFiles } from './keyed-files.js';
import { StoreLayout } from './layout.js';
import { assertStoreFolderExists, cleanUpAfterCrash } from './maintenance.js';
import {
  assumedNameFolding,
  FileNames,
  type FileStorageInternals,
  probeNameFolding,
} from './name-folding.js';
import type { StoreView } from './stats.js';
import { FileSearchIndex, type FileSearchIndexOptions } from './search-index.js';
import { assertNotInsideStore } from './store-nesting.js';
import { askForBudget } from './descriptor-budget.js';
import { markWriter, type WriterMarks } from './writer-marks.js';

/** What the parts need from the store object itself (known only once it is built). */
export type StoreHooks = Pick<FileSearchIndexOptions, 'extractor' | 'firstChainSequence'>;

/** The parts of one file store. */
export interface FileParts {
  names: FileNames;
  layout: StoreLayout;
  locks: FileLocks;
  folders: FolderFiles;
  reads: FolderReads;
  chains: FileChains;
  cache: KeyedFiles<CacheFileEntry>;
  state: KeyedFiles<StateFileEntry>;
  /** The native full-text index (`null` with `searchIndex: false`). */
  textIndex: FileSearchIndex | null;
  /** Folder listings kept between stats walks. */
  listings: FolderListings;
  /** This open's writer mark (`null` while closed, and for read-only opens). */
  writerMarks: WriterMarks | null;
  /** Gives back the descriptor budget this open asked for (`maxOpenFiles`); `null` when none. */
  budget: (() => void) | null;
  /** How often the mark is touched (a test seam; `undefined`: the default). */
  writerMarkRefreshMs: number | undefined;
}

/** Builds a store's parts from its validated config; touches no file. */
export function buildFileParts(
  config: Readonly<ResolvedFileStorageConfig>,
  internals: FileStorageInternals,
  hooks: StoreHooks,
): FileParts {
  const names = new FileNames(internals.entryNames);
  const layout = new StoreLayout(config.baseDir, names);
  const locks = new FileLocks(
    layout.locksDir,
    () => ensureDirUnder(layout.baseDir, layout.locksDir),
    config.logger,
    internals.lockKind,
  );
  const backups = { enabled: config.createBackups, keep: config.maxBackupFiles };
  const pretty = config.prettyPrintJson;
  const textIndex = config.searchIndex
    ? new FileSearchIndex({
        layout,
        extractor: hooks.extractor,
        fields: config.searchFields ?? {},
        readOnly: config.readOnly,
        logger: config.logger,
        firstChainSequence: hooks.firstChainSequence,
      })
    : null;
  const folders = new FolderFiles(
    layout,
    locks,
    new Backups(backups, undefined, config.logger),
    pretty,
    textIndex,
  );
  const reads = new FolderReads(layout, names, folders);
  const chains = new FileChains(layout, folders, reads, pretty);
  const shared = { locks, pretty, root: layout.baseDir, names, logger: config.logger };
  const cache = new KeyedFiles({
    ...shared,
    dir: layout.cacheDir,
    kind: 'cache',
    parse: parseCacheFile,
    backups: null, // the reference never backs up cache files
  });
  const state = new KeyedFiles({
    ...shared,
    dir: layout.systemDir,
    kind: 'system',
    parse: parseStateFile,
    backups,
  });
  return {
    names,
    layout,
    locks,
    folders,
    reads,
    chains,
    cache,
    state,
    textIndex,
    listings: new FolderListings(),
    writerMarks: null,
    budget: null,
    writerMarkRefreshMs: internals.writerMarkRefreshMs,
  };
}

/**
 * Opens the store's folder: a read-only store only checks it exists; a writable one is refused
 * inside another store's data folders (`store-nesting.ts`), then creates the missing folders,
 * removes what killed writers left and learns how the file system compares names.
 */
export async function openFileStore(
  parts: FileParts,
  config: Readonly<ResolvedFileStorageConfig>,
): Promise<void> {
  // Process-wide: the smallest budget of the open stores applies (see `descriptor-budget.ts`).
  const budget = config.maxOpenFiles === undefined ? null : askForBudget(config.maxOpenFiles);
  try {
    await openFolders(parts, config);
  } catch (error) {
    budget?.();
    throw error;
  }
  parts.budget = budget;
}

async function openFolders(parts: FileParts, config: Readonly<ResolvedFileStorageConfig>): Promise<void> {
  const { layout, names } = parts;
  // Read-only: no folders created, no crash leftovers removed (they may be a live writer's).
  if (config.readOnly) {
    await assertStoreFolderExists(layout);
    // A probe would write a file: assume what the platform's usual file systems do.
    names.folding = assumedNameFolding();
    return;
  }
  // Before any folder is made. A read-only open writes nothing, so it is not refused: it is how
  // the data of a store already inside another is copied out (the migration tool's source).
  await assertNotInsideStore(layout.baseDir);
  // Locks and trash hold no data: a power failure that loses their folder loses nothing.
  await ensureDirsDurable(
    layout.requiredDirs,
    (dir, error) => ioError('create folder', dir, error),
    new Set([layout.locksDir, layout.trashDir]),
  );
  const marks = await markWriter(layout, parts.writerMarkRefreshMs);
  try {
    await cleanUpAfterCrash(layout, parts.locks, config.logger, marks.sweepNeeded);
    await marks.forgetDead();
    // Before any call: keys and ids that differ only by case must not share a file or folder
    // where the file system does not tell them apart.
    names.folding = await probeNameFolding(layout.internalDir, names.entries);
  } catch (error) {
    // A failed open is not closed (the core calls no closeStore): its mark goes now.
    await marks.remove();
    throw error;
  }
  parts.writerMarks = marks;
}

/** Closes the store's folder: the last step of a writable store's shutdown, once every write has finished. */
export async function closeFileStore(parts: FileParts): Promise<void> {
  const marks = parts.writerMarks;
  parts.writerMarks = null;
  await marks?.remove();
  parts.budget?.();
  parts.budget = null;
}

/** What the stats walk sees of a store; where names fold, the index is left out (the default scan counts). */
export function storeViewOf(parts: FileParts): StoreView {
  const index = parts.names.folds ? null : parts.textIndex;
  return {
    layout: parts.layout,
    cache: parts.cache,
    state: parts.state,
    counts: parts.folders.counts,
    listings: parts.listings,
    indexEntries: index === null ? null : (files) => index.entries(files),
  };
}

/** The keys of the cache entries still live at `nowMs`. */
export async function liveCacheKeys(cache: KeyedFiles<CacheFileEntry>, nowMs: number): Promise<string[]> {
  const { entries } = await cache.list();
  return entries
    .filter(({ entry }) => !isCacheExpired(entry.record.expiresAt, nowMs))
    .map(({ entry }) => entry.key);
}

/**
 * Cache and system-state files that do not parse, relative to the store's folder, sorted: their
 * keys are inside them, so the key listings leave their records out.
 */
export async function unlistedKeyedFiles(parts: FileParts): Promise<string[]> {
  const corrupt = [...(await parts.cache.list()).corrupt, ...(await parts.state.list()).corrupt];
  return corrupt.map((file) => path.relative(parts.layout.baseDir, file)).sort();
}

/**
 * Deletes the cache entries expired at `nowMs`, stopping between two file reads of its listing
 * or two removals when `signal` fires.
 */
export async function purgeExpiredCache(
  cache: KeyedFiles<CacheFileEntry>,
  nowMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const expired = (entry: CacheFileEntry) => isCacheExpired(entry.record.expiresAt, nowMs);
  const checkAbort = () => throwIfAborted(signal, 'purgeExpiredCache');
  let removed = 0;
  // Until 2026-12-06 the listing read every cache file before the first check (seconds for a
  // large cache): it now stops at the next file.
  for (const { entry } of (await cache.list(signal === undefined ? undefined : checkAbort)).entries) {
    checkAbort(); // between two file removals, each whole
    // Checked again under the key's lock: a fresh write since the listing survives.
    if (expired(entry) && (await cache.removeMatching(entry.key, expired))) removed += 1;
  }
  return removed;
}
