/** Config validation before any I/O, a given client, and passwords kept out of every message. */
import { inspect } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { redactUrl } from '../../src/core/index.js';
import { BackendUnavailableError, ConfigError } from '../../src/core/index.js';
import { keysWithPrefix, REDIS_TEST_URL, useRedisStore } from './helpers.js';
import { freePort, redisBinariesMissing, RedisServerProcess } from './redis-server.js';
import { describeWithService } from '../services.js';

const PASSWORD = 's3cret-Pw_42';

/** The error `fn` throws (a failure when it does not). */
function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('redis config', () => {
  it.each([
    ['an unknown key', { urll: 'redis://x' }, 'urll'],
    ['a non-redis URL', { url: 'http://127.0.0.1:6379' }, 'url'],
    ['a URL that is not a string', { url: 42 }, 'url'],
    ['an empty prefix', { keyPrefix: '' }, 'keyPrefix'],
    ['a zero timeout', { connectTimeout: 0 }, 'connectTimeout'],
    ['a fractional timeout', { commandTimeout: 1.5 }, 'commandTimeout'],
    ['a client that is not ioredis', { client: { get: () => 1 } }, 'client'],
    ['both url and client', { url: 'redis://127.0.0.1', client: new Redis({ lazyConnect: true }) }, 'client'],
    // ioredis would make it a client option: keys under another prefix than the store's.
    ['a URL parameter ioredis is not read for', { url: 'redis://127.0.0.1:6379/0?keyPrefix=x:' }, 'url'],
  ])('refuses %s with a ConfigError naming the key, before any I/O', (_, config, key) => {
    const make = () => new RedisStorage(config as never);
    expect(make).toThrow(ConfigError);
    try {
      make();
    } catch (error) {
      expect((error as ConfigError).key).toBe(key);
    }
  });

  it('refuses every URL parameter but the ones ioredis reads, naming them and the known ones', () => {
    const error = thrownBy(
      () => new RedisStorage({ url: `redis://h/0?password=${PASSWORD}&keyPrefix=x&enableOfflineQueue=1` }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      /^Unknown parameters keyPrefix, enableOfflineQueue in redis storage config "url" \(redis:\/\/h\/0\?password=\*\*\*&.*config keys.*for its driver: db, family, username, password, tls$/,
    );
    expect(error.message).not.toContain(PASSWORD);
    const accepted = 'redis://127.0.0.1:6379?db=2&family=4&username=u&password=p&tls=RedisCloudFixed';
    expect(new RedisStorage({ url: accepted }).storageType).toBe('redis');
  });

  it('never echoes a password from a bad URL', () => {
    const error = (() => {
      try {
        new RedisStorage({ url: `ftp://user:${PASSWORD}@host` });
      } catch (e) {
        return e as Error;
      }
      return new Error('accepted');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).not.toContain(PASSWORD);
    expect(JSON.stringify(error.cause ?? null)).not.toContain(PASSWORD);
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl(`redis://:${PASSWORD}@h:1/2`)).toBe('redis://:***@h:1/2');
    expect(redactUrl(`rediss://user:${PASSWORD}@h`)).toBe('rediss://user:***@h');
    expect(redactUrl(`redis://h?password=${PASSWORD}&db=1`)).toBe('redis://h?password=***&db=1');
    expect(redactUrl('redis://h:6379')).toBe('redis://h:6379');
  });

  it('has a description and the redis storage type', () => {
    expect(typeof RedisStorage.description).toBe('string');
    expect(new RedisStorage().storageType).toBe('redis');
  });

  it('reports a missing ioredis package as BackendUnavailableError naming the install command', async () => {
    jest.resetModules();
    jest.doMock('ioredis', () => {
      throw new Error("Cannot find module 'ioredis'");
    });
    try {
      const isolated = await import('../../src/backends/redis/index.js');
      const core = await import('../../src/core/index.js');
      const error = await new isolated.RedisStorage().initialize().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(core.BackendUnavailableError);
      expect((error as Error).message).toContain('npm install ioredis');
    } finally {
      jest.dontMock('ioredis');
      jest.resetModules();
    }
  });
});

describeWithService('redis')('redis with a given client', () => {
  const ctx = useRedisStore();

  it('uses an existing ioredis client and leaves it open on shutdown', async () => {
    const client = new Redis(REDIS_TEST_URL);
    try {
      const s = new RedisStorage({ client, keyPrefix: ctx.prefix() });
      await s.initialize();
      await s.storeConversation('c1', { v: 1 });
      expect((await s.healthCheck()).redis_url).toBe('given ioredis client');
      await s.shutdown();
      expect(await client.ping()).toBe('PONG');
      const other = await ctx.open();
      expect(await other.loadConversation('c1')).toEqual({ v: 1 });
    } finally {
      client.disconnect();
    }
  });

  it("refuses a given client with ioredis's own keyPrefix, before any I/O", async () => {
    // ioredis prefixes the keys of commands, not the key names the scripts build from their
    // arguments: with one, a purge removed live cache entries from the listings and searches
    // found nothing.
    const client = new Redis(REDIS_TEST_URL, { keyPrefix: `${ctx.prefix()}outer:`, lazyConnect: true });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], {
      redisOptions: { keyPrefix: 'outer:' },
      lazyConnect: true,
    });
    try {
      for (const given of [client, cluster]) {
        const open = async () => {
          const s = new RedisStorage({ client: given, keyPrefix: 'inner:' });
          await s.initialize();
          await s.shutdown();
        };
        const error = await open().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigError);
        expect(error).toMatchObject({ key: 'client' });
        expect((error as Error).message).toContain('keyPrefix');
      }
      expect(client.status).toBe('wait');
      expect(await keysWithPrefix(ctx.raw(), ctx.prefix())).toEqual([]);
    } finally {
      client.disconnect();
      cluster.disconnect();
    }
  });
});

describeWithService('redis')('redis passwords', () => {
  let server: RedisServerProcess;

  beforeAll(async () => {
    const missing = await redisBinariesMissing();
    if (missing) throw new Error(missing);
    server = new RedisServerProcess(await freePort(), ['--requirepass', PASSWORD]);
    await server.start();
  });

  afterAll(() => server?.stop());

  const urlWith = (password: string) => `redis://:${password}@127.0.0.1:${server.port}`;

  it('keeps the password out of health and stats', async () => {
    const s = new RedisStorage({ url: urlWith(PASSWORD), keyPrefix: 'secret-test:' });
    await s.initialize();
    try {
      await s.storeConversation('c1', { v: 1 });
      const health = await s.healthCheck();
      expect(health.status).toBe('healthy');
      expect(health.redis_version).toMatch(/^\d+\./);
      expect(typeof health.used_memory_bytes).toBe('number');
      const stats = await s.getStorageStats();
      expect(stats.conversation_count).toBe(1);
      for (const report of [health, stats]) {
        expect(JSON.stringify(report)).not.toContain(PASSWORD);
        expect(JSON.stringify(report)).toContain(':***@');
      }
    } finally {
      await s.shutdown();
    }
  });

  it('keeps the password out of console.log and JSON.stringify of the store, open or not', async () => {
    // Until 2026-12-06 both showed the config's URL whole, and an open store's client options.
    const printed = (s: RedisStorage): string[] => [inspect(s, { depth: 10 }), JSON.stringify(s)];
    const client = new Redis(urlWith(PASSWORD), { lazyConnect: true });
    try {
      for (const config of [
        { url: urlWith(PASSWORD) },
        { url: `redis://127.0.0.1:${server.port}/0?password=${PASSWORD}` },
        { client },
      ]) {
        const s = new RedisStorage({ ...config, keyPrefix: 'printed-test:' });
        const seen = [...printed(s)];
        await s.initialize();
        await s.storeConversation('c1', { v: 1 });
        seen.push(...printed(s));
        expect(await s.loadConversation('c1')).toEqual({ v: 1 });
        await s.shutdown();
        seen.push(...printed(s));
        for (const shown of seen) expect(shown).not.toContain(PASSWORD);
        const view = JSON.parse(seen[1]!) as {
          storageType: string;
          config: { url: string; client?: string };
        };
        expect(view.storageType).toBe('redis');
        // A client by its class's name only (ioredis's mixin makes it `[EventEmitter]`).
        if ('client' in config) expect(view.config.client).toMatch(/^\[\w+\]$/);
        else expect(view.config.url).toBe(redactUrl(config.url));
      }
    } finally {
      client.disconnect();
    }
  });

  it('keeps the password out of connection errors', async () => {
    const wrong = `wrong-${PASSWORD}`;
    // Refused at once either way; a short connect timeout would only let a loaded machine's lag
    // turn the named reason into a connect timeout (ioredis runs a due timer before the I/O).
    const bad = new RedisStorage({ url: urlWith(wrong), connectTimeout: 5000 });
    const error = await bad.initialize().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).not.toContain(wrong);
    // The reason is named, not just "Connection is closed."
    expect((error as Error).message).toMatch(/WRONGPASS|NOAUTH/);
    const down = new RedisStorage({
      url: `redis://:${PASSWORD}@127.0.0.1:${await freePort()}`,
      connectTimeout: 5000,
    });
    const downError = await down.initialize().catch((e: unknown) => e);
    expect(downError).toBeInstanceOf(BackendUnavailableError);
    expect((downError as Error).message).not.toContain(PASSWORD);
    expect((downError as Error).message).toContain(':***@');
  });
});
