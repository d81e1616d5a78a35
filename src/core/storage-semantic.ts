/**
 * Semantic search wired into the writes. With the `semantic` option (`{ embedder, vectorStore }`)
 * every write of a memory, reasoning chain or raw-message list embeds the record's text and
 * upserts its vector, and every delete, replace or trim removes the old vectors; `search()` and
 * `reindex()` are the layer below's (`storage-semantic-search.ts`). Without it this layer
 * passes every call through.
 *
 * Order of a write: validate, embed (an embedder failure rejects with nothing written), write
 * the record, upsert its vectors; a failed upsert undoes the record write (chains excepted:
 * an append cannot be taken back). The steps and their guarantees: `semantic/write-steps.ts`.
 * Writes of one conversation or agent are serialised in this process.
 */
import { atItem, checkBatch, itemFields, MEMORY_ITEM_FIELDS, type MemoryBatchItem } from './batches.js';
import type { RecordName } from './batch-text.js';
import { CorruptDataError } from './errors.js';
import { refuseUnknownFields, validateId } from './ids.js';
import { type JsonObject, type JsonValue, toJsonArray, toJsonObject } from './json.js';
import { batchName, checkFor, recordName, recordText } from './record-names.js';
import { vectorIdOf } from './semantic/vector-ids.js';
import { agentChainIds, conversationListedIds } from './semantic/owner-vector-ids.js';
import {
  appendChains,
  type ChainAccess,
  chainIds,
  conversationVectorIds,
  type MemoryAccess,
  type RawMessageAccess,
  type StepContext,
  writeMemories,
  writeRawMessages,
} from './semantic/write-steps.js';
import { validateKeepLast } from './storage-retention.js';
import { SemanticSearchStorage } from './storage-semantic-search.js';

/** Semantic search wired into the writes. Extend `StorageInterface`, not this. */
export abstract class SemanticStorage extends SemanticSearchStorage {
  // ----- writes ----------------------------------------------------------------------------

  override async storeMemory(
    conversationId: string,
    memoryId: string,
    memoryData: JsonObject,
  ): Promise<boolean> {
    if (this.semantic === null) return super.storeMemory(conversationId, memoryId, memoryData);
    validateId('conversationId', conversationId);
    validateId('memoryId', memoryId);
    const value = toJsonObject(memoryData, recordText.memoryById(memoryId));
    const name = recordName('memoryData', recordText.memory, conversationId, memoryId);
    await this.locked('storeMemory', `c/${conversationId}`, name, (ctx) =>
      writeMemories(ctx, conversationId, [{ memoryId, data: value }], this.memoryAccess, () =>
        super.storeMemory(conversationId, memoryId, value),
      ),
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
        const { memoryId, data } = itemFields(item, MEMORY_ITEM_FIELDS);
        validateId('memoryId', memoryId);
        const what = recordText.memoryById(memoryId);
        refuseUnknownFields(item, MEMORY_ITEM_FIELDS, what);
        return { memoryId, data: toJsonObject(data, what) };
      }),
    );
    if (items.length === 0) return super.storeMemories(conversationId, items);
    const first = items[0]?.memoryId ?? '';
    const name = batchName('memories', items.length, recordText.memory, conversationId, first);
    await this.locked(method, `c/${conversationId}`, name, (ctx) =>
      writeMemories(ctx, conversationId, items, this.memoryAccess, () =>
        super.storeMemories(conversationId, items),
      ),
    );
    return items.length;
  }

  override async storeRawMessages(conversationId: string, messages: JsonValue[]): Promise<boolean> {
    if (this.semantic === null) return super.storeRawMessages(conversationId, messages);
    const method = 'storeRawMessages';
    validateId('conversationId', conversationId);
    const value = toJsonArray(messages, recordText.rawMessages(conversationId));
    const access: RawMessageAccess = {
      readRawMessages: (id) => this.readRawMessages(id),
      writeRawMessages: (id, list) => this.writeRawMessages(id, list),
    };
    const name = recordName('messages', recordText.rawMessages, conversationId);
    await this.locked(method, `c/${conversationId}`, name, (ctx) =>
      writeRawMessages(ctx, conversationId, value, access, () =>
        super.storeRawMessages(conversationId, value),
      ),
    );
    return true;
  }

  override async storeReasoningChain(agentId: string, chainData: JsonObject): Promise<boolean> {
    if (this.semantic === null) return super.storeReasoningChain(agentId, chainData);
    validateId('agentId', agentId);
    const value = toJsonObject(chainData, recordText.reasoningChain(agentId));
    const name = recordName('chainData', recordText.reasoningChain, agentId);
    await this.locked('storeReasoningChain', `a/${agentId}`, name, (ctx) =>
      appendChains(ctx, agentId, [value], this.chainAccess, () => super.storeReasoningChain(agentId, value)),
    );
    return true;
  }

  override async appendReasoningChains(agentId: string, chains: readonly JsonObject[]): Promise<number> {
    if (this.semantic === null) return super.appendReasoningChains(agentId, chains);
    const method = 'appendReasoningChains';
    validateId('agentId', agentId);
    const values = checkBatch<unknown>(method, 'chains', chains).map((chain, index) =>
      atItem(method, index, () => toJsonObject(chain, recordText.reasoningChain(agentId))),
    );
    if (values.length === 0) return super.appendReasoningChains(agentId, values);
    const name = batchName('chains', values.length, recordText.chainOfAgent, agentId);
    await this.locked(method, `a/${agentId}`, name, (ctx) =>
      appendChains(ctx, agentId, values, this.chainAccess, () =>
        super.appendReasoningChains(agentId, values),
      ),
    );
    return values.length;
  }

  // ----- deletes and trims -------------------------------------------------------------------

  override async deleteMemory(conversationId: string, memoryId: string): Promise<boolean> {
    if (this.semantic === null) return super.deleteMemory(conversationId, memoryId);
    validateId('conversationId', conversationId);
    validateId('memoryId', memoryId);
    await this.locked('deleteMemory', `c/${conversationId}`, undefined, async ({ index }) => {
      await super.deleteMemory(conversationId, memoryId);
      await index.removeStale([vectorIdOf({ kind: 'memories', conversationId, memoryId })], 'deleteMemory');
    });
    return true;
  }

  override async deleteMemories(conversationId: string, memoryIds: readonly string[]): Promise<number> {
    if (this.semantic === null) return super.deleteMemories(conversationId, memoryIds);
    const ids = this.checkMemoryIds('deleteMemories', conversationId, memoryIds);
    if (ids.length === 0) return super.deleteMemories(conversationId, ids);
    await this.locked('deleteMemories', `c/${conversationId}`, undefined, async ({ index }) => {
      await super.deleteMemories(conversationId, ids);
      const vectors = [...new Set(ids)].map((memoryId) =>
        vectorIdOf({ kind: 'memories', conversationId, memoryId }),
      );
      await index.removeStale(vectors, 'deleteMemories');
    });
    return ids.length;
  }

  override async deleteConversation(conversationId: string): Promise<boolean> {
    if (this.semantic === null) return super.deleteConversation(conversationId);
    validateId('conversationId', conversationId);
    await this.locked('deleteConversation', `c/${conversationId}`, undefined, async ({ index }) => {
      // Records that do not parse are deleted all the same; their vectors are then found by
      // their ids' prefixes (see deleteReasoningChains).
      const before = await this.readConversationVectors(conversationId);
      await super.deleteConversation(conversationId);
      const stale = before ?? (() => conversationListedIds(index, conversationId));
      await index.removeStale(stale, 'deleteConversation');
    });
    return true;
  }

  override async deleteReasoningChains(agentId: string): Promise<boolean> {
    if (this.semantic === null) return super.deleteReasoningChains(agentId);
    validateId('agentId', agentId);
    await this.locked('deleteReasoningChains', `a/${agentId}`, undefined, async ({ index }) => {
      // Chains that do not parse are deleted all the same where the backend can (the file
      // backend); their vectors are then found by their ids' prefix.
      const before = await this.readAllSequencedChains(agentId).catch((error: unknown) => {
        if (error instanceof CorruptDataError) return null;
        throw error;
      });
      await super.deleteReasoningChains(agentId);
      // The delete landed: a listing that fails leaves them (logged), as a failed removal would.
      const stale = before === null ? () => agentChainIds(index, agentId) : chainIds(agentId, before);
      await index.removeStale(stale, 'deleteReasoningChains');
    });
    return true;
  }

  override async trimReasoningChains(agentId: string, keepLast: number): Promise<number> {
    if (this.semantic === null) return super.trimReasoningChains(agentId, keepLast);
    validateId('agentId', agentId);
    const keep = checkFor(recordText.reasoningChains(agentId), () => validateKeepLast(keepLast));
    return this.locked('trimReasoningChains', `a/${agentId}`, undefined, async ({ index }) => {
      const before = await this.readAllSequencedChains(agentId);
      const removed = await super.trimReasoningChains(agentId, keep);
      const kept = new Set((await this.readAllSequencedChains(agentId)).map((item) => item.sequence));
      const gone = before.filter((item) => !kept.has(item.sequence));
      await index.removeStale(chainIds(agentId, gone), 'trimReasoningChains');
      return removed;
    });
  }

  // ----- helpers -------------------------------------------------------------------------------

  /** The vector ids of a conversation's records as read, `null` when one does not parse. */
  private async readConversationVectors(conversationId: string): Promise<string[] | null> {
    try {
      const raw = (await this.readRawMessages(conversationId)) ?? [];
      return conversationVectorIds(conversationId, raw, await this.readMemories(conversationId));
    } catch (error) {
      if (error instanceof CorruptDataError) return null;
      throw error;
    }
  }

  /**
   * Runs a semantic write: refused when read-only or closed, one at a time per owner. `record`
   * names what a store writes, as the storage path names it: its text (extracted and joined
   * whole before it is cut to `maxInputChars`, or a raw message's JSON compared with the
   * stored one) is built before the write and overflows a string just as the write's JSON would.
   */
  private locked<T>(
    method: string,
    owner: string,
    record: (() => RecordName) | undefined,
    task: (ctx: StepContext) => Promise<T>,
  ): Promise<T> {
    const ctx: StepContext = { index: this.semantic!, method, logger: this.logger };
    // The task writes through the plain write path (`super.storeMemory`, ...): `runSteps` lets
    // those writes through while a shutdown() called after this call was accepted waits for it.
    return this.runWrite(
      method,
      () => this.runSteps(() => this.ownerLocks.run(owner, () => task(ctx))),
      record,
    );
  }

  private get memoryAccess(): MemoryAccess {
    return {
      readMemories: (id) => this.readMemories(id),
      upsertMemory: (id, write) => this.upsertMemory(id, write),
      removeMemory: (id, memoryId) => this.removeMemory(id, memoryId),
    };
  }

  private get chainAccess(): ChainAccess {
    return {
      readSequencedChains: (id, read) => this.readSequencedChains(id, read),
      limited: this.maxReasoningChainsPerAgent !== null,
    };
  }
}
