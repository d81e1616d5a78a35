/**
 * The file backend: the Python reference's folder layout and JSON envelopes, with
 * atomic durable writes, cross-process locking, collision-free key files (D3) and typed errors.
 */
import {
  type CacheRecord,
  type CacheRecordWrite,
  type HealthProbe,
  isCacheExpired,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
  type NormalizedSearchQuery,
  type SearchCandidate,
  nowTimestamp,
  type SequencedChain,
  type SequencedChainRead,
  type StatsSnapshot,
  StorageInterface,
} from '../../core/index.js';
import { ensureDirDurable, ensureDirUnder, ioError } from './atomic-json.js';
import { Backups } from './backups.js';
import { type FileStorageConfig, parseFileStorageConfig, type ResolvedFileStorageConfig } from './config.js';
import {
  cacheEnvelope,
  type CacheFileEntry,
  chunksEnvelope,
  conversationEnvelope,
  memoriesEnvelope,
  parseCacheFile,
  parseStateFile,
  rawMessagesEnvelope,
  stateEnvelope,
  type StateFileEntry,
} from './envelopes.js';
import { FileChains } from './chains.js';
import { FileLocks } from './file-lock.js';
import { FolderFiles } from './folder-files.js';
import { FolderReads } from './folder-reads.js';
import { readFileConversationBatch } from './batch-reads.js';
import { KeyedFiles } from './keyed-files.js';
import { CHAINS_FILE, CONVERSATION_FILES, type ConversationFileKind, StoreLayout } from './layout.js';
import {
  assertStoreFolderExists,
  cleanUpAfterCrash,
  probeFileHealth,
  subfoldersHolding,
} from './maintenance.js';
import {
  assumedNameFolding,
  FileNames,
  type FileStorageInternals,
  probeNameFolding,
} from './name-folding.js';
import { FileSearchIndex } from './search-index.js';
import { collectFileStats, type StoreView } from './stats.js';
import { throwIfAborted } from '../../core/abort.js';
import * as batches from './batches.js';

/**
 * Storage in a folder tree of JSON files, readable and writable by the Python reference's
 * `FileStorage` as well. Safe to share one folder between instances and processes.
 */
export class FileStorage extends StorageInterface {
  /** One-line description for the factory's list of backends. */
  static readonly description =
    'JSON files in a folder tree (the Python reference layout), atomic writes, safe across processes';

  /** Backend name: `file`. */
  readonly storageType = 'file';

  private readonly config: Readonly<ResolvedFileStorageConfig>;

  private readonly names: FileNames;
  private readonly layout: StoreLayout;
  private readonly locks: FileLocks;
  private readonly folders: FolderFiles;
  private readonly reads: FolderReads;
  private readonly chains: FileChains;
  private readonly cache: KeyedFiles<CacheFileEntry>;
  private readonly state: KeyedFiles<StateFileEntry>;
  /** The native full-text index (`null` with `searchIndex: false`). */
  private readonly textIndex: FileSearchIndex | null;

  /**
   * Validates `config` (throws `ConfigError` for an unknown key or a bad value); touches no file.
   * `internals` is a test seam, not public API.
   */
  constructor(config: FileStorageConfig = {}, internals: FileStorageInternals = {}) {
    super();
    this.config = Object.freeze(parseFileStorageConfig(config));
    this.names = new FileNames(internals.entryNames);
    const layout = new StoreLayout(this.config.baseDir, this.names);
    this.layout = layout;
    this.locks = new FileLocks(
      layout.locksDir,
      () => ensureDirUnder(layout.baseDir, layout.locksDir),
      this.config.logger,
    );
    const backups = { enabled: this.config.createBackups, keep: this.config.maxBackupFiles };
    this.textIndex = this.config.searchIndex
      ? new FileSearchIndex({
          layout,
          extractor: () => this.textExtractor,
          fields: this.config.searchFields ?? {},
          readOnly: this.config.readOnly,
          logger: this.config.logger,
          // `this.chains` is built below; searches run after the constructor.
          firstChainSequence: (agentId, chains) => this.chains.firstSequenceOf(agentId, chains),
        })
      : null;
    const pretty = this.config.prettyPrintJson;
    this.folders = new FolderFiles(layout, this.locks, new Backups(backups), pretty, this.textIndex);
    this.reads = new FolderReads(layout, this.names, this.folders);
    this.chains = new FileChains(layout, this.folders, this.reads, this.config.prettyPrintJson);
    const shared = {
      locks: this.locks,
      pretty: this.config.prettyPrintJson,
      root: layout.baseDir,
      names: this.names,
    };
    this.cache = new KeyedFiles({
      ...shared,
      dir: this.layout.cacheDir,
      kind: 'cache',
      parse: parseCacheFile,
      backups: null, // the reference never backs up cache files
    });
    this.state = new KeyedFiles({
      ...shared,
      dir: this.layout.systemDir,
      kind: 'system',
      parse: parseStateFile,
      backups,
    });
  }

  /** Absolute path of the store's root folder. */
  get baseDir(): string {
    return this.layout.baseDir;
  }

  // ----- lifecycle -----------------------------------------------------------------------

  /** True when configured `readOnly`: opens an existing folder only and refuses every write. */
  override get isReadOnly(): boolean {
    return this.config.readOnly;
  }

  /** The `maxReasoningChainsPerAgent` option (`null`: no limit). */
  override get maxReasoningChainsPerAgent(): number | null {
    return this.config.maxReasoningChainsPerAgent ?? null;
  }

  protected override describeStore(): string {
    return this.layout.baseDir;
  }

  protected async openStore(): Promise<void> {
    // Read-only: no folders created, no crash leftovers removed (they may be a live writer's).
    if (this.config.readOnly) {
      await assertStoreFolderExists(this.layout);
      // A probe would write a file: assume what the platform's usual file systems do.
      this.names.folding = assumedNameFolding();
      return;
    }
    for (const dir of this.layout.requiredDirs) {
      await ensureDirDurable(dir).catch((error: unknown) => {
        throw ioError('create folder', dir, error);
      });
    }
    await cleanUpAfterCrash(this.layout, this.locks, this.config.logger);
    // Before any call: keys and ids that differ only by case must not share a file or folder
    // where the file system does not tell them apart.
    this.names.folding = await probeNameFolding(this.layout.internalDir, this.names.entries);
  }

  protected async closeStore(): Promise<void> {
    // The core lets the calls it accepted finish first, so every lock they kept is idle now.
    await this.locks.releaseIdle();
    await this.textIndex?.flush();
  }

  // ----- conversations -------------------------------------------------------------------

  protected async writeConversation(conversationId: string, data: JsonObject): Promise<void> {
    const envelope = conversationEnvelope(conversationId, data, nowTimestamp());
    await this.replaceConversationFile(conversationId, 'conversation', envelope);
  }

  protected async readConversation(conversationId: string): Promise<JsonObject | null> {
    return this.reads.conversation(conversationId);
  }

  protected async listConversationIds(): Promise<string[]> {
    return subfoldersHolding(this.layout.conversationsDir, [CONVERSATION_FILES.conversation]);
  }

  protected async listStoredConversationIds(): Promise<string[]> {
    return subfoldersHolding(this.layout.conversationsDir, Object.values(CONVERSATION_FILES));
  }

  protected async removeConversation(conversationId: string): Promise<void> {
    await this.folders.removeConversation(conversationId);
  }

  // ----- raw messages, chunk info ---------------------------------------------------------

  protected async writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void> {
    const envelope = rawMessagesEnvelope(conversationId, messages, nowTimestamp());
    await this.replaceConversationFile(conversationId, 'rawMessages', envelope);
  }

  protected async readRawMessages(conversationId: string): Promise<JsonValue[] | null> {
    return this.reads.rawMessages(conversationId);
  }

  protected async writeChunkInfo(conversationId: string, data: JsonObject): Promise<void> {
    const envelope = chunksEnvelope(conversationId, data, nowTimestamp());
    await this.replaceConversationFile(conversationId, 'chunks', envelope);
  }

  protected async readChunkInfo(conversationId: string): Promise<JsonObject | null> {
    return this.reads.chunkInfo(conversationId);
  }

  // ----- memories, reasoning chains -------------------------------------------------------

  protected upsertMemory(conversationId: string, memory: MemoryWrite): Promise<void> {
    return batches.upsertMemoryBatch(this.batchParts, conversationId, [memory]);
  }

  protected override upsertMemoryBatch(
    conversationId: string,
    writes: readonly MemoryWrite[],
  ): Promise<void> {
    return batches.upsertMemoryBatch(this.batchParts, conversationId, writes);
  }

  protected async removeMemory(conversationId: string, memoryId: string): Promise<void> {
    await this.folders.withConversation(conversationId, async (assertHeld) => {
      const file = this.layout.conversationFile(conversationId, 'memories');
      const read = await this.folders.readList(file, () => this.reads.memoriesFile(conversationId));
      // Every record with that id goes (the reference may have written duplicates).
      const kept = read.list.filter((memory) => (memory as JsonObject).memory_id !== memoryId);
      if (kept.length === read.list.length) return;
      // A conversation without memories has no memories file.
      if (kept.length === 0) return this.folders.remove(file, assertHeld);
      const envelope = memoriesEnvelope(conversationId, kept, nowTimestamp());
      await this.folders.replaceList(file, kept, envelope, read, assertHeld);
    });
  }

  protected async readMemories(conversationId: string): Promise<JsonObject[]> {
    return this.reads.memories(conversationId);
  }

  protected override readConversationBatch(ids: readonly string[]) {
    // Where names fold, each id needs the single reads' twin check.
    return this.names.folds ? super.readConversationBatch(ids) : readFileConversationBatch(this.layout, ids);
  }

  protected appendReasoningChain(agentId: string, record: JsonObject): Promise<void> {
    return this.addReasoningChainBatch(agentId, [record]);
  }

  /** Appends and trims to `maxReasoningChainsPerAgent` in one locked step, as a single append. */
  protected override async addReasoningChainBatch(
    agentId: string,
    records: readonly JsonObject[],
  ): Promise<void> {
    await this.chains.append(agentId, records, this.maxReasoningChainsPerAgent);
  }

  protected override readSequencedChains(
    agentId: string,
    read: SequencedChainRead,
  ): Promise<SequencedChain[]> {
    return this.chains.readSequenced(agentId, read);
  }

  protected override keepLastChains(agentId: string, keepLast: number): Promise<number> {
    return this.chains.trim(agentId, keepLast);
  }

  protected async readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    return this.reads.chains(agentId, limit);
  }

  protected async removeReasoningChains(agentId: string): Promise<void> {
    await this.chains.removeAll(agentId);
  }

  protected async listAgentIds(): Promise<string[]> {
    return subfoldersHolding(this.layout.agentsDir, [CHAINS_FILE]);
  }

  // ----- cache -----------------------------------------------------------------------------

  protected async writeCacheRecord(cacheKey: string, record: CacheRecord): Promise<void> {
    await this.cache.write(cacheKey, cacheEnvelope(cacheKey, record));
  }

  protected override writeCacheRecordBatch(
    method: string,
    writes: readonly CacheRecordWrite[],
  ): Promise<void> {
    return batches.writeCacheRecordBatch(this.batchParts, method, writes);
  }

  protected async readCacheRecord(cacheKey: string): Promise<CacheRecord | null> {
    return (await this.cache.read(cacheKey))?.record ?? null;
  }

  protected async removeCacheRecord(cacheKey: string): Promise<void> {
    await this.cache.remove(cacheKey);
  }

  protected async listLiveCacheKeys(nowMs: number): Promise<string[]> {
    const { entries } = await this.cache.list();
    return entries
      .filter(({ entry }) => !isCacheExpired(entry.record.expiresAt, nowMs))
      .map(({ entry }) => entry.key);
  }

  protected async removeExpiredCache(nowMs: number, signal?: AbortSignal): Promise<number> {
    const expired = (entry: CacheFileEntry) => isCacheExpired(entry.record.expiresAt, nowMs);
    let removed = 0;
    for (const { entry } of (await this.cache.list()).entries) {
      throwIfAborted(signal, 'purgeExpiredCache'); // between two file removals, each whole
      // Checked again under the key's lock: a fresh write since the listing survives.
      if (expired(entry) && (await this.cache.removeMatching(entry.key, expired))) removed += 1;
    }
    return removed;
  }

  // ----- system state ----------------------------------------------------------------------

  protected async writeSystemState(stateKey: string, data: JsonObject): Promise<void> {
    await this.state.write(stateKey, stateEnvelope(stateKey, data, nowTimestamp()));
  }

  protected async readSystemState(stateKey: string): Promise<JsonObject | null> {
    return (await this.state.read(stateKey))?.data ?? null;
  }

  protected async removeSystemState(stateKey: string): Promise<void> {
    await this.state.remove(stateKey);
  }

  protected async listStateKeys(): Promise<string[]> {
    return (await this.state.list()).entries.map(({ entry }) => entry.key);
  }

  // ----- health and stats ------------------------------------------------------------------

  protected async probeHealth(): Promise<HealthProbe> {
    return probeFileHealth(this.layout, this.config.readOnly);
  }

  protected async collectStats(nowMs: number): Promise<StatsSnapshot> {
    return collectFileStats(this.storeView(), nowMs);
  }

  // ----- search (see search-index.ts) ------------------------------------------------------

  protected override async searchIndex(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    // Where names fold, one folder may answer to several ids: the default scan handles that.
    const found = this.names.folds ? null : await this.textIndex?.search(query);
    return found ?? super.searchIndex(query);
  }

  protected override async rebuildSearchIndex(): Promise<number> {
    return this.textIndex === null || this.names.folds ? 0 : this.textIndex.rebuild();
  }

  // ----- helpers ---------------------------------------------------------------------------

  private get batchParts(): batches.FileBatchParts {
    return { folders: this.folders, reads: this.reads, layout: this.layout, cache: this.cache };
  }

  private storeView(): StoreView {
    const index = this.names.folds ? null : this.textIndex;
    return {
      layout: this.layout,
      cache: this.cache,
      state: this.state,
      counts: this.folders.counts,
      indexEntries: index === null ? null : (files) => index.entries(files),
    };
  }

  /** Replaces one file of a conversation under the conversation's lock. */
  private async replaceConversationFile(
    conversationId: string,
    kind: ConversationFileKind,
    envelope: JsonObject,
  ): Promise<void> {
    const file = this.layout.conversationFile(conversationId, kind);
    await this.folders.replaceInConversation(conversationId, file, envelope);
  }
}
