/**
 * The commands an open and a first script call send, counted by the server (`INFO
 * commandstats` of a private `redis-server`, which only this file uses): a new store, a
 * re-open (writable, read-only) and the first `storeMemories` of a server, of a second
 * connection and after `SCRIPT FLUSH`; and that a new store is what it was (keys, an empty
 * complete index, nothing to sweep).
 */
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { searchMarkerKey, SEARCH_INDEX_VERSION } from '../../src/backends/redis/search-state.js';
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { usePrivateStores } from './private-stores.js';
import { writeV1Store } from './v1-store.js';

/** Commands of the connection's own setup (ready check, name): not the store's. */
const SETUP = new Set(['info', 'hello', 'client|setname', 'quit']);

/** Calls per command (`calls` includes `failed_calls`, e.g. an `EVALSHA` answered `NOSCRIPT`). */
type Counts = Record<string, number>;

describeWithService('redis')('redis open round trips', () => {
  const { raw, prefix, open } = usePrivateStores('ort');

  async function commandStats(): Promise<{ calls: Counts; failed: Counts }> {
    const calls: Counts = {};
    const failed: Counts = {};
    const text = await raw().info('commandstats');
    for (const [, name, n, f] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),.*?failed_calls=(\d+)/gm)) {
      calls[name!] = Number(n);
      failed[name!] = Number(f);
    }
    return { calls, failed };
  }

  /** The commands (but setup ones and this file's `INFO`) that `action` made the server run. */
  async function counted(action: () => Promise<unknown>): Promise<{ calls: Counts; failed: Counts }> {
    const before = await commandStats();
    await action();
    const after = await commandStats();
    const diff = (a: Counts, b: Counts): Counts =>
      Object.fromEntries(
        Object.keys(b)
          .filter((name) => !SETUP.has(name) && b[name]! > (a[name] ?? 0))
          .map((name) => [name, b[name]! - (a[name] ?? 0)]),
      );
    return { calls: diff(before.calls, after.calls), failed: diff(before.failed, after.failed) };
  }

  /** A storage opened (and shut down after the test) under this test's prefix. */
  const opened = (config: Parameters<typeof open>[0] = {}) => {
    let storage: RedisStorage | undefined;
    return {
      run: async () => {
        storage = await open(config);
      },
      get: () => storage!,
    };
  };

  // A writable open also runs TIME in a script (the ACL check of acl-check.ts), sent alongside
  // the first MGET (not after it).
  const clock = { eval: 1, time: 1 };
  it.each([
    [true, { mget: 2, exists: 1, set: 4, ...clock }, { mget: 1, hget: 64, ...clock }],
    [false, { mget: 2, exists: 1, set: 3, ...clock }, { mget: 1, ...clock }],
  ])(
    'a new store (searchIndex %s): one EXISTS, the store keys set together; a re-open: one MGET',
    async (searchIndex, fresh, again) => {
      const first = opened({ searchIndex });
      // Before: 71 EXISTS, 64 ZRANGEBYLEX of the sweep of an empty store, 64 HGET (index on).
      expect(await counted(first.run)).toEqual({ calls: fresh, failed: {} });
      const keys = new KeyLayout(prefix());
      expect(await raw().mget(keys.store.layout, keys.store.buckets, keys.store.emptyRawSwept)).toEqual([
        '2',
        '64',
        '1',
      ]);
      expect(await raw().get(searchMarkerKey(keys))).toBe(searchIndex ? SEARCH_INDEX_VERSION : null);
      await first.get().storeConversation('c', { text: 'alpha beta' });
      const hits = await first.get().search({ text: 'alpha', kinds: ['conversations'] });
      expect(hits.map((hit) => ('conversationId' in hit ? hit.conversationId : null))).toEqual(['c']);

      // The stale marks of the index (64 HGET, one round trip) are still read at a writable re-open.
      expect(await counted(opened({ searchIndex }).run)).toEqual({ calls: again, failed: {} });
      // Read-only: the layout, the bucket count and the sweep marker in one MGET (before: 3 GET).
      expect(await counted(opened({ searchIndex, readOnly: true }).run)).toEqual({
        calls: { mget: 1 },
        failed: {},
      });
    },
  );

  it('a prefix without its layout key: EXISTS of all its keys, then of the older ones, then which (for the error)', async () => {
    const keys = new KeyLayout(prefix());
    await writeV1Store(raw(), prefix());
    expect(await raw().del(keys.store.layout)).toBe(1);
    const refused = await counted(() => open({ readOnly: true }).catch((e: unknown) => e));
    // One EXISTS of all 71 keys, one of the 6 older ones, then one each of those 6.
    expect(refused.calls).toEqual({ mget: 1, exists: 8 });
    const error = await open({ readOnly: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(JSON.stringify(`${prefix()}{index}:conversations`));
  });

  it('a v2 store that lost its layout key: two EXISTS (all its keys, the older ones)', async () => {
    const writer = await open();
    await writer.storeConversation('c', { v: 1 });
    const keys = new KeyLayout(prefix());
    expect(await raw().del(keys.store.layout)).toBe(1);
    const readOnly = opened({ readOnly: true });
    expect(await counted(readOnly.run)).toEqual({ calls: { mget: 1, exists: 2 }, failed: {} });
    expect(await readOnly.get().loadConversation('c')).toEqual({ v: 1 });
    expect(await raw().exists(keys.store.layout)).toBe(0);
  });

  it('a first script call: EVALSHA then EVAL once per server, not per connection; again after SCRIPT FLUSH', async () => {
    const memories = (id: string) => [
      { memoryId: `${id}1`, data: { note: 'one' } },
      { memoryId: `${id}2`, data: { note: 'two' } },
    ];
    const script = (counts: { calls: Counts; failed: Counts }) => ({
      evalsha: counts.calls.evalsha,
      eval: counts.calls.eval,
      noscript: counts.failed.evalsha,
    });
    await raw().script('FLUSH');
    const first = await open({ searchIndex: false });
    // The store's batch script is new to the server: NOSCRIPT, then EVAL (two round trips).
    expect(script(await counted(() => first.storeMemories('c', memories('a'))))).toEqual({
      evalsha: 1,
      eval: 1,
      noscript: 1,
    });
    expect(script(await counted(() => first.storeMemories('c', memories('b'))))).toEqual({
      evalsha: 1,
      eval: undefined,
      noscript: undefined,
    });
    // Another connection (as another process) finds it cached: one round trip from its first call.
    const second = await open({ searchIndex: false });
    expect(script(await counted(() => second.storeMemories('d', memories('a'))))).toEqual({
      evalsha: 1,
      eval: undefined,
      noscript: undefined,
    });
    // An emptied script cache (SCRIPT FLUSH, a restart) is met by the fallback again.
    await raw().script('FLUSH');
    expect(script(await counted(() => second.storeMemories('d', memories('b'))))).toEqual({
      evalsha: 1,
      eval: 1,
      noscript: 1,
    });
    expect((await second.loadMemories('d')).map((m) => m.memory_id)).toEqual(['a1', 'a2', 'b1', 'b2']);
  });
});
