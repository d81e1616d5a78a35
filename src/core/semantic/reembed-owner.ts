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
  /** Stops the pass between two owners (or two pages of ids) once it fires. */
  signal?: AbortSignal | undefined;
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

/** An owner of vectors: a conversation (raw messages and memories) or an agent (chains). */
export type VectorOwner = { conversationId: string } | { agentId: string };

/** The write lock of `owner`, as the semantic writes take it. */
export function lockOf(owner: VectorOwner): string {
  return 'agentId' in owner ? `a/${owner.agentId}` : `c/${owner.conversationId}`;
}

/** What re-embedding one owner did. */
export interface Reembedded {
  /** Vectors upserted. */
  upserted: number;
  /** False when the sweep's query listed as many vectors as a query returns: some may remain. */
  swept: boolean;
}

/**
 * A conversation's raw messages and memories as records to embed (read under its lock by the
 * caller). Memories whose vector id is refused go to `skipped`.
 */
async function conversationRecords(
  access: ReembedAccess,
  conversationId: string,
  skipped: SkippedMemories,
): Promise<RecordToEmbed[]> {
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
  return records;
}

/** An agent's chains as records to embed (read under its lock by the caller). */
async function agentRecords(access: ReembedAccess, agentId: string): Promise<RecordToEmbed[]> {
  const chains = await access.readAllSequencedChains(agentId);
  return chains.map(({ sequence, chain }) => ({
    ref: { kind: 'reasoning_chains' as const, agentId, sequence },
    record: chain,
  }));
}

/**
 * Re-embeds a conversation's raw messages and memories under its lock; with `sweep`, removes the
 * other vectors of its scope. Memories whose vector id is refused go to `skipped`.
 */
export function reembedConversation(
  index: SemanticIndex,
  access: ReembedAccess,
  conversationId: string,
  sweep: boolean,
  skipped: SkippedMemories,
): Promise<Reembedded> {
  return access.exclusive(`c/${conversationId}`, async () => {
    const records = await conversationRecords(access, conversationId, skipped);
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
): Promise<Reembedded> {
  return access.exclusive(`a/${agentId}`, async () => {
    const records = await agentRecords(access, agentId);
    return reembedOwner(index, records, sweep ? { agentId, kinds: ['reasoning_chains'] } : null);
  });
}

/**
 * Settles vectors `found` of `owner` (listed from the vector store) under its lock: those of no
 * record it holds now are removed. With `reembed`, its records are embedded and upserted first
 * (an owner `reindex()`'s pass did not list); without, only read (the pass re-embedded them).
 */
export function settleOwner(
  index: SemanticIndex,
  access: ReembedAccess,
  owner: VectorOwner,
  found: readonly string[],
  reembed: boolean,
): Promise<void> {
  return access.exclusive(lockOf(owner), async () => {
    const records =
      'agentId' in owner
        ? await agentRecords(access, owner.agentId)
        : await conversationRecords(access, owner.conversationId, []);
    let live: readonly string[];
    if (reembed) {
      const { upserts } = await index.prepare(records);
      await index.upsert(upserts);
      live = upserts.map((item) => item.id);
    } else {
      live = index.vectorIdsOf(records);
    }
    const keep = new Set(live);
    await index.remove(found.filter((id) => !keep.has(id)));
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

/** Embeds and upserts one owner's records; removes the other vectors in `scope` (those one query lists). */
async function reembedOwner(
  index: SemanticIndex,
  records: readonly RecordToEmbed[],
  scope: VectorFilter | null,
): Promise<Reembedded> {
  const { upserts } = await index.prepare(records);
  await index.upsert(upserts);
  if (scope === null) return { upserted: upserts.length, swept: true };
  const fresh = new Set(upserts.map((item) => item.id));
  const found = await index.query(probeOf(index), MAX_QUERY_K, scope);
  await index.remove(found.map((match) => match.id).filter((id) => !fresh.has(id)));
  return { upserted: upserts.length, swept: found.length < MAX_QUERY_K };
}

/** Memories with a string id, each id once (the first one, as a search resolves ids). */
function firstOfEachId(memories: readonly JsonObject[]): JsonObject[] {
  const byId = new Map<string, JsonObject>();
  for (const memory of memories)
    if (typeof memory.memory_id === 'string' && !byId.has(memory.memory_id))
      byId.set(memory.memory_id, memory);
  return [...byId.values()];
}
