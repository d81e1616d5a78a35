/**
 * Copying one unit at a time (a conversation id, an agent, a cache key, a state key) from a
 * source to a target through the public API. Every write is idempotent, so a copy that was
 * interrupted can simply run again: objects and lists are replaced, memories are upserted
 * by id (a conversation whose memories the target holds in another order is rewritten, see
 * `memories.ts`), and an agent's chains are appended only beyond what the target already holds.
 * When the target was not empty (a resumed run, a merge), records it already holds
 * unchanged are skipped rather than written again.
 */
import { MAX_BATCH_ITEMS, type MemoryBatchItem } from '../core/batches.js';
import { canonicalJson, type JsonValue } from '../core/json.js';
import { type CacheRecord, cacheExpiryMs } from '../core/records.js';
import type { StorageInterface } from '../core/storage-interface.js';
import type { SequencedChain } from '../core/storage-retention.js';
import { canonicalTimestamp, MAX_TIMESTAMP_MS } from '../core/time.js';
import type { BoundedList } from './bounded.js';
import { isCanonicalPrefix } from './compare.js';
import { throwIfAborted } from './errors.js';
import { type ConversationParts, planMemories } from './memories.js';
import { inGroups, settleAll } from './pool.js';
import { withoutReservedFields } from './reserved.js';
import { exceedsMaxJsonDepth } from '../core/json-depth.js';
import { TOO_DEEP, withoutTooDeepParts } from './too-deep.js';
import type { KindCounts, MigrationConflict, RecordKind } from './types.js';
import { quoteName } from '../core/shown-text.js';

/**
 * Cache expiry times closer than this are the same (copies keep the exact expiry, but one made
 * with a remaining TTL by an older version does not).
 */
export const EXPIRY_TOLERANCE_MS = 2000;

/** Shared state of one copy pass. */
export interface CopyContext {
  source: StorageInterface;
  target: StorageInterface;
  /** Count only; never touch the target. */
  dryRun: boolean;
  /** The target held records before this run: read it first and skip what is already there. */
  compareFirst: boolean;
  /**
   * The target holds only this migration's earlier attempt (a resumed run, not a merge): what
   * it holds and the source no longer does is deleted, so that it ends equal to the source. A
   * merge's target may hold records of its own, which must survive: never set then.
   */
  converge: boolean;
  counts: KindCounts;
  conflicts: BoundedList<MigrationConflict>;
  warnings: BoundedList<string>;
  signal: AbortSignal | undefined;
}

/**
 * Runs one write unless the migration was aborted, is a dry run, or the target already
 * holds `value` (`existing`, read only when `compareFirst`); counts it as copied or skipped.
 */
export async function write(
  context: CopyContext,
  kind: RecordKind,
  amount: number,
  run: () => Promise<unknown>,
  existing?: JsonValue | null,
  value?: JsonValue,
): Promise<void> {
  throwIfAborted(context.signal);
  if (existing != null && value !== undefined && canonicalJson(existing) === canonicalJson(value)) {
    context.counts[kind].skipped += amount;
    return;
  }
  if (!context.dryRun) await run();
  context.counts[kind].copied += amount;
}

/** `read()` when the context compares first, else `undefined` (nothing known). */
export function whenComparing<T>(context: CopyContext, read: () => Promise<T>): Promise<T | undefined> {
  return context.compareFirst ? read() : Promise.resolve(undefined);
}

/**
 * Milliseconds since the epoch of a record's expiry, `null` for none: the instant its store's
 * loads expire it at (`cacheExpiryMs`, so an expiry text with a field out of range is copied
 * as the instant its text means, not its rolled-over one); 0 for an unparsable one. One past
 * the last instant a store takes (year 10000, which an earlier version accepted:
 * `9999-12-31T23:00:00-23:59`) is that last instant, so the copy keeps an expiry every store writes.
 */
export function expiryMs(record: CacheRecord): number | null {
  return record.expiresAt === null ? null : Math.min(cacheExpiryMs(record.expiresAt) ?? 0, MAX_TIMESTAMP_MS);
}

/** True when two expiry times are the same within {@link EXPIRY_TOLERANCE_MS}. */
export function sameExpiry(a: number | null, b: number | null, toleranceMs = EXPIRY_TOLERANCE_MS): boolean {
  return a === null || b === null ? a === b : Math.abs(a - b) <= toleranceMs;
}

/** A conversation id's conversation, raw messages, memories and chunk info. */
export function loadConversationParts(store: StorageInterface, id: string): Promise<ConversationParts> {
  return Promise.all([
    store.loadConversation(id),
    store.loadRawMessages(id),
    store.loadMemories(id),
    store.loadChunkInfo(id),
  ]);
}

/** A conversation id's parts read beforehand: the source's, and the target's when comparing. */
export interface ReadParts {
  loaded: ConversationParts;
  held: ConversationParts | undefined;
}

/**
 * Copies a conversation id's conversation, raw messages, memories (in the source's order,
 * see `memories.ts`) and chunk info; reads them (and, when comparing, the target's) unless
 * `read` brings them.
 */
export async function copyConversation(context: CopyContext, id: string, read?: ReadParts): Promise<void> {
  const { source, target } = context;
  const [loaded, held] = read
    ? [read.loaded, read.held]
    : await Promise.all([
        loadConversationParts(source, id),
        whenComparing(context, () => loadConversationParts(target, id)),
      ]);
  const parts = withoutTooDeepParts(
    id,
    withoutReservedFields(id, loaded, context.warnings),
    context.conflicts,
  );
  const [conversation, messages, , chunk] = parts;
  const plan = planMemories(id, parts, held, context.converge, context);
  let existing = held;
  if (plan.rewrite) {
    // Upserts cannot move a memory: start this id afresh (a crash here resumes as a new copy of it).
    throwIfAborted(context.signal);
    await target.deleteConversation(id);
    existing = undefined;
  }
  // The four kinds are independent records and every write is idempotent, so they go out
  // together: one round trip of latency per conversation instead of one per kind.
  const writes: Array<Promise<void>> = [];
  if (conversation !== null) {
    const run = () => target.storeConversation(id, conversation);
    writes.push(write(context, 'conversations', 1, run, existing?.[0], conversation));
  }
  // An empty list is no stored data on any backend: there is nothing to copy (and writing it
  // would delete a merge target's own messages).
  if (messages.length > 0) {
    const run = () => target.storeRawMessages(id, messages);
    const current = existing?.[1].length ? existing[1] : null; // [] may mean "none stored"
    writes.push(write(context, 'raw_messages', messages.length, run, current, messages));
  }
  const existingMemories = new Map((existing?.[2] ?? []).map((memory) => [memory.memory_id, memory]));
  // Memories the target already holds unchanged are skipped; the rest go in batches, in order.
  const pending: MemoryBatchItem[] = [];
  for (const memory of plan.records) {
    const held = existingMemories.get(memory.memory_id);
    if (held !== undefined && canonicalJson(held) === canonicalJson(memory)) {
      context.counts.memories.skipped += 1;
    } else pending.push({ memoryId: String(memory.memory_id), data: memory });
  }
  if (pending.length > 0) {
    writes.push(
      (async () => {
        // Batches of one list one after the other: upserts must land in the source's order.
        for (const group of inGroups(pending, MAX_BATCH_ITEMS)) {
          await write(context, 'memories', group.length, () => target.storeMemories(id, group));
        }
      })(),
    );
  }
  if (chunk !== null) {
    const run = () => target.storeChunkInfo(id, chunk);
    writes.push(write(context, 'chunk_info', 1, run, existing?.[3], chunk));
  }
  await settleAll(writes);
}

/** Chains read per call while an agent's chains are compared and copied. */
export const CHAIN_PAGE_SIZE = 500;

/** Before every sequence number (the first page of a walk). */
const FROM_START = Number.MIN_SAFE_INTEGER;

/**
 * Copies an agent's reasoning chains in order, `stored_at` kept, a page at a time by sequence
 * number. Chains the target already holds are skipped when they are exactly the first ones of
 * the source (a resumed run: each append is atomic, so an interrupted copy leaves a prefix),
 * and the copy goes on after the source sequence of the last one held: no duplicates, no gaps.
 * Any other existing chains are a conflict and nothing is written for that agent, unless the
 * run converges (`context.converge`): then they are deleted and the agent copied from the start.
 */
export async function copyAgentChains(context: CopyContext, agentId: string): Promise<void> {
  const { source, target } = context;
  let after = FROM_START;
  let targetAfter = FROM_START;
  let held = 0;
  while (!context.dryRun) {
    throwIfAborted(context.signal);
    const page = { afterSequence: targetAfter, limit: CHAIN_PAGE_SIZE };
    const theirs = await target.loadSequencedReasoningChains(agentId, page);
    if (theirs.length === 0) break;
    const ours = await source.loadSequencedReasoningChains(agentId, {
      afterSequence: after,
      limit: theirs.length,
    });
    const chains = (items: SequencedChain[]) => items.map((item) => item.chain);
    if (!isCanonicalPrefix(chains(theirs), chains(ours))) {
      if (context.converge) {
        // The source's chains changed since the interrupted run: start this agent afresh.
        await target.deleteReasoningChains(agentId);
        context.warnings.add(
          `agent ${quoteName(agentId)}: the target's chains were not the first of the source's ` +
            '(changed since the interrupted run); copied again from the start',
        );
        [after, held] = [FROM_START, 0];
        break;
      }
      const [count, existing] = await Promise.all([
        source.loadReasoningChains(agentId).then((all) => all.length),
        target.loadReasoningChains(agentId).then((all) => all.length),
      ]);
      context.conflicts.add({
        kind: 'reasoning_chains',
        id: agentId,
        message: `the target's ${existing} chain(s) are not the first of the source's ${count}; nothing copied for this agent`,
      });
      return;
    }
    held += theirs.length;
    after = (ours.at(-1) as SequencedChain).sequence;
    targetAfter = (theirs.at(-1) as SequencedChain).sequence;
  }
  context.counts.reasoning_chains.skipped += held;
  for (;;) {
    // A page (CHAIN_PAGE_SIZE <= MAX_BATCH_ITEMS) is one atomic batch append, so an
    // interrupted copy still leaves a prefix of the source.
    const page = await source.loadSequencedReasoningChains(agentId, {
      afterSequence: after,
      limit: CHAIN_PAGE_SIZE,
    });
    if (page.length === 0) return;
    const deep = page.findIndex((item) => exceedsMaxJsonDepth(item.chain));
    const group = page.slice(0, deep === -1 ? page.length : deep).map((item) => item.chain);
    if (group.length > 0) {
      await write(context, 'reasoning_chains', group.length, () =>
        target.appendReasoningChains(agentId, group),
      );
    }
    if (deep !== -1) {
      // Chains keep their order: one left out would leave a gap, and the target's chains would
      // no longer be the first of the source's, which a resumed run relies on.
      const { sequence } = page[deep] as SequencedChain;
      context.conflicts.add({
        kind: 'reasoning_chains',
        id: agentId,
        message: `the source's chain with sequence ${sequence} is ${TOO_DEEP}; it and the chains after it were not copied`,
      });
      return;
    }
    after = (page.at(-1) as SequencedChain).sequence;
  }
}

/**
 * True when two `storedAt` times are the same instant to the microsecond, as stores write them
 * (`canonicalTimestamp`: a copy of `...00.1234567Z` holds `...00.123457+00:00`), or, when
 * unreadable, the same text.
 */
export function sameStoredAt(a: string, b: string): boolean {
  const [at, bt] = [canonicalTimestamp(a), canonicalTimestamp(b)];
  return at === null || bt === null ? a === b : at === bt;
}

/** Copies a system state object (one deleted meanwhile is skipped). */
export async function copySystemState(context: CopyContext, key: string): Promise<void> {
  const [state, existing] = await Promise.all([
    context.source.loadSystemState(key),
    whenComparing(context, () => context.target.loadSystemState(key)),
  ]);
  if (state === null) {
    context.counts.system_state.skipped += 1;
    return;
  }
  if (exceedsMaxJsonDepth(state)) {
    context.conflicts.add({
      kind: 'system_state',
      id: key,
      message: `the source's state is ${TOO_DEEP}; not copied`,
    });
    return;
  }
  await write(context, 'system_state', 1, () => context.target.storeSystemState(key, state), existing, state);
}
