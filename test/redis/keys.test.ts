/** Redis key layout: prefix, hash tags (one slot per conversation / agent), escaping of braces. */
import { escapeKeyPart, KeyLayout } from '../../src/backends/redis/keys.js';
import { keySlot, keysWithPrefix, useRedisStore } from './helpers.js';
import { describeWithService } from '../services.js';

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
});
