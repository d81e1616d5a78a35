/**
 * `reindex()`'s vector part: every raw message, memory and chain embedded again, one owner
 * (conversation or agent) at a time under that owner's write lock. The index is never emptied
 * first: vectors are upserted over the old ones and each owner's leftovers removed, so a
 * failure part-way (a transient embedder error) leaves a working index. Only when vectors
 * remain that no owner still stored holds is the index emptied and filled again.
 */
import { validateId } from '../ids.js';
import type { JsonObject, JsonValue } from '../json.js';
import { logEvent, type StorageLogger } from '../logger.js';
import { sortedByCodePoint } from '../order.js';
import type { SequencedChain } from '../storage-retention.js';
import { MAX_QUERY_K, type VectorFilter } from '../../semantic/vector-stores/types.js';
import { validateVectorId } from '../../semantic/vector-stores/validation.js';
import type { RecordToEmbed, SemanticIndex } from './semantic-index.js';
import { vectorIdOf, type VectorRef } from './vector-ids.js';

/** The reads `reindex()` re-embeds a store with. */
export interface ReembedAccess {
  listStoredConversationIds(): Promise<string[]>;
  listAgentIds(): Promise<string[]>;
  readRawMessages(conversationId: string): Promise<JsonValue[] | null>;
  readMemories(conversationId: string): Promise<JsonObject[]>;
  readAllSequencedChains(agentId: string): Promise<SequencedChain[]>;
  /**
   * Runs `task` holding the write lock of `owner` (`c/<conversationId>` or `a/<agentId>`, as the
   * semantic writes take it), so no write of that owner lands between the read and the upsert.
   */
  exclusive<T>(owner: string, task: () => Promise<T>): Promise<T>;
}

/**
 * Embeds every record again. Upserts over the existing vectors and removes each owner's
 * leftovers (vectors of its records that are gone). If vectors of owners that are gone remain
 * after that (their removal failed at a delete), the index is emptied and filled again; a
 * failure during that refill leaves the index partial: it is logged (`error`) and the error
 * says so (running `reindex()` again completes it).
 */
export async function reembedAll(
  index: SemanticIndex,
  access: ReembedAccess,
  logger: StorageLogger | undefined,
): Promise<void> {
  const skipped: SkippedOwners = { conversationIds: [], agentIds: [], memories: [] };
  const live = await embedEveryOwner(index, access, true, skipped);
  if (skipped.conversationIds.length + skipped.agentIds.length > 0) {
    logEvent(
      logger,
      'warn',
      'reindex() skipped the conversations and agents whose ids the id rule refuses (written by another ' +
        'program; the vector stores take only such ids as scopes): their records have no vectors',
      // The first few of each (a store could hold many), and how many there were.
      {
        method: 'reindex',
        conversationIds: skipped.conversationIds.slice(0, 20),
        conversationCount: skipped.conversationIds.length,
        agentIds: skipped.agentIds.slice(0, 20),
        agentCount: skipped.agentIds.length,
      },
    );
  }
  if (skipped.memories.length > 0) {
    logEvent(
      logger,
      'warn',
      'reindex() skipped the memories whose vector ids the vector stores refuse (a memory id longer than ' +
        'the id rule allows, written by another program): they have no vectors, full-text search finds them',
      {
        method: 'reindex',
        // The first few (ids cut to 100 characters: such an id may be very long), and how many.
        memories: skipped.memories.slice(0, 20).map(({ conversationId, memoryId }) => ({
          conversationId,
          memoryId: memoryId.length > 100 ? `${memoryId.slice(0, 100)}…` : memoryId,
        })),
        memoryCount: skipped.memories.length,
      },
    );
  }
  // More vectors than the owners hold: some belong to owners that are gone (or to an owner with
  // more than one query returns). A write landing meanwhile may also add some: that only costs
  // a refill.
  if ((await index.count()) <= live) return;
  await index.reset();
  try {
    await embedEveryOwner(index, access, false, { conversationIds: [], agentIds: [], memories: [] });
  } catch (error) {
    const note =
      'reindex() emptied the vector index to refill it and failed: the index is partial; run reindex() again to complete it';
    logEvent(logger, 'error', note, {
      method: 'reindex',
      error: error instanceof Error ? error.message : String(error),
    });
    if (error instanceof Error) error.message = `${error.message} (${note})`;
    throw error;
  }
}

/**
 * What {@link embedEveryOwner} left out: owners whose ids the id rule refuses, and memories whose
 * vector id the vector stores refuse.
 */
interface SkippedOwners {
  conversationIds: string[];
  agentIds: string[];
  memories: Array<{ conversationId: string; memoryId: string }>;
}

/**
 * True when the vector stores take the vector id of `ref`. Every id the id rule allows gives one
 * (at most 511 bytes); a memory id longer than it allows (a store the Python reference wrote may
 * hold one) can give one past the 512-byte limit, which failed the whole `reindex()`.
 */
function hasVectorId(ref: VectorRef): boolean {
  try {
    validateVectorId('id', vectorIdOf(ref));
    return true;
  } catch {
    return false;
  }
}

/** The ids of `ids` the id rule accepts, sorted; the others are added to `skipped`. */
function indexable(field: 'conversationId' | 'agentId', ids: readonly string[], skipped: string[]): string[] {
  return sortedByCodePoint(ids).filter((id) => {
    try {
      validateId(field, id);
      return true;
    } catch {
      skipped.push(id);
      return false;
    }
  });
}

/**
 * Re-embeds every owner; with `sweep`, removes each owner's leftover vectors. Returns the vectors
 * upserted. An owner whose id the id rule refuses (a store the Python reference wrote may hold a
 * conversation `team/alpha`) is left out and noted in `skipped`: the vector stores refuse such a
 * scope, and the first one failed the whole reindex.
 */
async function embedEveryOwner(
  index: SemanticIndex,
  access: ReembedAccess,
  sweep: boolean,
  skipped: SkippedOwners,
): Promise<number> {
  let upserted = 0;
  const conversationIds = await access.listStoredConversationIds();
  // A registered backend's listing may repeat an id: each is embedded once.
  for (const conversationId of indexable('conversationId', conversationIds, skipped.conversationIds)) {
    upserted += await access.exclusive(`c/${conversationId}`, async () => {
      const raw = (await access.readRawMessages(conversationId)) ?? [];
      const memories = firstOfEachId(await access.readMemories(conversationId));
      const records: RecordToEmbed[] = [
        ...raw.map((record, messageIndex) => ({
          ref: { kind: 'raw_messages' as const, conversationId, messageIndex },
          record,
        })),
      ];
      for (const record of memories) {
        const ref = { kind: 'memories' as const, conversationId, memoryId: record.memory_id as string };
        if (hasVectorId(ref)) records.push({ ref, record });
        else skipped.memories.push({ conversationId, memoryId: ref.memoryId });
      }
      const scope = { conversationId, kinds: ['raw_messages', 'memories'] };
      return reembedOwner(index, records, sweep ? scope : null);
    });
  }
  for (const agentId of indexable('agentId', await access.listAgentIds(), skipped.agentIds)) {
    upserted += await access.exclusive(`a/${agentId}`, async () => {
      const chains = await access.readAllSequencedChains(agentId);
      const records: RecordToEmbed[] = chains.map(({ sequence, chain }) => ({
        ref: { kind: 'reasoning_chains' as const, agentId, sequence },
        record: chain,
      }));
      return reembedOwner(index, records, sweep ? { agentId, kinds: ['reasoning_chains'] } : null);
    });
  }
  return upserted;
}

/** Embeds and upserts one owner's records; removes the other vectors in `scope`. Returns the count upserted. */
async function reembedOwner(
  index: SemanticIndex,
  records: readonly RecordToEmbed[],
  scope: VectorFilter | null,
): Promise<number> {
  const { upserts } = await index.prepare(records);
  await index.upsert(upserts);
  if (scope !== null) {
    // Every vector in the scope (up to a query's limit), nearest to any vector: all are listed.
    const probe = new Float32Array(index.signature.dimensions);
    probe[0] = 1;
    const fresh = new Set(upserts.map((item) => item.id));
    const found = await index.query(probe, MAX_QUERY_K, scope);
    await index.remove(found.map((match) => match.id).filter((id) => !fresh.has(id)));
  }
  return upserts.length;
}

/** Memories with a string id, each id once (the first one, as a search resolves ids). */
function firstOfEachId(memories: readonly JsonObject[]): JsonObject[] {
  const byId = new Map<string, JsonObject>();
  for (const memory of memories)
    if (typeof memory.memory_id === 'string' && !byId.has(memory.memory_id))
      byId.set(memory.memory_id, memory);
  return [...byId.values()];
}
