/**
 * Opens of a prefix whose `{index}:layout` key was evicted (it is written once and read only at
 * open: the least recently used key of a store). Deleted here by `DEL`, as an eviction would, on
 * a private server: a v2 store opens read-only and writable; an empty prefix, a v1 store and an
 * unfinished upgrade stay told apart.
 */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { CorruptDataError, StoreNotFoundError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { usePrivateStores } from './private-stores.js';
import { scanKeysWithPrefix } from './redis-server.js';
import { writeV1Store } from './v1-store.js';

describeWithService('redis')('redis stores whose layout key was evicted', () => {
  const { raw, prefix, open: openStore } = usePrivateStores('evl');
  const open = (readOnly: boolean) => openStore({ readOnly });
  const store = () => new KeyLayout(prefix()).store;
  /** A v2 store with one conversation and memory; its layout key then evicted. */
  const unmarkedV2 = async () => {
    const writer = await open(false);
    await writer.storeConversation('c', { v: 1 });
    await writer.storeMemory('c', 'm', { note: 'n' });
    expect(await raw().del(store().layout)).toBe(1);
  };

  it('opens a v2 store read-only, reading its data and writing nothing', async () => {
    await unmarkedV2();
    const before = await scanKeysWithPrefix(raw(), prefix());
    const readOnly = await open(true);
    expect(await readOnly.loadConversation('c')).toEqual({ v: 1 });
    expect((await readOnly.loadMemories('c')).map((m) => m.note)).toEqual(['n']);
    expect((await readOnly.getStorageStats()).conversation_count).toBe(1);
    expect(await scanKeysWithPrefix(raw(), prefix())).toEqual(before);
    expect(await raw().exists(store().layout)).toBe(0);
  });

  it('recognises it by its bucket counters when the bucket count key went too; a writer puts both back', async () => {
    await unmarkedV2();
    expect(await raw().del(store().buckets)).toBe(1);
    const readOnly = await open(true);
    expect(await readOnly.loadConversation('c')).toEqual({ v: 1 });
    const writer = await open(false);
    expect(await writer.loadConversation('c')).toEqual({ v: 1 });
    expect([await raw().get(store().layout), await raw().get(store().buckets)]).toEqual(['2', '64']);
  });

  it('still says an empty prefix() does not exist, read-only, and creates nothing', async () => {
    const error = await open(true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreNotFoundError);
    expect(await scanKeysWithPrefix(raw(), prefix())).toEqual([]);
  });

  it.each([true, false])(
    'refuses a v1 store without its layout key (readOnly %s), naming the key, and leaves it as it was',
    async (readOnly) => {
      await writeV1Store(raw(), prefix());
      expect(await raw().del(store().layout)).toBe(1);
      const before = await scanKeysWithPrefix(raw(), prefix());
      const error = await open(readOnly).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toContain(store().layout);
      expect((error as Error).message).toContain(`${prefix()}{index}:conversations`);
      expect(await scanKeysWithPrefix(raw(), prefix())).toEqual(before);
    },
  );

  it('refuses a v2 store with an upgrade marker left and no layout key', async () => {
    await unmarkedV2();
    await raw().hset(store().upgrade, 'started_at', 'x');
    const error = await open(true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(store().upgrade);
  });
});
