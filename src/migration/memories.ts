/**
 * How a conversation's memories reach the target in the source's order. The public API can
 * only upsert a memory (replace in place, or append), so a target whose list of the
 * source's memory ids is not the start of the source's list (a merge into other data, a
 * source changed between two attempts) would keep its own order; such a list is rewritten.
 */
import type { JsonObject, JsonValue } from '../core/json.js';
import { buildMemoryWrite, upsertMemoriesInList } from '../core/records.js';
import type { BoundedList } from './bounded.js';
import { screenMemories } from './screen.js';
import type { MigrationConflict } from './types.js';
import { quoteName } from '../core/shown-text.js';

/** A conversation id's conversation, raw messages, memories and chunk info. */
export type ConversationParts = [JsonObject | null, JsonValue[], JsonObject[], JsonObject | null];

/** What to do with a conversation's memories. */
export interface MemoryPlan {
  /** The records the target must hold, in order. */
  records: JsonObject[];
  /** Delete the target's parts of this id first, then write everything afresh. */
  rewrite: boolean;
}

/**
 * The memory list a target ends up with after upserting `memories` one by one (what
 * verification expects): a memory id stored twice keeps its first position and last value.
 */
export function upsertedMemories(memories: readonly JsonObject[]): JsonObject[] {
  const writes = memories.map((memory) => buildMemoryWrite(String(memory.memory_id), memory, ''));
  return upsertMemoriesInList([], writes) as JsonObject[];
}

/** `memory id "a" appears 2 times, memory id "b" appears 3 times`, or `null` without duplicates. */
function describeDuplicates(memories: readonly JsonObject[]): string | null {
  const times = new Map<JsonValue | undefined, number>();
  for (const memory of memories) times.set(memory.memory_id, (times.get(memory.memory_id) ?? 0) + 1);
  const repeated = [...times].filter(([, count]) => count > 1);
  if (repeated.length === 0) return null;
  return repeated
    .map(([memoryId, count]) => `memory id ${JSON.stringify(memoryId)} appears ${count} times`)
    .join(', ');
}

/** True when the target would lose records of its own if its parts of this id were deleted. */
function holdsOwnRecords(source: ConversationParts, target: ConversationParts): boolean {
  const sourceIds = new Set(source[2].map((memory) => memory.memory_id));
  return (
    target[2].some((memory) => !sourceIds.has(memory.memory_id)) ||
    (target[0] !== null && source[0] === null) ||
    (target[1].length > 0 && source[1].length === 0) ||
    (target[3] !== null && source[3] === null)
  );
}

/**
 * Plans the memories of conversation `id`. Source memories without a string id, or with
 * one the id rule refuses, are conflicts (naming the conversation and the id) and not
 * copied; duplicate ids (which the reference file backend wrote) collapse as upserts would,
 * with a warning. `existing` is the target's parts, read only on a resumed run or a
 * merge. With `converge` (a resumed run that is not a merge: the target holds nothing but
 * this migration's earlier attempt), a target holding anything of this id the source no
 * longer has (a memory id, a conversation, raw messages, chunk info deleted since) is
 * rewritten, so that it ends equal to the source. Otherwise (a merge) the target's own
 * records stay: when it holds the source's ids in another order, its parts are rewritten
 * unless that would delete records only the target holds; then nothing is written to its
 * memories and a conflict is reported.
 */
export function planMemories(
  id: string,
  source: ConversationParts,
  existing: ConversationParts | undefined,
  converge: boolean,
  report: { conflicts: BoundedList<MigrationConflict>; warnings: BoundedList<string> },
): MemoryPlan {
  const { valid, withoutString, refused } = screenMemories(source[2]);
  if (withoutString > 0) {
    const message = `${withoutString} source memory(ies) without a string memory_id; not copied`;
    report.conflicts.add({ kind: 'memories', id, message });
  }
  for (const message of refused) report.conflicts.add({ kind: 'memories', id, message });
  const duplicates = describeDuplicates(valid);
  if (duplicates !== null) {
    report.warnings.add(
      `conversation ${quoteName(id)}: ${duplicates} in the source (the reference file backend appends ` +
        'duplicates); the target keeps one per id, at its first position with its last value',
    );
  }
  const records = upsertedMemories(valid);
  if (existing === undefined) return { records, rewrite: false };
  const ownRecords = holdsOwnRecords(source, existing);
  if (converge && ownRecords) return { records, rewrite: true };
  const order = records.map((memory) => memory.memory_id);
  const wanted = new Set(order);
  const held = existing[2].map((memory) => memory.memory_id).filter((memoryId) => wanted.has(memoryId));
  if (held.every((memoryId, i) => memoryId === order[i])) return { records, rewrite: false };
  if (!converge && ownRecords) {
    report.conflicts.add({
      kind: 'memories',
      id,
      message:
        "the target holds this conversation's memories in another order than the source, and records the source " +
        'does not have; rewriting them in order would delete those, so its memories were not copied',
    });
    return { records: [], rewrite: false };
  }
  return { records, rewrite: true };
}
