/**
 * Copying conversations in groups: the parts of a group of conversation ids are read from the
 * source with `loadConversationBatch` (SQLite: one query per kind for up to
 * {@link READ_SLICE} ids), then written with `storeConversationBatch` calls of at most
 * {@link BATCH_RECORDS} records each, one native operation per call (PostgreSQL: one
 * transaction; Redis: one pipeline; SQLite: one transaction). Only a fresh copy goes this way:
 * a resumed or merging run compares with the target per conversation (`copyConversation`), as
 * does an id with more memories than one batch takes. Every write stays idempotent, so an
 * interrupted group is simply written again by the next run.
 */
import { MAX_BATCH_ITEMS } from '../core/batches.js';
import type { ConversationBatchItem, StoredConversation } from '../core/storage-conversation-batches.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { type CopyContext, copyConversation } from './copy.js';
import { throwIfAborted } from './errors.js';
import { type ConversationParts, planMemories } from './memories.js';
import { withoutReservedFields } from './reserved.js';
import { withoutTooDeepParts } from './too-deep.js';
import type { RecordKind } from './types.js';

/** Conversation ids per `loadConversationBatch` call (a group of more is read in slices). */
export const READ_SLICE = 64;

/** Records per `storeConversationBatch` call: bounds the memory a group holds and one transaction's size. */
export const BATCH_RECORDS = 2000;

/** One planned item and what it counts as copied. */
interface PlannedItem {
  item: ConversationBatchItem;
  records: number;
  counts: Array<[RecordKind, number]>;
}

/** The batch item for a loaded conversation, or `null` when it must go the per-conversation way. */
function planItem(context: CopyContext, stored: StoredConversation): PlannedItem | null {
  const id = stored.conversationId;
  const loaded: ConversationParts = [
    stored.conversation,
    stored.rawMessages,
    stored.memories,
    stored.chunkInfo,
  ];
  // Decided before the parts are screened, which reports their conflicts and warnings: the
  // per-conversation way screens them again, and reported them twice. Screening only leaves
  // records out, so this bounds the batch's records.
  const most =
    Number(stored.conversation !== null) +
    stored.rawMessages.length +
    stored.memories.length +
    Number(stored.chunkInfo !== null);
  if (stored.memories.length > MAX_BATCH_ITEMS || most > BATCH_RECORDS) return null;
  const parts = withoutTooDeepParts(
    id,
    withoutReservedFields(id, loaded, context.warnings),
    context.conflicts,
  );
  const [conversation, messages, , chunk] = parts;
  const plan = planMemories(id, parts, undefined, context.converge, context);
  const item: ConversationBatchItem = { conversationId: id };
  const counts: Array<[RecordKind, number]> = [];
  if (conversation !== null) {
    item.conversation = conversation;
    counts.push(['conversations', 1]);
  }
  // An empty list is no stored data on any backend: there is nothing to copy.
  if (messages.length > 0) {
    item.rawMessages = messages;
    counts.push(['raw_messages', messages.length]);
  }
  if (plan.records.length > 0) {
    item.memories = plan.records.map((memory) => ({ memoryId: String(memory.memory_id), data: memory }));
    counts.push(['memories', plan.records.length]);
  }
  if (chunk !== null) {
    item.chunkInfo = chunk;
    counts.push(['chunk_info', 1]);
  }
  const records = counts.reduce((sum, [, amount]) => sum + amount, 0);
  return { item, records, counts };
}

/**
 * Each id's conversation, raw messages, memories and chunk info (as `loadConversationParts`),
 * aligned with `ids` (one group, at most {@link READ_SLICE}), with one `loadConversationBatch`.
 */
export async function loadConversationPartsBatch(
  store: StorageInterface,
  ids: readonly string[],
): Promise<ConversationParts[]> {
  const stored = await store.loadConversationBatch(ids);
  return stored.map((c): ConversationParts => [c.conversation, c.rawMessages, c.memories, c.chunkInfo]);
}

/** Splits planned items into consecutive batches of at most {@link BATCH_RECORDS} records. */
function inBatches(items: readonly PlannedItem[]): PlannedItem[][] {
  const batches: PlannedItem[][] = [];
  let current: PlannedItem[] = [];
  let records = 0;
  for (const planned of items) {
    if (current.length > 0 && records + planned.records > BATCH_RECORDS) {
      batches.push(current);
      current = [];
      records = 0;
    }
    current.push(planned);
    records += planned.records;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Copies a group of conversation ids. Without comparing (a fresh target), the group is read
 * and written in batches; otherwise both stores are read in batches and each id is compared
 * and written by `copyConversation`, one at a time (the phase runs `concurrency` groups at once).
 */
export async function copyConversationGroup(context: CopyContext, ids: readonly string[]): Promise<void> {
  if (context.compareFirst) {
    for (let start = 0; start < ids.length; start += READ_SLICE) {
      throwIfAborted(context.signal);
      const slice = ids.slice(start, start + READ_SLICE);
      const [loaded, held] = await Promise.all([
        loadConversationPartsBatch(context.source, slice),
        loadConversationPartsBatch(context.target, slice),
      ]);
      for (const [i, id] of slice.entries())
        await copyConversation(context, id, { loaded: loaded[i]!, held: held[i] });
    }
    return;
  }
  const planned: Array<{ id: string; planned: PlannedItem | null }> = [];
  for (let start = 0; start < ids.length; start += READ_SLICE) {
    throwIfAborted(context.signal);
    const loaded = await context.source.loadConversationBatch(ids.slice(start, start + READ_SLICE));
    for (const stored of loaded)
      planned.push({ id: stored.conversationId, planned: planItem(context, stored) });
  }
  for (const { id, planned: item } of planned) {
    if (item === null) await copyConversation(context, id);
  }
  const batches = inBatches(planned.flatMap(({ planned: item }) => (item === null ? [] : [item])));
  planned.length = 0;
  // Each batch is let go once it is sent (only its counts stay), so that its records can be
  // collected while the next batch is written.
  for (let n = 0; n < batches.length; n += 1) {
    throwIfAborted(context.signal);
    const batch = batches[n] as PlannedItem[];
    const counts = batch.map((item) => item.counts);
    const items = batch.map((item) => item.item);
    batches[n] = [];
    if (!context.dryRun) await context.target.storeConversationBatch(items);
    for (const itemCounts of counts)
      for (const [kind, amount] of itemCounts) context.counts[kind].copied += amount;
  }
}
