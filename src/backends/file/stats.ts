/**
 * The stats of the file backend: the counts of every kind every backend reports, read from
 * the files (live cache entries only), plus the reference's `cache_entries` and `directory_sizes`. One walk
 * of the tree gives both the sizes and which files each conversation and agent folder holds;
 * a file that does not parse is skipped and named in `corrupt_files`, never fatal.
 */
import path from 'node:path';
import { CorruptDataError, isCacheExpired, type SearchKind, type StatsSnapshot } from '../../core/index.js';
import { type FileIdentity } from './atomic-json.js';
import { readJsonFileSync } from './json-reads.js';
import { type CacheFileEntry, parseListEnvelope, type StateFileEntry } from './envelopes.js';
import type { FolderListings } from './folder-listings.js';
import type { KeyedFiles } from './keyed-files.js';
import { CHAINS_FILE, CONVERSATION_FILES, DATA_DIRS, type StoreLayout } from './layout.js';
import { LIST_FIELDS, type RecordCounts } from './record-counts.js';
import { SEARCH_DIR } from './search-index.js';
import { type SourceRef, SOURCE_FILES } from './search-sources.js';
import { LoopTurns } from './loop-turns.js';
import { type DataDirScan, TreeWalk } from './tree-walk.js';

/** List files read and counted before the event loop gets a turn. */
const READ_CHUNK = 32;

/** The files of conversation and agent folders the search index covers. */
const DATA_FILES = [...Object.values(CONVERSATION_FILES), CHAINS_FILE];

/** A data file the search index covers, with its identity as the walk found it. */
export interface IndexedFile {
  source: SourceRef;
  identity: FileIdentity;
}

/** What the stats walk needs from a store. */
export interface StoreView {
  /** Where the store's folders are. */
  layout: StoreLayout;
  /** The cache folder's entries. */
  cache: KeyedFiles<CacheFileEntry>;
  /** The system folder's entries. */
  state: KeyedFiles<StateFileEntry>;
  /** Record counts of the list files, kept by writes and by earlier stats. */
  counts: RecordCounts;
  /** Listings of the folders walked, kept by earlier stats. */
  listings: FolderListings;
  /** The records the search index holds for these data files, or `null` without an index. */
  indexEntries: ((files: IndexedFile[]) => Promise<number>) | null;
}

/** Ids of the folders holding `file`. */
function holding(scan: DataDirScan, file: string): string[] {
  const ids: string[] = [];
  for (const [id, files] of scan.folders) if (files.has(file)) ids.push(id);
  return ids;
}

/** The search kind of each data file name in a folder of `dir` (what `sourceOf` answers for its path). */
function kindsIn(dir: 'conversations' | 'agents'): Map<string, SearchKind> {
  const kinds = Object.entries(SOURCE_FILES) as Array<[SearchKind, string]>;
  return new Map(
    kinds.filter(([kind]) => (kind === 'reasoning_chains') === (dir === 'agents')).map(([k, f]) => [f, k]),
  );
}
const KINDS_IN = { conversations: kindsIn('conversations'), agents: kindsIn('agents') };

/**
 * The data files of the walked folders, with their identities: the sources `sourceOf` gives for
 * their paths, made from the folder and file names the walk has (parsing 10,000 paths back cost
 * more than the rest of the step).
 */
function indexedFiles(layout: StoreLayout, conversations: DataDirScan, agents: DataDirScan): IndexedFile[] {
  const out: IndexedFile[] = [];
  const add = (scan: DataDirScan, dir: string, kinds: Map<string, SearchKind>): void => {
    const base = path.join(dir, path.sep); // normalised once: then concatenation is `path.join`
    for (const [owner, files] of scan.folders) {
      for (const [name, { identity }] of files) {
        const kind = kinds.get(name);
        if (kind === undefined || identity === null) continue;
        out.push({ source: { kind, owner, file: base + owner + path.sep + name }, identity });
      }
    }
  };
  add(conversations, layout.conversationsDir, KINDS_IN.conversations);
  add(agents, layout.agentsDir, KINDS_IN.agents);
  return out;
}

/**
 * Counts every kind (live cache entries at `nowMs` only), the reference's `cache_entries` and
 * `directory_sizes`, `total_bytes`, `corrupt_files` (files skipped because they do not parse)
 * and, with an index, `search_index_entries`. One walk gives the sizes, which files each
 * conversation and agent folder holds, and their identities: a list file is parsed only when
 * its count is not known for that identity, and the index is handed the identities instead of
 * `stat`ing every file again.
 */
export async function collectFileStats(store: StoreView, nowMs: number): Promise<StatsSnapshot> {
  const { layout, counts } = store;
  const corrupt: string[] = [];
  // Only the index needs the identities of the files that are not lists (it is handed them all).
  const identified = store.indexEntries === null ? Object.keys(LIST_FIELDS) : DATA_FILES;
  // The index's segment folders: their files are only ever written under a temp name and renamed.
  const walk = new TreeWalk(new Set(identified), store.listings, path.join(layout.internalDir, SEARCH_DIR));
  const conversations = await walk.scanDataDir(layout.conversationsDir);
  const agents = await walk.scanDataDir(layout.agentsDir);

  /**
   * Total length of the lists in `field` of the files `name` of `scan` (a corrupt file counts 0
   * and is noted), and how many files hold a record or are corrupt: an empty list (another
   * program's file, see `stored-ids.ts`) is no stored data, so its owner is not counted.
   */
  const listTotal = async (
    scan: DataDirScan,
    parent: string,
    name: string,
    field: string,
  ): Promise<{ total: number; owners: number }> => {
    /** The file's record count; `null` for a corrupt one (noted). */
    const countOf = (id: string): number | null => {
      const file = path.join(parent, id, name);
      const identity = scan.folders.get(id)?.get(name)?.identity ?? null;
      const known = identity === null ? undefined : counts.get(file, identity);
      if (known !== undefined) return known;
      try {
        const value = readJsonFileSync(file);
        const list = value === undefined ? null : parseListEnvelope(file, value, field, false);
        // Counted for the identity the walk saw: a file changed since has another one, so is counted again.
        if (list !== null && identity !== null) counts.set(file, identity, list.length);
        return list?.length ?? 0;
      } catch (error) {
        if (!(error instanceof CorruptDataError)) throw error;
        corrupt.push(file);
        return null;
      }
    };
    // Synchronous reads of page-cached files (an asynchronous one is four thread-pool trips),
    // a chunk at a time between turns of the event loop.
    const turns = new LoopTurns(READ_CHUNK);
    let total = 0;
    let owners = 0;
    for (const id of holding(scan, name)) {
      await turns.step();
      const count = countOf(id);
      total += count ?? 0;
      if (count !== 0) owners += 1;
    }
    return { total, owners };
  };
  const { conversationsDir, agentsDir } = layout;
  const rawMessages = await listTotal(
    conversations,
    conversationsDir,
    CONVERSATION_FILES.rawMessages,
    'messages',
  );
  const memories = await listTotal(conversations, conversationsDir, CONVERSATION_FILES.memories, 'memories');
  const chains = await listTotal(agents, agentsDir, CHAINS_FILE, 'chains');
  const searchIndexEntries =
    store.indexEntries === null
      ? null
      : await store.indexEntries(indexedFiles(layout, conversations, agents));

  const cache = await store.cache.list();
  const state = await store.state.list();
  corrupt.push(...cache.corrupt, ...state.corrupt);
  const liveCache = cache.entries.filter(
    ({ entry }) => !isCacheExpired(entry.record.expiresAt, nowMs),
  ).length;

  const directorySizes: Record<string, number> = {
    conversations: conversations.bytes,
    agents: agents.bytes,
    cache: await walk.treeBytes(layout.cacheDir),
    system: await walk.treeBytes(layout.systemDir),
  };
  // Everything else under the base folder (this library's own folder, stray files) counts in the total.
  const otherBytes = await walk.treeBytes(layout.baseDir, DATA_DIRS);
  const dataBytes = Object.values(directorySizes).reduce((sum, n) => sum + n, 0);

  return {
    counts: {
      conversation_count: holding(conversations, CONVERSATION_FILES.conversation).length,
      raw_message_count: rawMessages.total,
      memory_count: memories.total,
      reasoning_chain_count: chains.total,
      agent_count: chains.owners,
      chunk_info_count: holding(conversations, CONVERSATION_FILES.chunks).length,
      cache_entry_count: liveCache,
      system_state_count: state.entries.length,
      total_bytes: dataBytes + otherBytes,
    },
    extra: {
      cache_entries: liveCache,
      directory_sizes: directorySizes,
      corrupt_files: corrupt.map((file) => path.relative(layout.baseDir, file)).sort(),
      search_index_entries: searchIndexEntries,
    },
  };
}
