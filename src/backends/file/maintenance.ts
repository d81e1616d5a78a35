/**
 * Start-up clean-up after a crash, the health probe and the stats walk of the file backend
 * (spec §8): whole-store jobs that read many files and must not fail on one bad file.
 */
import path from 'node:path';
import fse from 'fs-extra';
import {
  CorruptDataError,
  type HealthProbe,
  isCacheExpired,
  type JsonValue,
  type StatsSnapshot,
} from '../../core/index.js';
import { ioError, readParsedFile } from './atomic-json.js';
import type { CacheFileEntry, StateFileEntry } from './envelopes.js';
import { parseListEnvelope } from './envelopes.js';
import type { FileLocks } from './file-lock.js';
import type { KeyedFiles } from './keyed-files.js';
import { CHAINS_FILE, CONVERSATION_FILES, DATA_DIRS, type StoreLayout } from './layout.js';
import { isMissing, removeAbandonedTempEntries, tempEntryName } from './temp-files.js';

/** What the stats walk needs from a store. */
export interface StoreView {
  /** Where the store's folders are. */
  layout: StoreLayout;
  /** The cache folder's entries. */
  cache: KeyedFiles<CacheFileEntry>;
  /** The system folder's entries. */
  state: KeyedFiles<StateFileEntry>;
}

/** Entry names of a folder, `[]` when it does not exist. */
async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fse.readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw ioError('list', dir, error);
  }
}

/** Names of the sub-folders of `parent` holding at least one of `files` (`[]` when `parent` is missing). */
export async function subfoldersHolding(parent: string, files: readonly string[]): Promise<string[]> {
  const names = await readdirOrEmpty(parent);
  const holds = async (name: string) => {
    for (const file of files) if (await fse.pathExists(path.join(parent, name, file))) return true;
    return false;
  };
  const flags = await Promise.all(names.map(holds));
  return names.filter((_, i) => flags[i]);
}

/**
 * Removes what killed processes left: temp files whose writer is gone, half-removed
 * conversations in the trash, and stale lock folders. Live writers' files are left alone.
 */
export async function cleanUpAfterCrash(layout: StoreLayout, locks: FileLocks): Promise<void> {
  const now = Date.now();
  const subdirs = async (parent: string) =>
    (await readdirOrEmpty(parent)).map((name) => path.join(parent, name));
  const dirs = [
    layout.baseDir,
    layout.cacheDir,
    layout.systemDir,
    layout.trashDir,
    ...(await subdirs(layout.conversationsDir)),
    ...(await subdirs(layout.agentsDir)),
  ];
  await Promise.all(dirs.map((dir) => removeAbandonedTempEntries(dir, now)));
  await locks.removeStale();
}

/** Health details with the reference's keys: folders, a real write probe, base folder, disk usage. */
export async function probeFileHealth(layout: StoreLayout): Promise<HealthProbe> {
  const dirs = [layout.baseDir, ...DATA_DIRS.map((name) => path.join(layout.baseDir, name))];
  const access = await Promise.all(
    dirs.map((dir) =>
      fse.access(dir, fse.constants.R_OK | fse.constants.W_OK | fse.constants.X_OK).then(
        () => null,
        () => dir,
      ),
    ),
  );
  const inaccessible = access.filter((dir): dir is string => dir !== null);
  let writeError: string | null = null;
  const probe = path.join(layout.baseDir, tempEntryName('health-probe'));
  try {
    await fse.writeFile(probe, 'ok');
    if ((await fse.readFile(probe, 'utf8')) !== 'ok') writeError = `probe file ${probe} read back wrong`;
  } catch (error) {
    writeError = `cannot write ${probe}: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await fse.remove(probe).catch(() => undefined);
  }
  const errors = [
    ...(inaccessible.length > 0 ? [`folders not accessible: ${inaccessible.join(', ')}`] : []),
    ...(writeError === null ? [] : [writeError]),
  ];
  return {
    healthy: errors.length === 0,
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    details: {
      directories_accessible: inaccessible.length === 0,
      write_permissions: writeError === null,
      base_directory: layout.baseDir,
      disk_usage: await diskUsage(layout.baseDir),
    },
  };
}

async function diskUsage(dir: string): Promise<JsonValue> {
  try {
    const s = await fse.promises.statfs(dir);
    return {
      total_bytes: s.blocks * s.bsize,
      used_bytes: (s.blocks - s.bfree) * s.bsize,
      free_bytes: s.bavail * s.bsize,
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Bytes of all files under `dir` (0 when missing); files vanishing during the walk are skipped. */
async function folderBytes(dir: string): Promise<number> {
  let entries: fse.Dirent[];
  try {
    entries = await fse.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return 0;
    throw ioError('list', dir, error);
  }
  const sizes = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return folderBytes(full);
      return fse.lstat(full).then(
        (stat) => stat.size,
        () => 0,
      );
    }),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

/**
 * Counts every kind by reading the files (live cache entries only), plus the reference's
 * `cache_entries` and `directory_sizes`, and `corrupt_files`: files skipped because they do
 * not parse (stats never fail on one bad file).
 */
export async function collectFileStats(store: StoreView, nowMs: number): Promise<StatsSnapshot> {
  const { layout } = store;
  const corrupt: string[] = [];
  /** Length of the list in `field` of `file`; 0 when missing or corrupt (then noted). */
  const listLength = async (file: string, field: string): Promise<number> => {
    try {
      const list = await readParsedFile(file, (f, value) => parseListEnvelope(f, value, field, false));
      return list?.length ?? 0;
    } catch (error) {
      if (!(error instanceof CorruptDataError)) throw error;
      corrupt.push(file);
      return 0;
    }
  };
  const { conversationsDir, agentsDir } = layout;
  // One file at a time: a big store must not be loaded into memory all at once.
  const listTotal = async (files: string[], field: string) => {
    let total = 0;
    for (const file of files) total += await listLength(file, field);
    return total;
  };
  const conversations = await readdirOrEmpty(conversationsDir);
  const inConversations = (name: string) => conversations.map((id) => path.join(conversationsDir, id, name));
  const agents = await subfoldersHolding(agentsDir, [CHAINS_FILE]);
  const count = {
    conversations: (await subfoldersHolding(conversationsDir, [CONVERSATION_FILES.conversation])).length,
    chunks: (await subfoldersHolding(conversationsDir, [CONVERSATION_FILES.chunks])).length,
    rawMessages: await listTotal(inConversations(CONVERSATION_FILES.rawMessages), 'messages'),
    memories: await listTotal(inConversations(CONVERSATION_FILES.memories), 'memories'),
    chains: await listTotal(
      agents.map((id) => path.join(agentsDir, id, CHAINS_FILE)),
      'chains',
    ),
  };

  const cache = await store.cache.list();
  const state = await store.state.list();
  corrupt.push(...cache.corrupt, ...state.corrupt);
  const liveCache = cache.entries.filter(
    ({ entry }) => !isCacheExpired(entry.record.expiresAt, nowMs),
  ).length;

  const directorySizes: Record<string, number> = {};
  for (const name of DATA_DIRS) directorySizes[name] = await folderBytes(path.join(layout.baseDir, name));

  return {
    counts: {
      conversation_count: count.conversations,
      raw_message_count: count.rawMessages,
      memory_count: count.memories,
      reasoning_chain_count: count.chains,
      agent_count: agents.length,
      chunk_info_count: count.chunks,
      cache_entry_count: liveCache,
      system_state_count: state.entries.length,
      total_bytes: await folderBytes(layout.baseDir),
    },
    extra: {
      cache_entries: liveCache,
      directory_sizes: directorySizes,
      corrupt_files: corrupt.map((file) => path.relative(layout.baseDir, file)).sort(),
    },
  };
}
