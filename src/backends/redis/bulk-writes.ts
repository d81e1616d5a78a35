/**
 * Whole-conversation batches on Redis (`storeConversationBatch`): every part of every
 * conversation is its own write script, as with the single calls, all sent in the same tick so
 * that they leave in one socket write per node (the store's own client corks each tick, see
 * tick-batcher.ts; one round trip instead of four per conversation). Redis runs them in the order sent, so the result equals the single calls in a
 * loop. Each script is atomic, the batch is not: when one fails, the error names the items
 * whose parts all succeeded (not necessarily a prefix, since later scripts still run) and those
 * written in part.
 */
import {
  BatchPartiallyAppliedError,
  type ConversationWrite,
  type JsonObject,
  type JsonValue,
  type MemoryWrite,
} from '../../core/index.js';

/** The single-conversation primitives the batch sends (the store's own). */
export interface ConversationPartWriters {
  conversation(conversationId: string, data: JsonObject): Promise<void>;
  rawMessages(conversationId: string, messages: JsonValue[]): Promise<void>;
  memories(conversationId: string, memories: readonly MemoryWrite[]): Promise<void>;
  chunkInfo(conversationId: string, data: JsonObject): Promise<void>;
}

/** Sends every part of `writes` at once and waits for all of them. */
export async function writeConversationBatch(
  writes: readonly ConversationWrite[],
  write: ConversationPartWriters,
): Promise<void> {
  const items = writes.map((item) => {
    const id = item.conversationId;
    const parts: Array<Promise<void>> = [];
    if (item.conversation !== null) parts.push(write.conversation(id, item.conversation));
    if (item.rawMessages !== null) parts.push(write.rawMessages(id, item.rawMessages));
    if (item.memories.length > 0) parts.push(write.memories(id, item.memories));
    if (item.chunkInfo !== null) parts.push(write.chunkInfo(id, item.chunkInfo));
    return Promise.allSettled(parts);
  });
  const settled = await Promise.all(items);
  const failed = settled.flat().find((result) => result.status === 'rejected');
  if (failed === undefined) return;
  const applied: number[] = [];
  const partly: number[] = [];
  settled.forEach((parts, index) => {
    const written = parts.filter((part) => part.status === 'fulfilled').length;
    if (written === parts.length) applied.push(index);
    else if (written > 0) partly.push(index);
  });
  // Nothing written only when no part of any item was.
  if (applied.length === 0 && partly.length === 0) throw failed.reason;
  throw new BatchPartiallyAppliedError(
    'storeConversationBatch',
    writes.length,
    applied,
    failed.reason,
    partly,
  );
}
