/**
 * Least-privilege Redis ACL users, as production deployments use them: keys limited to the
 * store's prefix (`~<prefix>*`) and a data app's command categories. Every call must work with
 * those rights; a command the library needs that the user lacks must fail with a typed error
 * naming the command, not a bare NOPERM. On a private server (ACL SETUSER is never sent to
 * the shared one).
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/core/index.js';
import { RedisStorage, type RedisStorageConfig } from '../../src/backends/redis/index.js';
import { migrateStorage, verifyMigration } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { populate } from '../migration/support.js';
import { exerciseEveryCall } from '../support/every-call.js';
import { usePrivateStores } from './private-stores.js';

/** ACL rules of the users tried: the usual "everything but dangerous", and category grants. */
const RULES: Record<string, string[]> = {
  'all but dangerous': ['+@all', '-@dangerous'],
  'read write scripting connection + time': ['+@read', '+@write', '+@scripting', '+@connection', '+time'],
};

describe('redis ACL users limited to the prefix', () => {
  const stores = usePrivateStores('acl');
  const users: string[] = [];

  afterEach(async () => {
    for (const user of users.splice(0)) await stores.raw().call('ACL', 'DELUSER', user);
  });

  /** A new ACL user with keys `~<prefix>*` and `rules`; returns a URL that logs in as it. */
  async function userWith(rules: string[]): Promise<string> {
    const user = `cs_acl_${randomBytes(4).toString('hex')}`;
    await stores.raw().call('ACL', 'SETUSER', user, 'on', '>pw', `~${stores.prefix()}*`, ...rules);
    users.push(user);
    const url = new URL(stores.server().url);
    url.username = user;
    url.password = 'pw';
    return url.toString();
  }

  async function openAs(url: string, config: Partial<RedisStorageConfig> = {}): Promise<RedisStorage> {
    const storage = new RedisStorage({ url, keyPrefix: stores.prefix(), ...config });
    stores.track(storage);
    await storage.initialize();
    return storage;
  }

  describe.each(Object.entries(RULES))('with %s', (_name, rules) => {
    it('opens and every call works', async () => {
      const app = await openAs(await userWith(rules), { maxReasoningChainsPerAgent: 3 });
      await exerciseEveryCall(app, async () => {
        expect((await app.getStorageStats()).conversation_count).toBe(2);
        expect(await app.listConversations()).toEqual(['c1', 'c2']);
      });
      expect(await app.listConversations()).toEqual(['c2']);
    });

    it('migrates in and out, and a readOnly open reads', async () => {
      const url = await userWith(rules);
      const app = await openAs(url);
      const source = new InMemoryStorage();
      await source.initialize();
      await populate(source);
      expect(await migrateStorage(source, app)).toMatchObject({ ok: true });
      expect(await verifyMigration(source, app)).toMatchObject({ ok: true });
      const reader = await openAs(url, { readOnly: true });
      expect(await reader.search({ text: 'time' })).not.toHaveLength(0);
      expect((await reader.getStorageStats()).conversation_count).toBe(4);
      const copy = new InMemoryStorage();
      await copy.initialize();
      expect(await migrateStorage(reader, copy)).toMatchObject({ ok: true });
      expect(await verifyMigration(reader, copy)).toMatchObject({ ok: true });
    });
  });

  /** The error `initialize()` of the user of `url` rejects with. */
  const openError = (url: string, config: Partial<RedisStorageConfig> = {}) =>
    openAs(url, config).then(
      () => new Error('opened'),
      (e: unknown) => e,
    );

  it('a writable open of a user without TIME fails naming it; a readOnly one needs no TIME', async () => {
    // The data categories alone: TIME is in @fast and @all only.
    const writer = await openAs(await userWith(['+@all', '-@dangerous']));
    await writer.storeReasoningChain('agent', { step: 'one' });
    const url = await userWith(['+@read', '+@write', '+@scripting', '+@connection']);
    const error = await openError(url);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ key: 'url' });
    expect(String(error)).toContain('may not run TIME');
    expect(String(error)).toContain('+time');
    expect(String(error)).toMatch(/cs_acl_/);
    const reader = await openAs(url, { readOnly: true });
    expect(await reader.loadReasoningChains('agent')).toEqual([expect.objectContaining({ step: 'one' })]);
  });

  it('a writable open of a user without scripting fails naming EVAL', async () => {
    const error = await openError(await userWith(['+@read', '+@write', '+@connection', '+time']));
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('may not run EVAL');
  });

  it('a key pattern that misses the prefix fails the open with a ConfigError, not as unavailable', async () => {
    const user = `cs_acl_${randomBytes(4).toString('hex')}`;
    await stores.raw().call('ACL', 'SETUSER', user, 'on', '>pw', '~elsewhere:*', '+@all', '-@dangerous');
    users.push(user);
    const url = new URL(stores.server().url);
    url.username = user;
    url.password = 'pw';
    const error = await openError(url.toString());
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('NOPERM');
    expect(String(error)).toContain('keyPrefix');
  });

  it('a command refused inside a script is a ConfigError naming the call and the id', async () => {
    const app = await openAs(await userWith(['+@all', '-@dangerous', '-del', '-unlink']));
    await app.storeConversation('c1', { t: 1 });
    const error = await app.deleteConversation('c1').then(
      () => new Error('deleted'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('"c1"');
    expect(String(error)).toContain("can't run this command");
  });

  it('a readOnly open needs only read, scripting and connection', async () => {
    const writer = await openAs(await userWith(['+@all', '-@dangerous']));
    await writer.storeMemory('c', 'm', { content: 'a fact' });
    const reader = await openAs(await userWith(['+@read', '+@scripting', '+@connection']), {
      readOnly: true,
    });
    expect(await reader.loadMemories('c')).toHaveLength(1);
    expect(await reader.search({ text: 'fact' })).toHaveLength(1);
    expect((await reader.getStorageStats()).memory_count).toBe(1);
    expect((await reader.healthCheck()).status).toBe('healthy');
  });
});
