/**
 * Semantic search wired into the store. With the `semantic` option (`{ embedder, vectorStore }`)
 * every write of a memory, reasoning chain or raw-message list embeds the record's text and
 * upserts its vector, every delete, replace or trim removes the old vectors, and `search()`
 * takes `mode: 'vector' | 'hybrid'`. Without it this layer passes every call through.
 *
 * Order of a write: validate, embed (an embedder failure rejects with nothing written), write
 * the record, upsert its vectors. When the upsert fails, the record write is undone from a
 * snapshot read before it (memories, raw messages). Reasoning chains are the exception: the
 * storage primitives cannot remove a chain just appended, so the chains stay stored without
 * vectors (the error is rethrown and logged with their sequence numbers; `reindex()` embeds
 * them). Vectors of records that are gone are removed after the write committed; a failure
 * there is logged, never returned by a search (ids are resolved to live records), and cleared
 * by `reindex()`. Writes of one conversation or agent are serialised in this process.
 */
import { raceAbort, throwIfAborted } from './abort.js';
import { atItem, checkBatch, itemFields, type MemoryBatchItem } from './batches.js';
import { ConfigError } from './errors.js';
import { validateId } from './ids.js';
import { type JsonObject, type JsonValue, toJsonArray, toJsonObject } from './json.js';
import { KeyedMutex } from './keyed-mutex.js';
import { logEvent, type StorageLogger } from './logger.js';
import { buildMemoryWrite } from './records.js';
import type { SearchHit } from './search/hits.js';
import { normalizeSearchQuery, type NormalizedSearchQuery, type SearchQuery } from './search/query.js';
import { rankCandidates } from './search/rank.js';
import type { SemanticOptions } from './semantic/options.js';
import { changesOf, SemanticIndex, type VectorChanges } from './semantic/semantic-index.js';
import { vectorIdOf } from './semantic/vector-ids.js';
import { fuseHits, HYBRID_DEPTH, type RecordReader, vectorHits } from './semantic/vector-search.js';
import { validateKeepLast, type SequencedChain } from './storage-retention.js';
import { SearchableStorage } from './storage-search.js';

/** Semantic and hybrid search wired into the writes. Extend `StorageInterface`, not this. */
export abstract class SemanticStorage extends SearchableStorage {
  private semanticIndex: SemanticIndex | null | undefined;
  private readonly ownerLocks = new KeyedMutex();

  /** True when the store was configured with the `semantic` option (vector and hybrid search work). */
  get hasSemanticSearch(): boolean {
    return this.semantic !== null;
  }

  // ----- writes ----------------------------------------------------------------------------

  override async storeMemory(
    conversationId: string,
    memoryId: string,
    memoryData: JsonObject,
  ): Promise<boolean> {
    if (this.semantic === null) return super.storeMemory(conversationId, memoryId, memoryData);
    validateId('conversationId', conversationId);
    validateId('memoryId', memoryId);
    const value = toJsonObject(memoryData, `memory ${JSON.stringify(memoryId)}`);
    await this.writeMemoriesWithVectors('storeMemory', conversationId, [{ memoryId, data: value }], () =>
      super.storeMemory(conversationId, memoryId, value),
    );
    return true;
  }

  override async storeMemories(
    conversationId: string,
    memories: readonly MemoryBatchItem[],
  ): Promise<number> {
    if (this.semantic === null) return super.storeMemories(conversationId, memories);
    const method = 'storeMemories';
    validateId('conversationId', conversationId);
    const items = checkBatch<unknown>(method, 'memories', memories).map((item, index) =>
      atItem(method, index, () => {
        const { memoryId, data } = itemFields(item, ['memoryId', 'data'] as const);
        validateId('memoryId', memoryId);
        return { memoryId, data: toJsonObject(data, `memory ${JSON.stringify(memoryId)}`) };
      }),
    );
    if (items.length === 0) return super.storeMemories(conversationId, items);
    await this.writeMemoriesWithVectors(method, conversationId, items, () =>
      super.storeMemories(conversationId, items),
    );
    return items.length;
  }

  override async storeRawMessages(conversationId: string, messages: JsonValue[]): Promise<boolean> {
    if (this.semantic === null) return super.storeRawMessages(conversationId, messages);
    const method = 'storeRawMessages';
    validateId('conversationId', conversationId);
    const value = toJsonArray(messages, `raw messages of ${JSON.stringify(conversationId)}`);
    await this.locked(method, `c/${conversationId}`, async (index) => {
      const refs = value.map((_, messageIndex) => ({
        kind: 'raw_messages' as const,
        conversationId,
        messageIndex,
      }));
      const changes = await index.prepare(refs.map((ref, i) => ({ ref, record: value[i]! })));
      const before = await this.readRawMessages(conversationId);
      const write = (): Promise<unknown> => super.storeRawMessages(conversationId, value);
      if (before === null) {
        // Nothing to restore: vectors first, so a failed write is undone by removing them.
        await applyChanges(index, changes);
        await write().catch(async (error: unknown) => {
          await index.removeStale(
            changes.upserts.map((item) => item.id),
            method,
          );
          throw error;
        });
        return;
      }
      await write();
      await applyChanges(index, changes).catch(async (error: unknown) => {
        await this.undo(method, () => this.writeRawMessages(conversationId, before));
        throw error;
      });
      const stale = before
        .slice(value.length)
        .map((_, i) => vectorIdOf({ kind: 'raw_messages', conversationId, messageIndex: value.length + i }));
      await index.removeStale(stale, method);
    });
    return true;
  }

  override async storeReasoningChain(agentId: string, chainData: JsonObject): Promise<boolean> {
    if (this.semantic === null) return super.storeReasoningChain(agentId, chainData);
    validateId('agentId', agentId);
    const value = toJsonObject(chainData, `reasoning chain of ${JSON.stringify(agentId)}`);
    await this.appendChainsWithVectors('storeReasoningChain', agentId, [value], () =>
      super.storeReasoningChain(agentId, value),
    );
    return true;
  }

  override async appendReasoningChains(agentId: string, chains: readonly JsonObject[]): Promise<number> {
    if (this.semantic === null) return super.appendReasoningChains(agentId, chains);
    const method = 'appendReasoningChains';
    validateId('agentId', agentId);
    const values = checkBatch<unknown>(method, 'chains', chains).map((chain, index) =>
      atItem(method, index, () => toJsonObject(chain, `reasoning chain of ${JSON.stringify(agentId)}`)),
    );
    if (values.length === 0) return super.appendReasoningChains(agentId, values);
    await this.appendChainsWithVectors(method, agentId, values, () =>
      super.appendReasoningChains(agentId, values),
    );
    return values.length;
  }

  // ----- deletes and trims -------------------------------------------------------------------

  override async deleteMemory(conversationId: string, memoryId: string): Promise<boolean> {
    if (this.semantic === null) return super.deleteMemory(conversationId, memoryId);
    validateId('conversationId', conversationId);
    validateId('memoryId', memoryId);
    await this.locked('deleteMemory', `c/${conversationId}`, async (index) => {
      await super.deleteMemory(conversationId, memoryId);
      await index.removeStale([vectorIdOf({ kind: 'memories', conversationId, memoryId })], 'deleteMemory');
    });
    return true;
  }

  override async deleteConversation(conversationId: string): Promise<boolean> {
    if (this.semantic === null) return super.deleteConversation(conversationId);
    validateId('conversationId', conversationId);
    await this.locked('deleteConversation', `c/${conversationId}`, async (index) => {
      const raw = (await this.readRawMessages(conversationId)) ?? [];
      const memories = await this.readMemories(conversationId);
      await super.deleteConversation(conversationId);
      const ids = [
        ...raw.map((_, messageIndex) => vectorIdOf({ kind: 'raw_messages', conversationId, messageIndex })),
        ...memories.flatMap((memory) =>
          typeof memory.memory_id === 'string'
            ? [vectorIdOf({ kind: 'memories', conversationId, memoryId: memory.memory_id })]
            : [],
        ),
      ];
      await index.removeStale([...new Set(ids)], 'deleteConversation');
    });
    return true;
  }

  override async deleteReasoningChains(agentId: string): Promise<boolean> {
    if (this.semantic === null) return super.deleteReasoningChains(agentId);
    validateId('agentId', agentId);
    await this.locked('deleteReasoningChains', `a/${agentId}`, async (index) => {
      const before = await this.readAllSequencedChains(agentId);
      await super.deleteReasoningChains(agentId);
      await index.removeStale(chainIds(agentId, before), 'deleteReasoningChains');
    });
    return true;
  }

  override async trimReasoningChains(agentId: string, keepLast: number): Promise<number> {
    if (this.semantic === null) return super.trimReasoningChains(agentId, keepLast);
    validateId('agentId', agentId);
    const keep = validateKeepLast(keepLast);
    return this.locked('trimReasoningChains', `a/${agentId}`, async (index) => {
      const before = await this.readAllSequencedChains(agentId);
      const removed = await super.trimReasoningChains(agentId, keep);
      const kept = new Set((await this.readAllSequencedChains(agentId)).map((item) => item.sequence));
      const gone = before.filter((item) => !kept.has(item.sequence));
      await index.removeStale(chainIds(agentId, gone), 'trimReasoningChains');
      return removed;
    });
  }

  // ----- search and reindex --------------------------------------------------------------------

  /**
   * Full-text search (`mode: 'text'`, the default), vector search (`'vector'`: the records
   * nearest to the text's embedding within the scope; `score` is the similarity) or both
   * fused by reciprocal rank (`'hybrid'`: each list fetched 4x deeper than `limit`, k = 60;
   * `score` is the fused score). `'vector'`/`'hybrid'` on a store without the `semantic`
   * option is a `ConfigError` before any I/O. Vector search covers raw messages, memories and
   * chains (the embedded kinds); other kinds only come from the full-text list.
   */
  override async search(query: SearchQuery): Promise<SearchHit[]> {
    const normalized = normalizeSearchQuery(query);
    if (normalized.mode === 'text') return super.search(query);
    const index = this.semantic;
    if (index === null) {
      throw new ConfigError(
        `search mode '${normalized.mode}' needs the store's semantic option ({ embedder, vectorStore })`,
        'semantic',
      );
    }
    throwIfAborted(normalized.signal, 'search');
    const work = this.run('search', async () => {
      if (normalized.mode === 'vector') return this.vectorList(index, normalized, normalized.limit);
      const depth = normalized.limit * HYBRID_DEPTH;
      const [text, vector] = await Promise.all([
        this.textList(normalized, depth),
        this.vectorList(index, normalized, depth),
      ]);
      return fuseHits(text, vector, normalized.limit);
    });
    return raceAbort(work, normalized.signal, 'search');
  }

  /**
   * Rebuilds the full-text index and, with the `semantic` option, re-embeds every raw message,
   * memory and chain into an emptied vector store (after an embedder switch, or for records
   * written before semantic search was on). Returns the full-text count, as without it.
   */
  override async reindex(): Promise<number> {
    const index = this.semantic;
    if (index === null) return super.reindex();
    return this.runWrite('reindex', async () => {
      const count = await this.rebuildSearchIndex();
      await index.reset();
      for (const conversationId of await this.listStoredConversationIds()) {
        const raw = (await this.readRawMessages(conversationId)) ?? [];
        const memories = await this.readMemories(conversationId);
        const refs = [
          ...raw.map((record, messageIndex) => ({
            ref: { kind: 'raw_messages' as const, conversationId, messageIndex },
            record,
          })),
          ...dedupeMemories(memories).map((record) => ({
            ref: { kind: 'memories' as const, conversationId, memoryId: record.memory_id as string },
            record,
          })),
        ];
        await index.upsert((await index.prepare(refs)).upserts);
      }
      for (const agentId of await this.listAgentIds()) {
        const chains = await this.readAllSequencedChains(agentId);
        const refs = chains.map(({ sequence, chain }) => ({
          ref: { kind: 'reasoning_chains' as const, agentId, sequence },
          record: chain,
        }));
        await index.upsert((await index.prepare(refs)).upserts);
      }
      return count;
    });
  }

  // ----- lifecycle -----------------------------------------------------------------------------

  protected override async openAttachments(): Promise<void> {
    await super.openAttachments();
    await this.semantic?.open();
  }

  protected override async closeAttachments(): Promise<void> {
    try {
      await this.semantic?.close();
    } finally {
      await super.closeAttachments();
    }
  }

  // ----- helpers -------------------------------------------------------------------------------

  /** The store's embedder and vector store, or `null` without the `semantic` option. */
  private get semantic(): SemanticIndex | null {
    if (this.semanticIndex === undefined) {
      // Read structurally, as `searchFields` is: the core does not know each backend's config type.
      const { config } = this as { config?: { semantic?: SemanticOptions; logger?: StorageLogger } };
      this.semanticIndex =
        config?.semantic === undefined
          ? null
          : new SemanticIndex(config.semantic, () => this.textExtractor, config.logger);
    }
    return this.semanticIndex;
  }

  private get logger(): StorageLogger | undefined {
    return (this as { config?: { logger?: StorageLogger } }).config?.logger;
  }

  /** Runs a semantic write: refused when read-only or closed, one at a time per owner. */
  private locked<T>(method: string, owner: string, task: (index: SemanticIndex) => Promise<T>): Promise<T> {
    const index = this.semantic!;
    return this.runWrite(method, () => this.ownerLocks.run(owner, () => task(index)));
  }

  /** Runs an undo step; its own failure is logged (the caller rethrows the original error). */
  private async undo(method: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      logEvent(
        this.logger,
        'error',
        `${method}: undoing the record write after a vector-store failure failed`,
        {
          method,
          error: error instanceof Error ? error.message : String(error),
        },
      );
    }
  }

  private async writeMemoriesWithVectors(
    method: string,
    conversationId: string,
    items: ReadonlyArray<{ memoryId: string; data: JsonObject }>,
    write: () => Promise<unknown>,
  ): Promise<void> {
    await this.locked(method, `c/${conversationId}`, async (index) => {
      // The last write of an id wins, so only its text is embedded (ids are distinct per upsert).
      const last = new Map(items.map((item) => [item.memoryId, item.data]));
      const records = [...last].map(([memoryId, data]) => ({
        ref: { kind: 'memories' as const, conversationId, memoryId },
        record: buildMemoryWrite(memoryId, data, '').record,
      }));
      const changes = await index.prepare(records);
      const before = await this.readMemories(conversationId);
      await write();
      await applyChanges(index, changes).catch(async (error: unknown) => {
        await this.undo(method, async () => {
          for (const memoryId of last.keys()) {
            const old = before.find((memory) => memory.memory_id === memoryId);
            if (old === undefined) await this.removeMemory(conversationId, memoryId);
            else await this.upsertMemory(conversationId, { memoryId, record: old, explicitCreatedAt: true });
          }
        });
        throw error;
      });
    });
  }

  private async appendChainsWithVectors(
    method: string,
    agentId: string,
    values: readonly JsonObject[],
    append: () => Promise<unknown>,
  ): Promise<void> {
    await this.locked(method, `a/${agentId}`, async (index) => {
      const vectors = await index.embedRecords(
        values.map((record) => ({ ref: { kind: 'reasoning_chains' }, record })),
      );
      const limited = this.maxReasoningChainsPerAgent !== null;
      const before = limited
        ? await this.readAllSequencedChains(agentId)
        : await this.readSequencedChains(agentId, { after: null, limit: 1 });
      const lastBefore = before.at(-1)?.sequence ?? null;
      await append();
      const after =
        limited || lastBefore === null
          ? await this.readAllSequencedChains(agentId)
          : await this.readSequencedChains(agentId, { after: lastBefore, limit: null });
      // The new chains are the last ones appended (a trim may have dropped the first of them).
      const added = after
        .filter((item) => lastBefore === null || item.sequence > lastBefore)
        .slice(-values.length);
      const changes: VectorChanges = changesOf(
        added.map(({ sequence }) => ({ kind: 'reasoning_chains', agentId, sequence })),
        vectors.slice(values.length - added.length),
      );
      try {
        await applyChanges(index, changes);
      } catch (error) {
        logEvent(this.logger, 'error', `${method}: chains stored without vectors; reindex() embeds them`, {
          method,
          agentId,
          sequences: added.map((item) => item.sequence).join(','),
          error: error instanceof Error ? error.message : String(error),
        });
        throw error;
      }
      const kept = new Set(after.map((item) => item.sequence));
      const trimmed = limited ? before.filter((item) => !kept.has(item.sequence)) : [];
      await index.removeStale(chainIds(agentId, trimmed), method);
    });
  }

  /** Every chain of an agent, numbered. */
  private readAllSequencedChains(agentId: string): Promise<SequencedChain[]> {
    return this.readSequencedChains(agentId, { after: null, limit: null });
  }

  private textList(query: NormalizedSearchQuery, limit: number): Promise<SearchHit[]> | SearchHit[] {
    if (query.terms.length === 0) return [];
    const deep = { ...query, limit };
    return this.searchIndex(deep).then((candidates) => rankCandidates(candidates, deep, this.textExtractor));
  }

  private vectorList(index: SemanticIndex, query: NormalizedSearchQuery, k: number): Promise<SearchHit[]> {
    const reader: RecordReader = {
      readRawMessages: (id) => this.readRawMessages(id),
      readMemories: (id) => this.readMemories(id),
      readAllSequencedChains: (id) => this.readAllSequencedChains(id),
    };
    return vectorHits(index, reader, this.textExtractor, query, k);
  }
}

/** Removes the vectors of records that lost their text, then upserts the rest (the commit point). */
async function applyChanges(index: SemanticIndex, changes: VectorChanges): Promise<void> {
  await index.remove(changes.emptyIds);
  await index.upsert(changes.upserts);
}

function chainIds(agentId: string, chains: readonly SequencedChain[]): string[] {
  return chains.map(({ sequence }) => vectorIdOf({ kind: 'reasoning_chains', agentId, sequence }));
}

/** Memories with a string id, each id once (the first one, as a search resolves ids). */
function dedupeMemories(memories: readonly JsonObject[]): JsonObject[] {
  const byId = new Map<string, JsonObject>();
  for (const memory of memories)
    if (typeof memory.memory_id === 'string' && !byId.has(memory.memory_id))
      byId.set(memory.memory_id, memory);
  return [...byId.values()];
}
