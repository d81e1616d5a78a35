/** Read-only opens on Redis write no key: not the layout key of a mistyped prefix, nor any other. */
import { StoreNotFoundError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { keysWithPrefix, useRedisStore } from './helpers.js';

describeWithService('redis')('redis read-only opens', () => {
  const ctx = useRedisStore();

  it('writes no key for a mistyped prefix', async () => {
    const error = await ctx.open({ readOnly: true }).then(
      () => new Error('opened'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreNotFoundError);
    expect((error as StoreNotFoundError).message).toContain(JSON.stringify(ctx.prefix()));
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual([]);
  });

  it('still refuses a layout version it does not know, and leaves it as it is', async () => {
    const layoutKey = `${ctx.prefix()}{index}:layout`;
    await ctx.raw().set(layoutKey, '99');
    await expect(ctx.open({ readOnly: true })).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual([layoutKey]);
    expect(await ctx.raw().get(layoutKey)).toBe('99');
  });

  it('reads a store and leaves its keys and values as they were', async () => {
    const writer = await ctx.open();
    await writer.storeConversation('c', { title: 'x' });
    await writer.storeMemory('c', 'm', { summary: 's' });
    await writer.storeCacheEntry('k', { v: 1 }, 3600);
    const keys = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const dump = async () => Promise.all(keys.map((key) => ctx.raw().dump(key)));
    const before = await dump();
    const reader = await ctx.open({ readOnly: true });
    expect(await reader.loadMemories('c')).toHaveLength(1);
    expect(await reader.listCacheKeys()).toEqual(['k']);
    await reader.getStorageStats();
    await reader.healthCheck();
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(keys);
    expect(await dump()).toEqual(before);
  });
});
