/**
 * An empty raw-message list is no stored data (the conformance suite checks the rule on every
 * backend). Here, what is Redis-specific: a store written before the rule keeps a count of 0
 * and the id in the any-kind index for such a list, and the id must not outlive its last
 * memory because of it.
 */
import type Redis from 'ioredis';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { describeWithService } from '../services.js';
import { eventText, recordingLogger } from '../support/recording-logger.js';
import { useRedisStore } from './helpers.js';

/** Every key under `prefix` with its type and value, to show that a read-only open wrote nothing. */
async function dump(raw: Redis, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await raw.keys(`${prefix}*`)).sort())
    out[key] = [await raw.type(key), await raw.dump(key)];
  return out;
}

describeWithService('redis')('redis: empty raw-message lists', () => {
  const ctx = useRedisStore();

  it('an id whose raw list a store before the rule kept as a count of 0 goes with its last memory', async () => {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'x' });
    // What a write of [] left before the rule: the count 0 in the meta hash, the id listed.
    const k = new KeyLayout(ctx.prefix()).conversation('c1');
    await ctx.raw().hset(k.meta, 'raw', 0, 'raw-bytes', 0);
    expect(await s.listAllConversationIds()).toEqual(['c1']);
    await s.deleteMemory('c1', 'm1');
    expect(await s.listAllConversationIds()).toEqual([]);
    expect(await s.loadRawMessages('c1')).toEqual([]);
    // The stale count goes with the next write of the list.
    await s.storeRawMessages('c1', []);
    expect(await ctx.raw().exists(k.meta)).toBe(0);
  });

  it('a writable open repairs the ids a store before the rule kept listed for an empty list, and records that it did', async () => {
    const first = await ctx.open();
    await first.storeConversation('kept', { title: 't' });
    await first.shutdown();
    const layout = new KeyLayout(ctx.prefix());
    const raw = ctx.raw();
    // What storeRawMessages(id, []) left before the rule: the count 0 and the id in the any-kind index.
    const oldEmptyList = async (id: string) => {
      const k = layout.conversation(id);
      await raw.hset(k.meta, 'raw', 0, 'raw-bytes', 0);
      await raw.zadd(k.bucket.conversationIds, 0, id);
    };
    await oldEmptyList('empty');
    await oldEmptyList('kept');
    // A meta key of another type is left alone (the id's own writes report it).
    const odd = layout.conversation('odd');
    await raw.set(odd.meta, 'x');
    await raw.zadd(odd.bucket.conversationIds, 0, 'odd');
    // The store was written by the version before the repair: no marker.
    await raw.del(layout.store.emptyRawSwept);

    // A read-only open changes nothing, but lists what the repair will leave (it reads each id).
    const before = await dump(raw, ctx.prefix());
    const reader = await ctx.open({ readOnly: true });
    expect(await reader.listAllConversationIds()).toEqual(['kept', 'odd']);
    const firstPage = await reader.listAllConversationIds({ limit: 1 });
    expect(firstPage.items).toEqual(['kept']);
    expect(await reader.listAllConversationIds({ limit: 1, after: firstPage.next })).toEqual({
      items: ['odd'],
      next: null,
    });
    expect(await reader.listAllConversationIds({ limit: 10 })).toEqual({
      items: ['kept', 'odd'],
      next: null,
    });
    expect(await dump(raw, ctx.prefix())).toEqual(before);
    expect(await raw.exists(layout.store.emptyRawSwept)).toBe(0);

    const s = await ctx.open();
    expect(await s.listAllConversationIds()).toEqual(['kept', 'odd']);
    expect(await s.listAllConversationIds({ limit: 10 })).toEqual({ items: ['kept', 'odd'], next: null });
    expect(await raw.exists(layout.conversation('empty').meta)).toBe(0);
    expect(await raw.hgetall(layout.conversation('kept').meta)).toEqual({});
    expect(await raw.get(odd.meta)).toBe('x');
    expect(await s.loadConversation('kept')).toEqual({ title: 't' });
    const stats = await s.getStorageStats();
    expect(stats.conversation_count).toBe(1);
    expect(stats.raw_message_count).toBe(0);
    expect(await raw.get(layout.store.emptyRawSwept)).toBe('1');
  });

  it('an id whose memory id list was evicted keeps its memories listed through the repair', async () => {
    const first = await ctx.open();
    await first.storeMemory('c1', 'm1', { text: 'x' });
    await first.shutdown();
    const layout = new KeyLayout(ctx.prefix());
    const k = layout.conversation('c1');
    const raw = ctx.raw();
    expect(await raw.del(k.memories)).toBe(1); // evicted: the data hash survives
    await raw.hset(k.meta, 'raw', 0, 'raw-bytes', 0); // an empty list before the rule
    await raw.del(layout.store.emptyRawSwept);

    const reader = await ctx.open({ readOnly: true });
    expect(await reader.listAllConversationIds()).toEqual(['c1']);
    const s = await ctx.open();
    expect(await raw.get(layout.store.emptyRawSwept)).toBe('1');
    expect(await s.listAllConversationIds()).toEqual(['c1']);
    expect((await s.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['m1']);
  });

  it('a repair that cannot read a bucket is logged, the open goes on and the next one tries again', async () => {
    await (await ctx.open()).shutdown();
    const layout = new KeyLayout(ctx.prefix());
    const broken = layout.buckets[3]!.conversationIds;
    await ctx.raw().del(layout.store.emptyRawSwept);
    await ctx.raw().set(broken, 'not a zset');
    const { logger, events } = recordingLogger();
    const s = await ctx.open({ logger });
    await s.storeConversation('c1', { v: 1 });
    const warnings = events.filter((e) => eventText(e).includes('empty raw-message lists not repaired'));
    expect(warnings).toHaveLength(1);
    expect(eventText(warnings[0]!)).toContain('WRONGTYPE');
    expect(await ctx.raw().exists(layout.store.emptyRawSwept)).toBe(0);
  });
});
