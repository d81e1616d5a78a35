/** Redis key layout: prefix, hash tags (one slot per conversation / agent), escaping of braces. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { escapeKeyPart, KeyLayout } from '../../src/backends/redis/keys.js';
import { keySlot, keysWithPrefix, REDIS_TEST_URL, useRedisStore } from './helpers.js';
import { freePort, redisBinariesMissing, RedisServerProcess } from './redis-server.js';
import { describeWithService } from '../services.js';

/** An ioredis client that records the keys of every multi-key call (scripts, DEL, EXISTS). */
function recordingClient(target: Redis, groups: string[][]): Redis {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value: unknown = Reflect.get(t, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'evalsha' || prop === 'eval')
          groups.push(args.slice(2, 2 + Number(args[1])).map(String));
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

  it('puts every key of one conversation, and of one agent, in one slot chosen by the library tag', () => {
    const layout = new KeyLayout('app:');
    for (const id of ['plain', 'x{evil}y', '{tag}', 'a}b{c', '會話-ü']) {
      const keys = Object.values(layout.conversation(id));
      const slots = new Set(keys.map(keySlot));
      expect(slots.size).toBe(1);
      for (const key of keys) expect(key.startsWith(`app:{c:${escapeKeyPart(id)}}:`)).toBe(true);
      expect(new Set(Object.values(layout.agent(id)).map(keySlot)).size).toBe(1);
    }
    // User braces do not pick the slot: "x{evil}y" does not land with "{evil}"-tagged keys by design.
    expect(keySlot(layout.conversation('x{evil}y').conversation)).toBe(keySlot('{c:x%7Bevil%7Dy}'));
    // Index sets share one slot, so they can be updated together.
    expect(new Set(Object.values(layout.index).map(keySlot)).size).toBe(1);
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
      expect(await keysWithPrefix(ctx.raw(), p)).toEqual(
        [
          `${p}{c:x%7Bevil%7Dy}:conversation`,
          `${p}{c:x%7Bevil%7Dy}:raw`,
          `${p}{c:x%7Bevil%7Dy}:memories`,
          `${p}{c:x%7Bevil%7Dy}:memory-data`,
          `${p}{c:x%7Bevil%7Dy}:memory-created`,
          `${p}{c:x%7Bevil%7Dy}:chunks`,
          `${p}{a:agent%7D1}:chains`,
          `${p}{a:agent%7D1}:chain-appends`,
          `${p}{k:k%7B1%7D}:cache`,
          `${p}{s:s:1}:state`,
          `${p}{index}:conversations`,
          `${p}{index}:conversation-ids`,
          `${p}{index}:agents`,
          `${p}{index}:cache-keys`,
          `${p}{index}:state-keys`,
          `${p}{index}:layout`,
        ].sort(),
      );
      await s.deleteConversation(id);
      const left = await keysWithPrefix(ctx.raw(), p);
      expect(left.filter((k) => k.includes('{c:'))).toEqual([]);
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

  it('never uses KEYS or SCAN over the keyspace (only SSCAN on its own index sets)', () => {
    const dir = join(__dirname, '..', '..', 'src', 'backends', 'redis');
    for (const file of readdirSync(dir)) {
      const source = readFileSync(join(dir, file), 'utf8');
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
