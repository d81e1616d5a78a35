/**
 * One owner's part of `reindex()`: a conversation's raw messages and memories, or an agent's
 * chains, read, embedded and upserted under that owner's write lock, and (with a sweep) the
 * other vectors of its scope removed.
 */
import type { JsonObject, JsonValue } from '../json.js';
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

/** Memories left out because the vector stores refuse their vector ids. */
export type SkippedMemories = Array<{ conversationId: string; memoryId: string }>;

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

/**
 * Re-embeds a conversation's raw messages and memories under its lock; with `sweep`, removes the
 * other vectors of its scope. Memories whose vector id is refused go to `skipped`. Returns the
 * vectors upserted.
 */
export function reembedConversation(
  index: SemanticIndex,
  access: ReembedAccess,
  conversationId: string,
  sweep: boolean,
  skipped: SkippedMemories,
): Promise<number> {
  return access.exclusive(`c/${conversationId}`, async () => {
    const raw = (await access.readRawMessages(conversationId)) ?? [];
    const memories = firstOfEachId(await access.readMemories(conversationId));
    const records: RecordToEmbed[] = raw.map((record, messageIndex) => ({
      ref: { kind: 'raw_messages' as const, conversationId, messageIndex },
      record,
    }));
    for (const record of memories) {
      const ref = { kind: 'memories' as const, conversationId, memoryId: record.memory_id as string };
      if (hasVectorId(ref)) records.push({ ref, record });
      else skipped.push({ conversationId, memoryId: ref.memoryId });
    }
    const scope = { conversationId, kinds: ['raw_messages', 'memories'] };
    return reembedOwner(index, records, sweep ? scope : null);
  });
}

/** Re-embeds an agent's chains under its lock; with `sweep`, removes the other vectors of its scope. */
export function reembedAgent(
  index: SemanticIndex,
  access: ReembedAccess,
  agentId: string,
  sweep: boolean,
): Promise<number> {
  return access.exclusive(`a/${agentId}`, async () => {
    const chains = await access.readAllSequencedChains(agentId);
    const records: RecordToEmbed[] = chains.map(({ sequence, chain }) => ({
      ref: { kind: 'reasoning_chains' as const, agentId, sequence },
      record: chain,
    }));
    return reembedOwner(index, records, sweep ? { agentId, kinds: ['reasoning_chains'] } : null);
  });
}

/**
 * A query vector every stored vector is some distance from: a query with it and the stores'
 * largest `k` lists every vector of a scope holding fewer.
 */
export function probeOf(index: SemanticIndex): Float32Array {
  const probe = new Float32Array(index.signature.dimensions);
  probe[0] = 1;
  return probe;
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
    const fresh = new Set(upserts.map((item) => item.id));
    const found = await index.query(probeOf(index), MAX_QUERY_K, scope);
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
