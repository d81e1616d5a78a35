/**
 * The vector steps of the semantic layer's writes, in the order that keeps the main store and
 * the vector store in step: embed before any write (an embedder failure writes nothing),
 * upsert after it, undo the record write from a snapshot read before it when the upsert fails.
 * Reasoning chains are the exception: the primitives cannot remove a chain just appended, so
 * they stay without vectors (rethrown, logged with their sequence numbers; `reindex()` embeds
 * them). Vectors of records that are gone are removed after the write committed; a failure
 * there is logged, harmless (search resolves ids to live records) and cleared by `reindex()`.
 * The store's primitives come in as functions, so these steps know no backend.
 */
import type { JsonObject, JsonValue } from '../json.js';
import { logEvent, type StorageLogger } from '../logger.js';
import type { MemoryWrite } from '../records.js';
import { buildMemoryWrite } from '../records.js';
import type { SequencedChain, SequencedChainRead } from '../storage-retention.js';
import { changesOf, type SemanticIndex, type VectorChanges } from './semantic-index.js';
import { vectorIdOf } from './vector-ids.js';
import { quoteName } from '../shown-text.js';

/** Where a write step runs: the public method (for messages) and the store's logger. */
export interface StepContext {
  index: SemanticIndex;
  method: string;
  logger: StorageLogger | undefined;
}

/**
 * Upserts the new vectors (the commit point), then removes those of records that lost their
 * text. In this order a failed upsert has changed nothing (the caller undoes the record write
 * and the old vectors still match it), and a failed removal only leaves vectors of text-less
 * records, which search drops; it is logged, not thrown.
 */
export async function applyChanges(ctx: StepContext, changes: VectorChanges): Promise<void> {
  await ctx.index.upsert(changes.upserts);
  await ctx.index.removeStale(changes.emptyIds, ctx.method);
}

/** Runs an undo step; its own failure is logged (the caller rethrows the original error). */
async function undo(ctx: StepContext, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    logEvent(
      ctx.logger,
      'error',
      `${ctx.method}: undoing the record write after a vector-store failure failed`,
      {
        method: ctx.method,
        error: error instanceof Error ? error.message : String(error),
      },
    );
  }
}

/** Vector ids of an agent's numbered chains. */
export function chainIds(agentId: string, chains: readonly SequencedChain[]): string[] {
  return chains.map(({ sequence }) => vectorIdOf({ kind: 'reasoning_chains', agentId, sequence }));
}

/** Vector ids of a conversation's raw messages and memories (before a conversation delete). */
export function conversationVectorIds(
  conversationId: string,
  raw: readonly JsonValue[],
  memories: readonly JsonObject[],
): string[] {
  const ids = raw.map((_, messageIndex) =>
    vectorIdOf({ kind: 'raw_messages', conversationId, messageIndex }),
  );
  for (const memory of memories) {
    if (typeof memory.memory_id === 'string')
      ids.push(vectorIdOf({ kind: 'memories', conversationId, memoryId: memory.memory_id }));
  }
  return [...new Set(ids)];
}

/** The memory primitives a memory write needs. */
export interface MemoryAccess {
  readMemories(conversationId: string): Promise<JsonObject[]>;
  upsertMemory(conversationId: string, write: MemoryWrite): Promise<void>;
  removeMemory(conversationId: string, memoryId: string): Promise<void>;
}

/** Embeds memories, runs `write`, upserts their vectors; undoes `write` if the upsert fails. */
export async function writeMemories(
  ctx: StepContext,
  conversationId: string,
  items: ReadonlyArray<{ memoryId: string; data: JsonObject }>,
  access: MemoryAccess,
  write: () => Promise<unknown>,
): Promise<void> {
  // The last write of an id wins, so only its text is embedded (ids are distinct per upsert).
  const last = new Map(items.map((item) => [item.memoryId, item.data]));
  const changes = await ctx.index.prepare(
    [...last].map(([memoryId, data]) => ({
      ref: { kind: 'memories' as const, conversationId, memoryId },
      record: buildMemoryWrite(memoryId, data, '').record,
    })),
  );
  const before = await access.readMemories(conversationId);
  await write();
  await applyChanges(ctx, changes).catch(async (error: unknown) => {
    await undo(ctx, async () => {
      for (const memoryId of last.keys()) {
        const old = before.find((memory) => memory.memory_id === memoryId);
        if (old === undefined) await access.removeMemory(conversationId, memoryId);
        else await access.upsertMemory(conversationId, { memoryId, record: old, explicitCreatedAt: true });
      }
    });
    throw error;
  });
}

/** The raw-message primitives a raw-message write needs. */
export interface RawMessageAccess {
  readRawMessages(conversationId: string): Promise<JsonValue[] | null>;
  writeRawMessages(conversationId: string, messages: JsonValue[]): Promise<void>;
}

/** Positions of `messages` whose JSON text is not the one `stored` holds there, `skip` left out. */
function changedPositions(
  messages: readonly JsonValue[],
  stored: readonly JsonValue[] | null,
  skip: ReadonlySet<number> = new Set(),
): number[] {
  return messages.flatMap((record, position) => {
    const old = stored?.[position];
    const same = old !== undefined && JSON.stringify(old) === JSON.stringify(record);
    return same || skip.has(position) ? [] : [position];
  });
}

/**
 * Embeds a raw-message list, runs `write` (the replace) and keeps the vectors in step with it.
 * Only messages that changed are embedded: one whose JSON text is the one stored at its position
 * keeps its vector (its id is the position), so an agent that stores its whole list after every
 * turn embeds the new messages, not the list. The list is read again after embedding (the
 * version a failed vector write restores), and what another writer changed meanwhile is
 * embedded too.
 */
export async function writeRawMessages(
  ctx: StepContext,
  conversationId: string,
  messages: readonly JsonValue[],
  access: RawMessageAccess,
  write: () => Promise<unknown>,
): Promise<void> {
  const { index, method } = ctx;
  const embed = (positions: readonly number[]): Promise<VectorChanges> =>
    index.prepare(
      positions.map((messageIndex) => ({
        ref: { kind: 'raw_messages' as const, conversationId, messageIndex },
        record: messages[messageIndex] as JsonValue,
      })),
    );
  const seen = changedPositions(messages, await access.readRawMessages(conversationId));
  const changes = await embed(seen);
  const before = await access.readRawMessages(conversationId);
  const late = changedPositions(messages, before, new Set(seen));
  if (late.length > 0) {
    const more = await embed(late);
    // A loop, not `push(...list)`: a spread of some 100,000 items overflows the stack, and a
    // replace of that many messages may all change meanwhile.
    for (const upsert of more.upserts) changes.upserts.push(upsert);
    for (const id of more.emptyIds) changes.emptyIds.push(id);
  }
  if (before === null) {
    // Nothing to restore: vectors first, so a failed write is undone by removing them.
    await applyChanges(ctx, changes);
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
  await applyChanges(ctx, changes).catch(async (error: unknown) => {
    await undo(ctx, () => access.writeRawMessages(conversationId, before));
    throw error;
  });
  const stale = before
    .slice(messages.length)
    .map((_, i) => vectorIdOf({ kind: 'raw_messages', conversationId, messageIndex: messages.length + i }));
  await index.removeStale(stale, method);
}

/** The chain reads a chain append needs. */
export interface ChainAccess {
  readSequencedChains(agentId: string, read: SequencedChainRead): Promise<SequencedChain[]>;
  /** Whether appends trim (`maxReasoningChainsPerAgent` is set). */
  limited: boolean;
}

/**
 * Embeds chains, runs `append`, finds the sequence numbers the new chains got and upserts
 * their vectors; removes the vectors of chains the append's retention trimmed. An append
 * cannot be undone, so an upsert failure leaves the chains without vectors (logged).
 */
export async function appendChains(
  ctx: StepContext,
  agentId: string,
  values: readonly JsonObject[],
  access: ChainAccess,
  append: () => Promise<unknown>,
): Promise<void> {
  const { index, method } = ctx;
  // Not numbered yet: a chain is named by its place in the call.
  const vectors = await index.embedRecords(
    values.map((record) => ({ ref: { kind: 'reasoning_chains' }, record })),
    (at) => `reasoning chain ${at + 1} of ${values.length} for agent ${quoteName(agentId)}`,
  );
  const all = { after: null, limit: null };
  const before = await access.readSequencedChains(agentId, access.limited ? all : { after: null, limit: 1 });
  const lastBefore = before.at(-1)?.sequence ?? null;
  await append();
  const after = await access.readSequencedChains(
    agentId,
    access.limited || lastBefore === null ? all : { after: lastBefore, limit: null },
  );
  // The new chains are the last ones appended (a trim may have dropped the first of them).
  const added = after
    .filter((item) => lastBefore === null || item.sequence > lastBefore)
    .slice(-values.length);
  const changes = changesOf(
    added.map(({ sequence }) => ({ kind: 'reasoning_chains', agentId, sequence })),
    vectors.slice(values.length - added.length),
  );
  try {
    await applyChanges(ctx, changes);
  } catch (error) {
    logEvent(ctx.logger, 'error', `${method}: chains stored without vectors; reindex() embeds them`, {
      method,
      agentId,
      sequences: added.map((item) => item.sequence).join(','),
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
  const kept = new Set(after.map((item) => item.sequence));
  const trimmed = access.limited ? before.filter((item) => !kept.has(item.sequence)) : [];
  await index.removeStale(chainIds(agentId, trimmed), method);
}
