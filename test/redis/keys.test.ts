/** Redis key layout v2: prefix, bucket hash tags (a record shares its bucket's slot), escaping of braces. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { BUCKET_COUNT, bucketOf, escapeKeyPart, KeyLayout } from '../../src/backends/redis/keys.js';
import { keySlot, keysWithPrefix, REDIS_TEST_URL, useRedisStore } from './helpers.js';
import { freePort, redisBinariesMissing, RedisServerProcess } from './redis-server.js';
import { describeWithService } from '../services.js';

/**
 * An ioredis client that records the keys of every multi-key call (scripts, DEL, EXISTS). It
 * says it is a Cluster, so the library sends what it sends a cluster: on one server some calls
 * name keys of many slots at once (an open's `EXISTS` of the layout keys, batch scripts).
 */
function recordingClient(target: Redis, groups: string[][]): Redis {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (prop === 'isCluster') return true;
      const value: unknown = Reflect.get(t, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        // Keys and arguments come spread or as one array (ioredis flattens them).
        if (prop === 'evalsha' || prop === 'eval')
          groups.push(args.slice(2).flat().slice(0, Number(args[1])).map(String));
        if (prop === 'del' || prop === 'exists') groups.push(args.map(String));
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

describe('redis key layout', () => {
  it('computes Redis Cluster slots like the server (reference vectors)', () => {
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
  });

  it('escapes %, { and } so that distinct ids stay distinct and braces cannot form a tag', () => {
    expect(escapeKeyPart('a{b}c%d')).toBe('a%7Bb%7Dc%25d');
    const ids = ['a}b', 'a%7Db', 'a%257Db', '{x}', '%7Bx%7D', 'plain'];
    const escaped = ids.map(escapeKeyPart);
    expect(new Set(escaped).size).toBe(ids.length);
    for (const e of escaped) expect(e).not.toMatch(/[{}]/);
  });

  it('puts every key of a record in the slot of its bucket, chosen by the library tag', () => {
    const layout = new KeyLayout('app:');
    for (const id of ['plain', 'x{evil}y', '{tag}', 'a}b{c', '會話-ü', '{b:00}']) {
      const { bucket, ...record } = layout.conversation(id);
      const keys = [...Object.values(record), ...Object.values(bucket)];
      expect(new Set(keys.map(keySlot)).size).toBe(1);
      for (const key of Object.values(record)) expect(key).toMatch(/^app:\{b:\d\d\}:c:/);
      expect(record.conversation).toContain(`:c:${escapeKeyPart(id)}:`);
      const agent = layout.agent(id);
      const agentKeys = [agent.chains, agent.agent, agent.chainAppends, ...Object.values(agent.bucket)];
      expect(new Set(agentKeys.map(keySlot)).size).toBe(1);
      const cache = layout.cache(id);
      expect(new Set([cache.key, ...Object.values(cache.bucket)].map(keySlot)).size).toBe(1);
      const state = layout.state(id);
      expect(new Set([state.key, ...Object.values(state.bucket)].map(keySlot)).size).toBe(1);
    }
    // User braces do not pick the slot: the bucket tag comes first.
    const evil = layout.conversation('{b:00}').conversation;
    expect(keySlot(evil)).toBe(keySlot(evil.slice(0, evil.indexOf('}') + 1)));
    // Store-wide keys share one slot, read only when a store opens.
    expect(new Set(Object.values(layout.store).map(keySlot)).size).toBe(1);
  });

  it('keeps every bucket of the layout: FNV-1a over the UTF-8 bytes, ASCII ids and others alike', () => {
    // Buckets of stores already written: a changed hash would lose their records.
    const pinned: Array<[string, number, number, number]> = [
      ['conv_001', 62, 6, 3],
      ['a', 27, 3, 2],
      ['', 56, 48, 0],
      ['ключ', 28, 4, 5],
      ['emoji-😀', 28, 36, 5],
      ['mixed-é-x', 47, 23, 2],
      ['w4s-r1-123', 51, 43, 6],
      ['%{}', 11, 51, 5],
    ];
    for (const [id, c, k, k7] of pinned) {
      expect([id, bucketOf('c', id), bucketOf('k', id), bucketOf('k', id, 7)]).toEqual([id, c, k, k7]);
    }
  });

  it('spreads records over every bucket, and the buckets over the three masters of a cluster', () => {
    const counts = new Array<number>(BUCKET_COUNT).fill(0);
    for (let i = 0; i < 64_000; i += 1) counts[bucketOf('c', `conversation-${i}`)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
    // The slot ranges redis-cli gives three masters.
    const layout = new KeyLayout('connectome:');
    const masters = new Set(
      layout.buckets.map((b) => Math.min(2, Math.floor(keySlot(b.counters) / 5461.34))),
    );
    expect(masters.size).toBe(3);
  });

  describeWithService('redis')('on a server', () => {
    const ctx = useRedisStore();

    it('writes only keys under the prefix, with the documented names', async () => {
      const s = await ctx.open();
      const id = 'x{evil}y';
      await s.storeConversation(id, { a: 1 });
      await s.storeRawMessages(id, [{ m: 1 }]);
      await s.storeMemory(id, 'm1', { t: 1 });
      await s.storeChunkInfo(id, { chunks: [] });
      await s.storeReasoningChain('agent}1', { n: 1 });
      await s.storeCacheEntry('k{1}', { v: 1 }, 60);
      await s.storeSystemState('s:1', { v: 1 });
      const p = ctx.prefix();
      const layout = new KeyLayout(p);
      const c = layout.conversation(id);
      const a = layout.agent('agent}1');
      const cache = layout.cache('k{1}');
      const state = layout.state('s:1');
      const tagOf = (key: string) => key.slice(p.length, key.indexOf('}') + 1);
      expect(c.conversation).toBe(`${p}${tagOf(c.conversation)}:c:x%7Bevil%7Dy:conversation`);
      expect(a.chains).toBe(`${p}${tagOf(a.chains)}:a:agent%7D1:chains`);
      expect(cache.key).toBe(`${p}${tagOf(cache.key)}:k:k%7B1%7D:cache`);
      expect(state.key).toBe(`${p}${tagOf(state.key)}:s:s:1:state`);
      // The search index (search-lua.ts): its version, and postings and doc lists in the records' buckets.
      const isSearchKey = (key: string) =>
        /\}:q:|\}:search-(docs|nums|live|dead)$|\{index\}:search$/.test(key);
      const searchKeys = (await keysWithPrefix(ctx.raw(), p)).filter(isSearchKey);
      expect(searchKeys).toContain(`${p}{index}:search`);
      const tags = [c.conversation, a.chains, cache.key, state.key].map(tagOf);
      expect(searchKeys.filter((k) => !k.includes('{index}') && !tags.includes(tagOf(k)))).toEqual([]);
      expect((await keysWithPrefix(ctx.raw(), p)).filter((k) => !isSearchKey(k))).toEqual(
        [
          c.conversation,
          c.meta,
          c.raw,
          c.memories,
          c.memoryData,
          c.memoryCreated,
          c.chunks,
          c.bucket.conversations,
          c.bucket.conversationIds,
          c.bucket.counters,
          a.chains,
          a.agent,
          a.chainAppends,
          a.bucket.agents,
          a.bucket.counters,
          cache.key,
          cache.bucket.cacheKeys,
          cache.bucket.cacheExpiry,
          state.key,
          state.bucket.stateKeys,
          state.bucket.counters,
          layout.store.layout,
          layout.store.buckets,
          layout.store.emptyRawSwept,
        ]
          .filter((key, i, all) => all.indexOf(key) === i)
          .sort(),
      );
      await s.deleteConversation(id);
      const left = await keysWithPrefix(ctx.raw(), p);
      expect(left.filter((k) => k.includes(':c:'))).toEqual([]);
    });

    it('keeps ids that differ only by escaping apart', async () => {
      const s = await ctx.open();
      await s.storeConversation('a}b', { id: 'a}b' });
      await s.storeConversation('a%7Db', { id: 'a%7Db' });
      expect(await s.loadConversation('a}b')).toEqual({ id: 'a}b' });
      expect(await s.loadConversation('a%7Db')).toEqual({ id: 'a%7Db' });
      expect(await s.listConversations()).toEqual(['a%7Db', 'a}b']);
    });

    it('refuses a prefix written by an unknown layout version', async () => {
      await ctx.raw().set(`${ctx.prefix()}{index}:layout`, '99');
      await expect(ctx.open()).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    });
  });

  it('never uses KEYS or SCAN over the keyspace (only its own index zsets)', () => {
    const dir = join(__dirname, '..', '..', 'src', 'backends', 'redis');
    for (const file of readdirSync(dir)) {
      // `Object.keys(` lists an object's own keys (the config schema's), not the keyspace.
      const source = readFileSync(join(dir, file), 'utf8').replaceAll('Object.keys(', '');
      expect({ file, uses: source.match(/\.(keys|scan|scanStream)\(|'(KEYS|SCAN)'/gi) }).toEqual({
        file,
        uses: null,
      });
    }
  });

  describeWithService('redis')('slots, as a cluster node computes them', () => {
    const ctx = useRedisStore();
    let node: RedisServerProcess | undefined;
    let dir = '';

    beforeAll(async () => {
      const missing = await redisBinariesMissing();
      if (missing) throw new Error(missing);
      // One cluster-enabled node answers CLUSTER KEYSLOT; no cluster needs to be formed.
      dir = mkdtempSync(join(tmpdir(), 'connectome-keyslot-'));
      const port = await freePort();
      node = new RedisServerProcess(port, [
        '--cluster-enabled',
        'yes',
        '--dir',
        dir,
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
      ]);
      await node.start();
    });

    afterAll(async () => {
      await node?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps all keys of every script, DEL and EXISTS in one slot (CLUSTER KEYSLOT)', async () => {
      const groups: string[][] = [];
      const target = new Redis(REDIS_TEST_URL);
      const slots = new Redis(node!.url);
      try {
        const s = new RedisStorage({ client: recordingClient(target, groups), keyPrefix: ctx.prefix() });
        await s.initialize();
        for (const id of ['plain', 'x{evil}y', '會話']) {
          await s.storeConversation(id, { id });
          await s.storeRawMessages(id, [1]);
          await s.storeMemory(id, 'm', { id });
          await s.storeMemory(id, 'm', { again: true });
          await s.storeChunkInfo(id, { id });
          await s.storeReasoningChain(`agent-${id}`, { id });
          await s.storeCacheEntry(`cache-${id}`, { id }, 60);
          await s.storeSystemState(`state-${id}`, { id });
        }
        await s.loadMemories('plain');
        await s.listAllConversationIds();
        await s.getStorageStats();
        await s.purgeExpiredCache();
        await s.deleteConversation('x{evil}y');
        await s.deleteCacheEntry('cache-plain');
        await s.shutdown();
        const multiKey = groups.filter((g) => g.length > 1);
        expect(multiKey.length).toBeGreaterThan(20);
        for (const keys of multiKey) {
          const slotsOfKeys = await Promise.all(keys.map((key) => slots.cluster('KEYSLOT', key)));
          expect({ keys, slots: new Set(slotsOfKeys).size }).toEqual({ keys, slots: 1 });
          // The JS computation used by the layout tests agrees with the server.
          expect(slotsOfKeys).toEqual(keys.map(keySlot));
        }
      } finally {
        target.disconnect();
        slots.disconnect();
      }
    });
  });
});
