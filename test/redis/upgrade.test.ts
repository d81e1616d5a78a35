/** In-place upgrade of a v1 store to layout v2: data, counters, resuming after a crash at any step. */
import { RedisStorage } from '../../src/backends/redis/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { CorruptDataError, StoreNotFoundError } from '../../src/core/index.js';
import { parseRedisConfig } from '../../src/backends/redis/config.js';
import { RedisConnection } from '../../src/backends/redis/connection.js';
// Through the package's own export, as users call it.
import { inspectRedisLayout as inspectLayout, RedisUpgradeRequiredError } from '../../src/index.js';
import { prepareLayout } from '../../src/backends/redis/layout.js';
import { keysWithPrefix, REDIS_TEST_URL, useRedisStore } from './helpers.js';
import { expectV1Fixture, writeV1Store } from './v1-store.js';
import { describeWithService } from '../services.js';

class Crash extends Error {}

describeWithService('redis')('redis upgrade from layout v1', () => {
  const ctx = useRedisStore();

  /** Runs the open step on `prefix`, crashing before write step `crashAt` (1-based); returns the steps seen. */
  async function upgradeWithCrash(prefix: string, crashAt: number): Promise<number> {
    const connection = await RedisConnection.open(
      parseRedisConfig({ url: REDIS_TEST_URL, keyPrefix: prefix }),
    );
    let steps = 0;
    try {
      await prepareLayout(connection, prefix, {
        write: true,
        upgradeHooks: {
          beforeStep: () => {
            steps += 1;
            if (steps === crashAt) throw new Crash(`crash before step ${steps}`);
          },
        },
      });
    } catch (error) {
      if (!(error instanceof Crash)) throw error;
    } finally {
      await connection.close();
    }
    return steps;
  }

  it('upgrades in place on initialize(): every record, its index entries and exact counters', async () => {
    await writeV1Store(ctx.raw(), ctx.prefix());
    expect(await inspectLayout(ctx.raw(), ctx.prefix())).toBe('v1');
    const s = await ctx.open();
    expect(await inspectLayout(ctx.raw(), ctx.prefix())).toBe('v2');
    await expectV1Fixture(s);
    // No v1 key is left: no `{c:`, `{a:`, `{k:`, `{s:` tag, no v1 index set, no marker.
    const left = await keysWithPrefix(ctx.raw(), ctx.prefix());
    expect(
      left.filter((k) => /\{[caks]:|\{index\}:(?!layout|buckets|search|empty-raw-swept)/.test(k)),
    ).toEqual([]);
    // The store keeps working, and chain sequence numbers go on after the upgraded ones.
    await s.storeReasoningChain('a1', { n: 4 });
    expect(await s.loadReasoningChains('a1', 2)).toMatchObject([{ n: 3 }, { n: 4 }]);
  });

  it('resumes after a crash at any step of the upgrade, with nothing lost, doubled or miscounted', async () => {
    await writeV1Store(ctx.raw(), `${ctx.prefix()}count:`);
    const total = await upgradeWithCrash(`${ctx.prefix()}count:`, 0);
    expect(total).toBeGreaterThan(15);
    for (let crashAt = 1; crashAt <= total; crashAt += 1) {
      const prefix = `${ctx.prefix()}crash-${crashAt}:`;
      await writeV1Store(ctx.raw(), prefix);
      await upgradeWithCrash(prefix, crashAt);
      expect({ crashAt, state: await inspectLayout(ctx.raw(), prefix) }).toEqual({
        crashAt,
        state: 'upgrading',
      });
      // A v1 library reads the version and refuses it; a read-only open asks for the upgrade.
      expect(await ctx.raw().get(`${prefix}{index}:layout`)).not.toBe('1');
      const connection = await RedisConnection.open(
        parseRedisConfig({ url: REDIS_TEST_URL, keyPrefix: prefix }),
      );
      await expect(prepareLayout(connection, prefix, { write: false })).rejects.toBeInstanceOf(
        RedisUpgradeRequiredError,
      );
      await connection.close();
      // A second crash later in the resumed run, then a clean open.
      await upgradeWithCrash(prefix, Math.ceil(total / 3));
      const s = await ctx.open({ keyPrefix: prefix });
      await expectV1Fixture(s);
    }
  });

  it('after a failed record move, waits for the moves in flight before the open rejects', async () => {
    await writeV1Store(ctx.raw(), ctx.prefix());
    const connection = await RedisConnection.open(
      parseRedisConfig({ url: REDIS_TEST_URL, keyPrefix: ctx.prefix() }),
    );
    let calls = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const secondEntered = new Promise<string>((resolve) => (entered = () => resolve('in flight')));
    try {
      // The first record's first step crashes; another record of the batch is held in flight.
      const open = prepareLayout(connection, ctx.prefix(), {
        write: true,
        upgradeHooks: {
          beforeStep: async () => {
            calls += 1;
            if (calls === 1) throw new Crash('crash in the first move');
            if (calls === 2) {
              entered();
              await released;
            }
          },
        },
      });
      const outcome = open.then(
        () => 'resolved',
        (error: unknown) => (error instanceof Crash ? 'rejected' : error),
      );
      expect(await Promise.race([secondEntered, outcome])).toBe('in flight');
      // A macrotask later the open must still be waiting for the held move.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await Promise.race([outcome, Promise.resolve('pending')])).toBe('pending');
      release();
      expect(await outcome).toBe('rejected');
    } finally {
      release();
      await connection.close();
    }
  });

  it('moves a v1 memory that does not parse as it is, created_at null, and completes the upgrade', async () => {
    // Until 2026-12-06 such a memory without a memory-created entry failed every writable open
    // with a bare SyntaxError (TypeError for the text null), naming no key, the store left at 1>2.
    await writeV1Store(ctx.raw(), ctx.prefix());
    const v1 = (kind: string) => `${ctx.prefix()}{c:bad}:${kind}`;
    await ctx.raw().sadd(`${ctx.prefix()}{index}:conversation-ids`, 'bad');
    await ctx.raw().rpush(v1('memories'), 'm1', 'm2', 'm3');
    const m3 = { memory_id: 'm3', created_at: '2024-03-01T00:00:00' };
    await ctx.raw().hset(v1('memory-data'), 'm1', 'not json{', 'm2', 'null', 'm3', JSON.stringify(m3));
    const s = await ctx.open();
    expect(await inspectLayout(ctx.raw(), ctx.prefix())).toBe('v2');
    expect(await s.loadConversation('c1')).toEqual({ title: 'hello', n: 1 });
    expect((await s.getStorageStats()).memory_count).toBe(5);
    // Loads refuse it as they did in v1, naming the field.
    const error = await s.loadMemories('bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toMatch(/memory-data field "m1"/);
    await s.deleteMemories('bad', ['m1', 'm2']);
    expect(await s.loadMemories('bad')).toEqual([m3]);
    expect((await s.getStorageStats()).memory_count).toBe(3);
  });

  it('reports a v1 store to a read-only open as needing an upgrade (health, typed errors), and writes nothing', async () => {
    await writeV1Store(ctx.raw(), ctx.prefix());
    const before = await keysWithPrefix(ctx.raw(), ctx.prefix());
    const connection = await RedisConnection.open(
      parseRedisConfig({ url: REDIS_TEST_URL, keyPrefix: ctx.prefix() }),
    );
    try {
      const error = await prepareLayout(connection, ctx.prefix(), { write: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisUpgradeRequiredError);
      expect(error).toMatchObject({ layout: 'v1', prefix: ctx.prefix() });
      await expect(
        prepareLayout(connection, `${ctx.prefix()}none:`, { write: false }),
      ).rejects.toBeInstanceOf(StoreNotFoundError);
    } finally {
      await connection.close();
    }
    // The public way: a readOnly store opens and reports that it needs an upgrade; every call
    // that reads it rejects with NEEDS_UPGRADE instead of misreading v1 keys.
    const reader = await ctx.open({ readOnly: true });
    expect(await reader.healthCheck()).toMatchObject({
      status: 'unhealthy',
      needs_upgrade: true,
      layout: 'v1',
      read_only: true,
    });
    const needsUpgrade = { name: 'RedisUpgradeRequiredError', code: 'NEEDS_UPGRADE', layout: 'v1' };
    await expect(reader.loadConversation('c1')).rejects.toMatchObject(needsUpgrade);
    await expect(reader.listConversations()).rejects.toMatchObject(needsUpgrade);
    await expect(reader.getStorageStats()).rejects.toMatchObject(needsUpgrade);
    await expect(reader.storeConversation('c1', {})).rejects.toMatchObject({ code: 'READ_ONLY' });
    await reader.shutdown();
    expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual(before);
    expect(await inspectLayout(ctx.raw(), `${ctx.prefix()}none:`)).toBe('missing');
  });

  it('lets a read-only open of a v1 store read it once another process has upgraded it', async () => {
    // Until 2026-12-06 the reader kept answering needs_upgrade and NEEDS_UPGRADE until a restart.
    await writeV1Store(ctx.raw(), ctx.prefix());
    const reader = await ctx.open({ readOnly: true });
    await expect(reader.loadConversation('c1')).rejects.toMatchObject({
      code: 'NEEDS_UPGRADE',
      layout: 'v1',
    });
    await upgradeWithCrash(ctx.prefix(), 3);
    expect(await reader.healthCheck()).toMatchObject({ needs_upgrade: true, layout: 'upgrading' });
    await expect(reader.listConversations()).rejects.toMatchObject({ layout: 'upgrading' });
    await ctx.open();
    expect(await reader.healthCheck()).toMatchObject({ status: 'healthy' });
    expect(await reader.healthCheck()).not.toHaveProperty('needs_upgrade');
    await expectV1Fixture(reader);
  });

  it('lets a migration read a v1 source: opening it upgrades it, and the copy is complete', async () => {
    const sourcePrefix = `${ctx.prefix()}source:`;
    await writeV1Store(ctx.raw(), sourcePrefix);
    const source = new RedisStorage({ url: REDIS_TEST_URL, keyPrefix: sourcePrefix });
    const target = new RedisStorage({ url: REDIS_TEST_URL, keyPrefix: `${ctx.prefix()}target:` });
    try {
      const summary = await migrateStorage(source, target, { sourceId: 'v1', targetId: 'v2' });
      expect({ conflicts: summary.conflicts, differences: summary.verification?.differences }).toEqual({
        conflicts: [],
        differences: [],
      });
      expect(summary).toMatchObject({ ok: true, conflictCount: 0 });
      expect(await inspectLayout(ctx.raw(), sourcePrefix)).toBe('v2');
      await expectV1Fixture(target);
    } finally {
      await source.shutdown();
      await target.shutdown();
    }
  });

  it('indexes a moved cache entry at its own expiresAt, so listings agree with loads whatever the clocks', async () => {
    // Until 2026-12-04 the upgrade indexed it at the server's now + its remaining PX: with this
    // client's clock ten minutes ahead of the server's, k1 (60 s left) loaded live but was
    // neither listed nor counted, and a purge dropped its index entry.
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 10 * 60_000);
    try {
      await writeV1Store(ctx.raw(), ctx.prefix());
      const s = await ctx.open();
      expect(await s.loadCacheEntries(['k1', 'forever'])).toEqual([{ v: 1 }, { v: 2 }]);
      expect(await s.listCacheKeys()).toEqual(['forever', 'k1']);
      expect((await s.getStorageStats()).cache_entry_count).toBe(2);
      expect(await s.purgeExpiredCache()).toBe(0);
      expect(await s.listCacheKeys()).toEqual(['forever', 'k1']);
    } finally {
      clock.mockRestore();
    }
  });

  it('moves a cache entry whose expiresAt does not parse as expired, as loads read it', async () => {
    // Until 2026-12-04 the upgrade gave such a record (written by another program) no PX and an
    // index score of +inf: it loaded as expired but was listed and counted for ever, and its
    // value never left Redis (before that commit it kept the v1 key's remaining PX).
    await writeV1Store(ctx.raw(), ctx.prefix());
    const odd = JSON.stringify({ expiresAt: 'not a time', storedAt: '2024-01-01T00:00:00', data: { v: 3 } });
    await ctx.raw().set(`${ctx.prefix()}{k:odd}:cache`, odd, 'PX', 60_000);
    await ctx.raw().sadd(`${ctx.prefix()}{index}:cache-keys`, 'odd');
    const s = await ctx.open();
    expect(await s.loadCacheEntry('odd')).toBeNull();
    expect(await s.listCacheKeys()).toEqual(['forever', 'k1']);
    expect((await s.getStorageStats()).cache_entry_count).toBe(2);
    const oddKeys = (await keysWithPrefix(ctx.raw(), ctx.prefix())).filter((key) => key.includes('odd'));
    for (const key of oddKeys) expect([key, await ctx.raw().pttl(key)]).not.toEqual([key, -1]);
  });
});
