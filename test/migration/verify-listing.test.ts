/** Verification compares the listings both ways: a source id the target holds but does not list is a loss. */
import { join } from 'node:path';
import fse from 'fs-extra';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { StorageInterface } from '../../src/core/index.js';
import { migrateStorage, verifyMigration } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir('connectome-verify-listing-');

const LISTINGS = ['listAllConversationIds', 'listAgents', 'listCacheKeys', 'listSystemStateKeys'];

/** `store` whose whole listings leave out `hidden` (as an index that lost an entry would). */
function hiding<T extends StorageInterface>(store: T, hidden: readonly string[]): T {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (typeof property !== 'string' || !LISTINGS.includes(property)) return method;
      return async (...args: unknown[]) => {
        const result = await method(...args);
        return Array.isArray(result) ? result.filter((id) => !hidden.includes(String(id))) : result;
      };
    },
  });
}

async function storeOfEveryKind(): Promise<InMemoryStorage> {
  const store = new InMemoryStorage();
  await store.initialize();
  for (const n of [1, 2]) {
    await store.storeConversation(`c${n}`, { n });
    await store.storeReasoningChain(`a${n}`, { n });
    await store.storeCacheEntry(`k${n}`, { n });
    await store.storeSystemState(`s${n}`, { n });
  }
  return store;
}

it('reports a source id of each kind the target holds but does not list, once each', async () => {
  const source = await storeOfEveryKind();
  const target = new InMemoryStorage();
  await target.initialize();
  expect(await migrateStorage(source, target)).toMatchObject({ ok: true });
  const result = await verifyMigration(source, hiding(target, ['c2', 'a2', 'k2', 's2']));
  expect(result.ok).toBe(false);
  expect(result.differences.map(({ kind, id }) => [kind, id])).toEqual([
    ['conversations', 'c2'],
    ['reasoning_chains', 'a2'],
    ['cache_entries', 'k2'],
    ['system_state', 's2'],
  ]);
  expect(result.differences[0]?.message).toContain('listed by the source but not by the target');
  // Records the target lacks altogether are reported by their comparison, not twice.
  await target.deleteConversation('c2');
  const lost = await verifyMigration(source, hiding(target, ['c2']));
  expect(lost.differences).toEqual([
    { kind: 'conversations', id: 'c2', message: 'conversation missing in the target' },
  ]);
});

it('copies an id holding only an empty raw-message list as nothing: neither side lists it', async () => {
  const source = new FileStorage({ baseDir: join(dir(), 'files') });
  const target = new SQLiteStorage({ dbPath: join(dir(), 'target.db') });
  try {
    await source.initialize();
    await source.storeRawMessages('emptied', ['x']);
    await source.storeRawMessages('emptied', []);
    // The file the Python reference writes for an empty list.
    const reference = { messages: [], _metadata: { message_count: 0, conversation_id: 'python-empty' } };
    await fse.outputJson(
      join(source.baseDir, 'conversations', 'python-empty', 'raw_messages.json'),
      reference,
    );
    await source.storeConversation('c', { t: 1 });
    expect(await source.listAllConversationIds()).toEqual(['c']);
    const summary = await migrateStorage(source, target, { sourceId: 'files', targetId: 'sqlite' });
    expect(summary).toMatchObject({ ok: true, verification: { differences: [] } });
    expect(await target.listAllConversationIds()).toEqual(['c']);
  } finally {
    await Promise.all([source.shutdown(), target.shutdown()]);
  }
});

it('a merge leaves the raw messages of an id the source lists but holds nothing under', async () => {
  // As a source listing an id deleted since, or holding only an empty list written before the
  // rule that such a list is no data: the copy must not write [] over the target's messages.
  const inner = new InMemoryStorage();
  await inner.initialize();
  await inner.storeConversation('c', { t: 1 });
  const source = new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property !== 'listAllConversationIds')
        return typeof value === 'function' ? value.bind(target) : value;
      return async () => ['c', 'gone'];
    },
  });
  const target = new InMemoryStorage();
  await target.initialize();
  await target.storeRawMessages('gone', ['the target’s own']);
  expect(await migrateStorage(source, target, { merge: true })).toMatchObject({ ok: true });
  expect(await target.loadRawMessages('gone')).toEqual(['the target’s own']);
});
