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
  type ConversationPartWriters,
  conversationParts,
  type ConversationWrite,
  type MemoryWrite,
} from '../../core/index.js';

/** Sends every part of `writes` at once and waits for all of them. */
export async function writeConversationBatch(
  writes: readonly ConversationWrite[],
  write: ConversationPartWriters<readonly MemoryWrite[]>,
): Promise<void> {
  // Every step started now, in the same tick: one socket write for the whole batch.
  const items = writes.map((item) =>
    Promise.allSettled(conversationParts(item, item.memories, write).map((step) => step())),
  );
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
