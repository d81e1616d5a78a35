/**
 * A server whose `maxmemory-policy` may evict keys: `initialize()` logs one warning and the
 * health check reports it (policy read by `CONFIG GET`, else `INFO`, else not at all). Only
 * private servers: the shared one's configuration is never changed.
 */
import { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { eventText, recordingLogger } from '../support/recording-logger.js';
import { describeWithService } from '../services.js';
import { useRedisCluster } from './cluster-hooks.js';
import { freePort, quickClient, RedisServerProcess, usePrivateRedisServer } from './redis-server.js';

const EVICTING = [
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
];

/** Opens a storage with a recording logger; returns it and the `warn` events of its open. */
async function openLogged(config: ConstructorParameters<typeof RedisStorage>[0]) {
  const { logger, events } = recordingLogger();
  const storage = new RedisStorage({ keyPrefix: 'evict:', searchIndex: false, ...config, logger });
  await storage.initialize();
  return { storage, warnings: () => events.filter((e) => e.level === 'warn') };
}

describeWithService('redis')('redis eviction policy warning', () => {
  let raw: Redis | undefined;
  const opened: RedisStorage[] = [];
  const server = usePrivateRedisServer(async () => {
    raw?.disconnect();
  });
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
  });
  const open = async (config: ConstructorParameters<typeof RedisStorage>[0]) => {
    const result = await openLogged(config);
    opened.push(result.storage);
    return result;
  };

  beforeAll(async () => {
    raw = quickClient(server().url);
    await raw.connect();
  });

  it('says nothing under noeviction, and health names the policy', async () => {
    await raw!.config('SET', 'maxmemory-policy', 'noeviction');
    const { storage, warnings } = await open({ url: server().url });
    expect(warnings()).toEqual([]);
    const health = await storage.healthCheck();
    expect(health.status).toBe('healthy');
    expect(health.maxmemory_policy).toBe('noeviction');
    expect(health.warnings).toBeUndefined();
  });

  it.each(EVICTING)('warns once at initialize and in health under %s', async (policy) => {
    // The private server's own configuration (never the shared server's).
    await raw!.config('SET', 'maxmemory-policy', policy);
    const { storage, warnings } = await open({ url: server().url });
    expect(warnings()).toHaveLength(1);
    const text = eventText(warnings()[0]!);
    expect(text).toContain(`maxmemory-policy is ${policy}`);
    expect(text).toContain('noeviction');
    expect(text).toContain(`127.0.0.1:${server().port}`);
    expect(text).toContain(policy.startsWith('volatile-') ? 'cache entries' : 'index zsets and counters');
    await storage.storeConversation('c', { v: 1 });
    expect(warnings()).toHaveLength(1);
    const health = await storage.healthCheck();
    // It works now: healthy, with the warning beside.
    expect(health.status).toBe('healthy');
    expect(health.maxmemory_policy).toBe(policy);
    expect(health.warnings).toEqual([expect.stringContaining(`maxmemory-policy is ${policy}`)]);
    // The health check reads the policy live: fixed, the warning is gone.
    await raw!.config('SET', 'maxmemory-policy', 'noeviction');
    expect((await storage.healthCheck()).warnings).toBeUndefined();
  });
});

describeWithService('redis')('redis eviction policy where CONFIG is not allowed', () => {
  const servers: RedisServerProcess[] = [];
  const opened: RedisStorage[] = [];
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
    for (const s of servers.splice(0)) await s.stop();
  });
  const start = async (args: string[]) => {
    const s = new RedisServerProcess(await freePort(), ['--maxmemory-policy', 'allkeys-lru', ...args]);
    servers.push(s);
    await s.start();
    return s;
  };

  it('reads INFO memory when CONFIG is renamed away (as on managed servers)', async () => {
    const s = await start(['--rename-command', 'CONFIG', '']);
    const { storage, warnings } = await openLogged({ url: s.url });
    opened.push(storage);
    expect(warnings()).toHaveLength(1);
    expect(eventText(warnings()[0]!)).toContain('maxmemory-policy is allkeys-lru');
    expect((await storage.healthCheck()).maxmemory_policy).toBe('allkeys-lru');
  });

  it('opens and says nothing when an ACL denies both CONFIG and INFO', async () => {
    // (A server with INFO renamed away opens too: test/redis/ready-check.test.ts.)
    const acl = ['--user', 'app', 'on', '>pw', '~*', '&*', '+@all', '-config', '-info'];
    const s = await start(acl);
    const { storage, warnings } = await openLogged({ url: s.url.replace('redis://', 'redis://app:pw@') });
    opened.push(storage);
    expect(warnings()).toEqual([]);
    await storage.storeConversation('c', { v: 1 });
    expect(await storage.loadConversation('c')).toEqual({ v: 1 });
    // The PING answers: healthy, what INFO would tell unknown.
    const health = await storage.healthCheck();
    expect([health.status, health.maxmemory_policy, health.redis_version]).toEqual(['healthy', null, null]);
  });
});

describeWithService('redis')('redis eviction policy on a cluster', () => {
  // Master 0 evicts any key, master 1 keys with an expiry, master 2 nothing.
  const policies = ['allkeys-lru', 'volatile-ttl', 'noeviction'];
  let client: Cluster | undefined;
  let storage: RedisStorage | undefined;
  const processes = useRedisCluster({
    nodeArgs: (i) => ['--maxmemory-policy', policies[i]!],
    beforeStop: async () => {
      await storage?.shutdown();
      client?.disconnect();
    },
  });

  it('warns once naming every master policy that evicts, and health lists them', async () => {
    client = new Cluster(processes.nodes);
    const opened = await openLogged({ client });
    storage = opened.storage;
    expect(opened.warnings()).toHaveLength(1);
    const text = eventText(opened.warnings()[0]!);
    expect(text).toContain('maxmemory-policy is allkeys-lru');
    expect(text).toContain('maxmemory-policy is volatile-ttl');
    const health = await storage.healthCheck();
    expect(health.status).toBe('healthy');
    expect(String(health.maxmemory_policy).split(',').sort()).toEqual([...policies].sort());
    expect(health.warnings).toHaveLength(2);
  });
});

/** The `evicted_keys` count of a server's `INFO stats`. */
async function evictedKeys(raw: Redis): Promise<number> {
  return Number(/evicted_keys:(\d+)/.exec(await raw.info('stats'))?.[1] ?? NaN);
}

describeWithService('redis')('redis keys evicted under allkeys-lru', () => {
  let raw: Redis | undefined;
  const opened: RedisStorage[] = [];
  const server = usePrivateRedisServer(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
    raw?.disconnect();
  });
  const open = async (config: ConstructorParameters<typeof RedisStorage>[0] = {}) => {
    const storage = new RedisStorage({ url: server().url, keyPrefix: 'evicted:', ...config });
    opened.push(storage);
    await storage.initialize();
    return storage;
  };

  beforeAll(async () => {
    raw = quickClient(server().url);
    await raw.connect();
  });

  it('keeps working when keys are evicted: what survives loads as stored, nothing throws', async () => {
    const storage = await open();
    // 2 MB above what the server uses now: some thousand records in, it starts evicting.
    const used = Number(/used_memory:(\d+)/.exec(await raw!.info('memory'))?.[1]);
    await raw!.config('SET', 'maxmemory', String(used + 2_000_000));
    await raw!.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const pad = 'x'.repeat(1000);
    let written = 0;
    while ((await evictedKeys(raw!)) < 1000) {
      const ids = Array.from({ length: 50 }, (_, i) => `c${written + i}`);
      // Every write succeeds: Redis makes room by evicting instead of refusing it.
      await Promise.all(
        ids.map(async (id, i) => {
          await storage.storeConversation(id, { n: written + i, pad });
          await storage.storeMemory(id, 'm', { n: written + i, note: 'tea' });
          await storage.storeCacheEntry(id, { n: written + i, pad }, 3600);
        }),
      );
      written += ids.length;
      expect(written).toBeLessThan(20_000);
    }
    // No more evictions from here on: the checks below see one state.
    await raw!.config('SET', 'maxmemory', '0');
    // A surviving record loads exactly as stored; an evicted one is gone (null / empty).
    let survivor = '';
    let survivors = 0;
    for (let n = 0; n < written; n += 1) {
      const conversation = await storage.loadConversation(`c${n}`);
      if (conversation !== null) {
        expect(conversation).toEqual({ n, pad });
        survivors += 1;
        survivor = `c${n}`;
      }
      // A memory list whose data hash was evicted reads as no memories (before, it was a
      // CorruptDataError until the conversation was deleted): evicted-memories.test.ts.
      const memories = await storage.loadMemories(`c${n}`);
      const stripped = memories.map((m) => ({ n: m.n, note: m.note }));
      expect([[], [{ n, note: 'tea' }]]).toContainEqual(stripped);
      expect([null, { n, pad }]).toContainEqual(await storage.loadCacheEntry(`c${n}`));
    }
    expect(survivors).toBeGreaterThan(0);
    expect(survivors).toBeLessThan(written);
    process.stdout.write(`evicted: ${written} written, ${survivors} left\n`);
    // Listings, stats, searches and purges answer; listings may name evicted records (their
    // index zset survived) and miss surviving ones (it was evicted): see README, redis.
    const all = new Set(Array.from({ length: written }, (_, n) => `c${n}`));
    for (const id of await storage.listAllConversationIds()) expect(all.has(id)).toBe(true);
    for (const key of await storage.listCacheKeys()) expect(all.has(key)).toBe(true);
    const stats = await storage.getStorageStats();
    expect(Number.isInteger(stats.conversation_count)).toBe(true);
    expect((await storage.search({ text: 'tea' })).length).toBeGreaterThan(0);
    expect(await storage.purgeExpiredCache()).toBeGreaterThanOrEqual(0);
    // The open's own keys ({index}:layout, :buckets) are the least recently used: a new
    // instance still opens and reads what survived, a read-only one too (evicted-layout.test.ts).
    const layoutLeft = await raw!.exists('evicted:{index}:layout');
    const reader = await open({ readOnly: true });
    expect(await reader.loadConversation(survivor)).toEqual(await storage.loadConversation(survivor));
    const again = await open();
    expect(await again.loadConversation(survivor)).toEqual(await storage.loadConversation(survivor));
    expect(await again.loadConversation(survivor)).not.toBeNull();
    process.stdout.write(`evicted: layout key ${layoutLeft === 1 ? 'kept' : 'evicted'}\n`);
  });

  it('opens a store whose bucket count key was evicted, and puts it back', async () => {
    const storage = await open({ keyPrefix: 'no-count:' });
    await storage.storeConversation('c', { v: 1 });
    await storage.shutdown();
    // As an eviction would (deterministic here): the key every open reads.
    expect(await raw!.del('no-count:{index}:buckets')).toBe(1);
    const readOnly = await open({ keyPrefix: 'no-count:', readOnly: true });
    expect(await readOnly.loadConversation('c')).toEqual({ v: 1 });
    expect(await raw!.exists('no-count:{index}:buckets')).toBe(0);
    const writer = await open({ keyPrefix: 'no-count:' });
    expect(await writer.loadConversation('c')).toEqual({ v: 1 });
    expect(await raw!.get('no-count:{index}:buckets')).toBe('64');
  });
});
