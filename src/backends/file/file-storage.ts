/**
 * The file backend: the Python reference's folder layout and JSON envelopes, with
 * atomic durable writes, cross-process locking, collision-free key files (D3) and typed errors.
 */
import {
  type CacheRecord,
  type CacheRecordWrite,
  type HealthProbe,
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
import { type FileStorageConfig, parseFileStorageConfig, type ResolvedFileStorageConfig } from './config.js';
import { assertBaseFolder, listedInStore } from './base-folder.js';
import { cacheEnvelope, stateEnvelope } from './envelopes.js';
import { readFileConversationBatch } from './batch-reads.js';
import {
  buildFileParts,
  closeFileStore,
  type FileParts,
  liveCacheKeys,
  unlistedKeyedFiles,
  openFileStore,
  purgeExpiredCache,
  storeViewOf,
} from './file-parts.js';
import { removeMemoriesFrom, writeConversationFile, writeRawMessagesFile } from './conversation-files.js';
import { CONVERSATION_FILES } from './layout.js';
import { probeFileHealth, subfoldersHolding } from './maintenance.js';
import type { FileStorageInternals } from './name-folding.js';
import type { FileSearchIndex } from './search-index.js';
import { collectFileStats } from './stats.js';
import { storedAgentIds, storedConversationIds } from './stored-ids.js';
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

  /** Layout, locks, folder writes and reads, chains, cache, state and index (see `file-parts.ts`). */
  private readonly parts: FileParts;

  /**
   * Validates `config` (throws `ConfigError` for an unknown key or a bad value); touches no file.
   * `internals` is a test seam, not public API.
   */
  constructor(config: FileStorageConfig = {}, internals: FileStorageInternals = {}) {
    super();
    this.config = Object.freeze(parseFileStorageConfig(config));
    this.parts = buildFileParts(this.config, internals, {
      extractor: () => this.textExtractor,
      // `this.parts` is set by then: searches run after the constructor.
      firstChainSequence: (agentId, chains, identity) =>
        this.parts.chains.firstSequenceOf(agentId, chains, identity),
    });
  }

  /** The native full-text index (`null` with `searchIndex: false`); tests flush it by this name. */
  private get textIndex(): FileSearchIndex | null {
    return this.parts.textIndex;
  }

  /** Absolute path of the store's root folder. */
  get baseDir(): string {
    return this.parts.layout.baseDir;
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
    return this.parts.layout.baseDir;
  }

  protected async openStore(): Promise<void> {
    await openFileStore(this.parts, this.config);
  }

  protected async closeStore(): Promise<void> {
    // The core lets the calls it accepted finish first, so every lock they kept is idle now.
    await this.parts.locks.releaseIdle();
    await this.parts.textIndex?.flush();
    await closeFileStore(this.parts);
  }

  // ----- conversations -------------------------------------------------------------------

  protected async writeConversation(conversationId: string, data: JsonObject): Promise<void> {
    await writeConversationFile(this.parts, conversationId, 'conversation', data);
  }

  protected async readConversation(conversationId: string): Promise<JsonObject | null> {
    return this.parts.reads.conversation(conversationId);
  }

  // An empty listing looks at the base folder once (see base-folder.ts): a removed store is no empty one.
  protected async listConversationIds(): Promise<string[]> {
    const { conversationsDir } = this.parts.layout;
    return this.listed(subfoldersHolding(conversationsDir, [CONVERSATION_FILES.conversation]));
  }

  protected async listStoredConversationIds(): Promise<string[]> {
    return this.listed(storedConversationIds(this.parts.layout.conversationsDir, this.parts.folders.counts));
  }

  protected async removeConversation(conversationId: string): Promise<void> {
    await this.parts.folders.removeConversation(conversationId);
  }

  // ----- raw messages, chunk info ---------------------------------------------------------

  protected async writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void> {
    await writeRawMessagesFile(this.parts, conversationId, messages);
  }

  protected async readRawMessages(conversationId: string): Promise<JsonValue[] | null> {
    return this.parts.reads.rawMessages(conversationId);
  }

  protected async writeChunkInfo(conversationId: string, data: JsonObject): Promise<void> {
    await writeConversationFile(this.parts, conversationId, 'chunks', data);
  }

  protected async readChunkInfo(conversationId: string): Promise<JsonObject | null> {
    return this.parts.reads.chunkInfo(conversationId);
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
    await removeMemoriesFrom(this.parts, conversationId, [memoryId]);
  }

  protected override async removeMemoryBatch(
    conversationId: string,
    memoryIds: readonly string[],
  ): Promise<void> {
    await removeMemoriesFrom(this.parts, conversationId, memoryIds);
  }

  protected async readMemories(conversationId: string): Promise<JsonObject[]> {
    return this.parts.reads.memories(conversationId);
  }

  protected override readConversationBatch(ids: readonly string[]) {
    // Where names fold, each id needs the single reads' twin check.
    const { names, layout } = this.parts;
    return names.folds ? super.readConversationBatch(ids) : readFileConversationBatch(layout, ids);
  }

  protected appendReasoningChain(agentId: string, record: JsonObject): Promise<void> {
    return this.addReasoningChainBatch(agentId, [record]);
  }

  /** Appends and trims to `maxReasoningChainsPerAgent` in one locked step, as a single append. */
  protected override async addReasoningChainBatch(
    agentId: string,
    records: readonly JsonObject[],
  ): Promise<void> {
    await this.parts.chains.append(agentId, records, this.maxReasoningChainsPerAgent);
  }

  protected override readSequencedChains(
    agentId: string,
    read: SequencedChainRead,
  ): Promise<SequencedChain[]> {
    return this.parts.chains.readSequenced(agentId, read);
  }

  protected override keepLastChains(agentId: string, keepLast: number): Promise<number> {
    return this.parts.chains.trim(agentId, keepLast);
  }

  protected async readReasoningChains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    return this.parts.reads.chains(agentId, limit);
  }

  protected async removeReasoningChains(agentId: string): Promise<void> {
    await this.parts.chains.removeAll(agentId);
  }

  protected async listAgentIds(): Promise<string[]> {
    return this.listed(storedAgentIds(this.parts.layout.agentsDir, this.parts.folders.counts));
  }

  // ----- cache -----------------------------------------------------------------------------

  protected async writeCacheRecord(cacheKey: string, record: CacheRecord): Promise<void> {
    await this.parts.cache.write(cacheKey, cacheEnvelope(cacheKey, record));
  }

  protected override writeCacheRecordBatch(
    method: string,
    writes: readonly CacheRecordWrite[],
  ): Promise<void> {
    return batches.writeCacheRecordBatch(this.batchParts, method, writes);
  }

  protected async readCacheRecord(cacheKey: string): Promise<CacheRecord | null> {
    return (await this.parts.cache.read(cacheKey))?.record ?? null;
  }

  protected override async readCacheRecordBatch(
    cacheKeys: readonly string[],
  ): Promise<Array<CacheRecord | null>> {
    return (await this.parts.cache.readMany(cacheKeys)).map((entry) => entry?.record ?? null);
  }

  protected async removeCacheRecord(cacheKey: string): Promise<void> {
    await this.parts.cache.remove(cacheKey);
  }

  protected override removeCacheRecordBatch(keys: readonly string[]): Promise<void> {
    return batches.removeCacheRecordBatch(this.batchParts, keys);
  }

  protected async listLiveCacheKeys(nowMs: number): Promise<string[]> {
    return this.listed(liveCacheKeys(this.parts.cache, nowMs));
  }

  protected async removeExpiredCache(nowMs: number, signal?: AbortSignal): Promise<number> {
    const removed = await purgeExpiredCache(this.parts.cache, nowMs, signal);
    if (removed === 0) assertBaseFolder(this.baseDir);
    return removed;
  }

  // ----- system state ----------------------------------------------------------------------

  protected async writeSystemState(stateKey: string, data: JsonObject): Promise<void> {
    await this.parts.state.write(stateKey, stateEnvelope(stateKey, data, nowTimestamp()));
  }

  protected async readSystemState(stateKey: string): Promise<JsonObject | null> {
    return (await this.parts.state.read(stateKey))?.data ?? null;
  }

  protected async removeSystemState(stateKey: string): Promise<void> {
    await this.parts.state.remove(stateKey);
  }

  protected async listStateKeys(): Promise<string[]> {
    return this.listed(this.parts.state.list().then(({ entries }) => entries.map(({ entry }) => entry.key)));
  }

  /**
   * Cache and system-state files that do not parse, relative to the store's folder (sorted): a
   * key is kept inside its file, so `listCacheKeys()` and `listSystemStateKeys()` cannot name
   * their records, and a copy that follows the listings would leave them behind (the migration
   * asks first). `getStorageStats()` lists them too, among `corrupt_files`.
   */
  listUnlistedFiles(): Promise<string[]> {
    return this.run('listUnlistedFiles', () => this.listed(unlistedKeyedFiles(this.parts)));
  }

  // ----- health and stats ------------------------------------------------------------------

  protected async probeHealth(): Promise<HealthProbe> {
    return probeFileHealth(this.parts.layout, this.config.readOnly);
  }

  /** Rejects with `BackendUnavailableError` once the base folder is gone: its stats would all be zero. */
  protected async collectStats(nowMs: number): Promise<StatsSnapshot> {
    const stats = await collectFileStats(storeViewOf(this.parts), nowMs);
    // Looked at after the walk, so a folder removed while it ran is reported too.
    assertBaseFolder(this.baseDir);
    return stats;
  }

  // ----- search (see search-index.ts) ------------------------------------------------------

  protected override async searchIndex(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    // Where names fold, one folder may answer to several ids: the default scan handles that.
    const found = this.parts.names.folds ? null : await this.parts.textIndex?.search(query);
    return found ?? super.searchIndex(query);
  }

  protected override async rebuildSearchIndex(signal?: AbortSignal): Promise<number> {
    if (this.parts.textIndex === null || this.parts.names.folds) return super.rebuildSearchIndex(signal);
    return this.parts.textIndex.rebuild(signal);
  }

  // ----- helpers ---------------------------------------------------------------------------

  private get batchParts(): batches.FileBatchParts {
    return this.parts;
  }

  /** `found`, or a `BackendUnavailableError` when it is empty because the base folder is gone. */
  private listed<T>(found: Promise<T[]>): Promise<T[]> {
    return listedInStore(this.baseDir, found);
  }
}
