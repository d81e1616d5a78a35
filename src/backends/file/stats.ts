/**
 * The stats of the file backend: the counts of every kind every backend reports, read from
 * the files (live cache entries only), plus the reference's `cache_entries` and `directory_sizes`. One walk
 * of the tree gives both the sizes and which files each conversation and agent folder holds;
 * a file that does not parse is skipped and named in `corrupt_files`, never fatal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CorruptDataError, isCacheExpired, type StatsSnapshot } from '../../core/index.js';
import { ioError, readParsedFile } from './atomic-json.js';
import { type CacheFileEntry, parseListEnvelope, type StateFileEntry } from './envelopes.js';
import type { KeyedFiles } from './keyed-files.js';
import { CHAINS_FILE, CONVERSATION_FILES, DATA_DIRS, type StoreLayout } from './layout.js';
import { mapConcurrent } from '../../core/concurrency.js';
import { isMissing } from './temp-files.js';

/** Entries handled at once per folder while walking, and files parsed at once while counting. */
const CONCURRENCY = 32;

/** What the stats walk needs from a store. */
export interface StoreView {
  /** Where the store's folders are. */
  layout: StoreLayout;
  /** The cache folder's entries. */
  cache: KeyedFiles<CacheFileEntry>;
  /** The system folder's entries. */
  state: KeyedFiles<StateFileEntry>;
}

/** Size of a file; 0 when it vanished meanwhile. */
function sizeOf(file: string): Promise<number> {
  return new Promise((resolve) => fs.lstat(file, (error, stat) => resolve(error ? 0 : stat.size)));
}

/**
 * Bytes of all files under `dir` (0 when missing); files vanishing during the walk are
 * skipped. `onFolder` sees the entry names of every folder walked.
 */
async function treeBytes(dir: string, onFolder?: (dir: string, names: string[]) => void): Promise<number> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return 0;
    throw ioError('list', dir, error);
  }
  onFolder?.(
    dir,
    entries.map((entry) => entry.name),
  );
  const sizes = await mapConcurrent(entries, CONCURRENCY, (entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? treeBytes(full, onFolder) : sizeOf(full);
  });
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Walks one data folder; returns its bytes and the entry names of each of its sub-folders. */
async function scanDataDir(dir: string): Promise<{ bytes: number; folders: Map<string, Set<string>> }> {
  const folders = new Map<string, Set<string>>();
  const bytes = await treeBytes(dir, (folder, names) => {
    if (path.dirname(folder) === dir) folders.set(path.basename(folder), new Set(names));
  });
  return { bytes, folders };
}

/** Ids of the folders holding `file`. */
function holding(folders: Map<string, Set<string>>, file: string): string[] {
  return [...folders].filter(([, names]) => names.has(file)).map(([id]) => id);
}

/**
 * Counts every kind (live cache entries at `nowMs` only), the reference's `cache_entries` and
 * `directory_sizes`, `total_bytes`, and `corrupt_files`: files skipped because they do not parse.
 */
export async function collectFileStats(store: StoreView, nowMs: number): Promise<StatsSnapshot> {
  const { layout } = store;
  const corrupt: string[] = [];
  /** Total length of the lists in `field` of `files`; a corrupt file counts 0 and is noted. */
  const listTotal = async (files: string[], field: string): Promise<number> => {
    const lengths = await mapConcurrent(files, CONCURRENCY, async (file) => {
      try {
        const list = await readParsedFile(file, (f, value) => parseListEnvelope(f, value, field, false));
        return list?.length ?? 0;
      } catch (error) {
        if (!(error instanceof CorruptDataError)) throw error;
        corrupt.push(file);
        return 0;
      }
    });
    return lengths.reduce((sum, n) => sum + n, 0);
  };

  const conversations = await scanDataDir(layout.conversationsDir);
  const agents = await scanDataDir(layout.agentsDir);
  const inFolders = (parent: string, ids: string[], name: string) =>
    ids.map((id) => path.join(parent, id, name));
  const conversationsWith = (name: string) => holding(conversations.folders, name);
  const agentIds = holding(agents.folders, CHAINS_FILE);
  const rawMessages = await listTotal(
    inFolders(
      layout.conversationsDir,
      conversationsWith(CONVERSATION_FILES.rawMessages),
      CONVERSATION_FILES.rawMessages,
    ),
    'messages',
  );
  const memories = await listTotal(
    inFolders(
      layout.conversationsDir,
      conversationsWith(CONVERSATION_FILES.memories),
      CONVERSATION_FILES.memories,
    ),
    'memories',
  );
  const chains = await listTotal(inFolders(layout.agentsDir, agentIds, CHAINS_FILE), 'chains');

  const cache = await store.cache.list();
  const state = await store.state.list();
  corrupt.push(...cache.corrupt, ...state.corrupt);
  const liveCache = cache.entries.filter(
    ({ entry }) => !isCacheExpired(entry.record.expiresAt, nowMs),
  ).length;

  const directorySizes: Record<string, number> = {
    conversations: conversations.bytes,
    agents: agents.bytes,
    cache: await treeBytes(layout.cacheDir),
    system: await treeBytes(layout.systemDir),
  };
  // Everything else under the base folder (this library's own folder, stray files) counts in the total.
  let otherBytes = 0;
  for (const entry of await fs.promises.readdir(layout.baseDir, { withFileTypes: true }).catch(() => [])) {
    if ((DATA_DIRS as readonly string[]).includes(entry.name)) continue;
    const full = path.join(layout.baseDir, entry.name);
    otherBytes += entry.isDirectory() ? await treeBytes(full) : await sizeOf(full);
  }
  const dataBytes = Object.values(directorySizes).reduce((sum, n) => sum + n, 0);

  return {
    counts: {
      conversation_count: conversationsWith(CONVERSATION_FILES.conversation).length,
      raw_message_count: rawMessages,
      memory_count: memories,
      reasoning_chain_count: chains,
      agent_count: agentIds.length,
      chunk_info_count: conversationsWith(CONVERSATION_FILES.chunks).length,
      cache_entry_count: liveCache,
      system_state_count: state.entries.length,
      total_bytes: dataBytes + otherBytes,
    },
    extra: {
      cache_entries: liveCache,
      directory_sizes: directorySizes,
      corrupt_files: corrupt.map((file) => path.relative(layout.baseDir, file)).sort(),
    },
  };
}
