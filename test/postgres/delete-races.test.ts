/**
 * `deleteConversation` racing a memory batch or a conversation batch of the same conversation
 * (two instances, separate pools): the delete comes either before the batch (the batch's
 * result survives whole) or after it (nothing survives), never between its rows. And a cache
 * delete batch that waits for a writer's lock on one of its keys deletes what that writer wrote.
 */
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';
import type { MemoryBatchItem } from '../../src/index.js';

/** Memories `m0`… of `from` to `to` (exclusive), each carrying `round`. */
function memories(from: number, to: number, round: number): MemoryBatchItem[] {
  return Array.from({ length: to - from }, (_, i) => ({ memoryId: `m${from + i}`, data: { round } }));
}

describeWithService('postgres')('postgres deletes racing batches', () => {
  const ctx = usePostgresStore();

  // A delete whose snapshot was taken while the batch ran (not seeing its new rows) and which
  // then waited for the batch's locked rows removed the replaced memories and missed the new
  // ones, leaving only those. The delay slides the delete along the batch.
  it('deletes a conversation during a storeMemories: all of it or none, never a part', async () => {
    const [a, b] = [await ctx.open(), await ctx.open()];
    const partial: string[] = [];
    for (let round = 0; round < 24; round += 1) {
      const id = `conv${round}`;
      await a.storeMemories(id, memories(0, 900, -1));
      const batch = [...memories(0, 900, round), ...memories(900, 1000, round)];
      await Promise.all([
        a.storeMemories(id, batch),
        new Promise((resolve) => setTimeout(resolve, round % 8)).then(() => b.deleteConversation(id)),
      ]);
      const loaded = await a.loadMemories(id);
      const whole = loaded.length === 1000 && loaded.every((m) => m.round === round);
      if (loaded.length > 0 && !whole) partial.push(`round ${round}: ${loaded.length} memories`);
    }
    expect(partial).toEqual([]);
  });

  it('deletes a conversation during a storeConversationBatch: all of it or none, never a part', async () => {
    const [a, b] = [await ctx.open(), await ctx.open()];
    const partial: string[] = [];
    for (let round = 0; round < 24; round += 1) {
      const ids = [`conv${round}a`, `conv${round}b`];
      await a.storeConversationBatch(
        ids.map((conversationId) => ({
          conversationId,
          conversation: { round: -1 },
          memories: memories(0, 900, -1),
        })),
      );
      const items = ids.map((conversationId) => ({
        conversationId,
        conversation: { round },
        memories: [...memories(0, 900, round), ...memories(900, 1000, round)],
        chunkInfo: { round },
      }));
      // Every second round the other conversation's list is replaced too: the batch then takes
      // the locks in a statement of their own, else in its first upsert.
      if (round % 2 === 1) Object.assign(items[0]!, { rawMessages: [{ round }] });
      await Promise.all([
        a.storeConversationBatch(items),
        new Promise((resolve) => setTimeout(resolve, (round >> 1) % 8)).then(() =>
          b.deleteConversation(ids[1]!),
        ),
      ]);
      const [stored] = await a.loadConversationBatch([ids[1]!]);
      const parts = [stored?.conversation !== null, stored?.chunkInfo !== null, stored?.memories.length];
      const none = parts.join() === 'false,false,0';
      const whole = parts.join() === 'true,true,1000' && stored?.memories.every((m) => m.round === round);
      if (!none && !whole) partial.push(`round ${round}: ${parts.join()}`);
    }
    expect(partial).toEqual([]);
  });

  // The batch locks its rows, then deletes them by key: a row an upsert replaced while the
  // batch waited for its lock is found again in its new version and deleted, as the single
  // `deleteCacheEntry` does. (Deleting by the locked rows' ctid left that version in place: the
  // statement's snapshot, taken before the upsert committed, cannot see it.)
  it('deletes the value an upsert committed while the cache delete batch waited for its lock', async () => {
    const store = await ctx.open();
    await store.storeCacheEntries([
      { key: 'held', data: { v: 'old' } },
      { key: 'free', data: { v: 'old' } },
    ]);
    const writer = await ctx.raw().connect();
    try {
      await writer.query('BEGIN');
      await writer.query(
        `UPDATE ${ident(ctx.schema())}.cache_entries SET cache_data = $1 WHERE cache_key = 'held'`,
        [JSON.stringify({ v: 'new' })],
      );
      const deleting = store.deleteCacheEntries(['free', 'held']);
      await waitForCacheLockWait(ctx.raw(), ctx.schema());
      await writer.query('COMMIT');
      await deleting;
    } finally {
      writer.release();
    }
    expect(await store.loadCacheEntries(['held', 'free'])).toEqual([null, null]);
  });
});

/** Waits until a statement on `schema`'s cache table waits for a row lock (10 s at most). */
async function waitForCacheLockWait(raw: import('pg').Pool, schema: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await raw.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
      [`${ident(schema)}.cache_entries`],
    );
    if ((rows[0]?.n ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no statement on ${schema}.cache_entries waited for a lock`);
}
