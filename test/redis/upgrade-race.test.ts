/**
 * Upgrades from layout v1 run by several processes at once (`upgrade-fence.ts`): a late one
 * writes nothing over what callers wrote once another had finished, and simultaneous ones end
 * exact; on one server and on a 3-master cluster.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisStorage, RedisStorageConfig } from '../../src/backends/redis/index.js';
import { parseRedisConfig } from '../../src/backends/redis/config.js';
import { RedisConnection } from '../../src/backends/redis/connection.js';
import { prepareLayout } from '../../src/backends/redis/layout.js';
import { describeWithService } from '../services.js';
import { useClusterStores } from './cluster-hooks.js';
import { REDIS_TEST_URL, useRedisStore } from './helpers.js';
import { expectV1Fixture, writeV1Store } from './v1-store.js';

/** What a scenario works with: a raw client, the prefix, and writable opens of it. */
interface Target {
  raw: () => Redis | Cluster;
  prefix: () => string;
  /** The config an open of the prefix needs (the server's URL, or the cluster client). */
  config: () => RedisStorageConfig;
  open: () => Promise<RedisStorage>;
}

/**
 * Process B (the open step on its own connection) reads the v1 conversations and stalls
 * before writing them; A's open upgrades the whole store, then A writes and deletes; then B
 * goes on and finishes. Until 2026-12-06 B's stalled moves wrote the v1 values back over A's.
 */
async function lateUpgrade(target: Target): Promise<void> {
  await writeV1Store(target.raw(), target.prefix());
  const connection = await RedisConnection.open(parseRedisConfig(target.config()));
  let stalled!: () => void;
  const bStalled = new Promise<void>((resolve) => (stalled = resolve));
  let resume!: () => void;
  const bResumed = new Promise<void>((resolve) => (resume = resolve));
  try {
    const b = prepareLayout(connection, target.prefix(), {
      write: true,
      upgradeHooks: {
        beforeStep: async () => {
          stalled();
          await bResumed;
        },
      },
    });
    await bStalled;
    const a = await target.open();
    await a.storeConversation('c1', { title: 'new' });
    await a.storeRawMessages('c1', [{ text: 'fresh' }]);
    expect(await a.deleteMemory('c1', 'm1')).toBe(true);
    resume();
    await b;
    expect(await a.loadConversation('c1')).toEqual({ title: 'new' });
    expect(await a.loadRawMessages('c1')).toEqual([{ text: 'fresh' }]);
    expect(await a.loadMemories('c1')).toEqual([{ memory_id: 'm2', created_at: '2024-01-02T00:00:00' }]);
    expect(await a.getStorageStats()).toMatchObject({
      conversation_count: 1,
      raw_message_count: 1,
      memory_count: 1,
      chunk_info_count: 1,
    });
    expect(await a.search({ text: 'hi two', kinds: ['raw_messages'] })).toEqual([]);
    expect(await a.search({ text: 'fresh' })).toMatchObject([{ kind: 'raw_messages', conversationId: 'c1' }]);
    // B's progress count did not make the upgrade marker again.
    expect(await target.raw().exists(`${target.prefix()}{index}:upgrade`)).toBe(0);
    expect(await target.raw().get(`${target.prefix()}{index}:layout`)).toBe('2');
  } finally {
    resume();
    await connection.close();
  }
}

/** Two writable opens of one v1 store at once: both upgrade, and the store ends exact. */
async function simultaneousUpgrades(target: Target): Promise<void> {
  await writeV1Store(target.raw(), target.prefix());
  const [a, b] = await Promise.all([target.open(), target.open()]);
  await expectV1Fixture(a);
  await expectV1Fixture(b);
  expect(await b.search({ text: 'hi two', kinds: ['raw_messages'] })).toHaveLength(2);
}

describeWithService('redis')('redis upgrades from v1 at once', () => {
  const ctx = useRedisStore();
  const target: Target = {
    raw: () => ctx.raw(),
    prefix: () => ctx.prefix(),
    config: () => ({ url: REDIS_TEST_URL, keyPrefix: ctx.prefix() }),
    open: () => ctx.open(),
  };

  it('a late upgrade writes nothing over what callers wrote once another had finished', () =>
    lateUpgrade(target));

  it('two upgrades at once end with exact counters, loads and searches', () => simultaneousUpgrades(target));

  it("an earlier upgrade's fences do not hold back an upgrade of a v1 store written there again", async () => {
    await writeV1Store(ctx.raw(), ctx.prefix());
    await ctx.open();
    await ctx.raw().set(`${ctx.prefix()}{index}:layout`, '1');
    await writeV1Store(ctx.raw(), ctx.prefix());
    await ctx.raw().set(`${ctx.prefix()}{c:c1}:conversation`, JSON.stringify({ title: 'again' }));
    expect(await (await ctx.open()).loadConversation('c1')).toEqual({ title: 'again' });
  });
});

describeWithService('redis')('redis upgrades from v1 at once on a cluster', () => {
  const ctx = useClusterStores();
  const target: Target = {
    raw: ctx.client,
    prefix: ctx.prefix,
    config: () => ({ client: ctx.client(), keyPrefix: ctx.prefix() }),
    open: () => ctx.open(),
  };

  it('a late upgrade writes nothing over what callers wrote once another had finished', () =>
    lateUpgrade(target));

  it('two upgrades at once end with exact counters, loads and searches', () => simultaneousUpgrades(target));
});
