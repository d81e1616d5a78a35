/**
 * What a printed store shows of its config (`shownConfig`, used by every store's `toJSON` and
 * `util.inspect`): secrets masked wherever they sit, everything else readable, and printing
 * never throws, whatever a registered backend keeps in its config.
 */
import { inspect } from 'node:util';
import { shownConfig, withShownConfig } from '../../src/core/shown-store.js';
import { InMemoryStorage } from '../support/memory-storage.js';

describe('shownConfig', () => {
  it('masks URL passwords, secret query values and every field named like a secret', () => {
    const config = {
      url: 'postgres://app:pw1@db:5432/x?sslpassword=pw2&application_name=me',
      mirrors: ['redis://:pw3@a:6379', 'redis://b:6379'],
      password: 'pw4',
      apiToken: 'pw5',
      clientSecret: { value: 'pw6' },
      tls: { key: 'pw7', passphrase: 'pw8', ca: 'public' },
      keyPrefix: 'app:',
      absentPassword: undefined,
      max: 10,
      readOnly: false,
      limit: null,
    };
    const shown = shownConfig(config);
    expect(JSON.stringify(shown)).not.toMatch(/pw\d/);
    expect(shown).toEqual({
      url: 'postgres://app:***@db:5432/x?sslpassword=***&application_name=me',
      mirrors: ['redis://:***@a:6379', 'redis://b:6379'],
      password: '***',
      apiToken: '***',
      clientSecret: '***',
      tls: { key: '***', passphrase: '***', ca: 'public' },
      keyPrefix: 'app:',
      absentPassword: undefined,
      max: 10,
      readOnly: false,
      limit: null,
    });
    // The config itself is not changed.
    expect(config.password).toBe('pw4');
  });

  it('names objects that are not plain data by their class, and functions as such', () => {
    class Client {
      options = { password: 'pw1' };
    }
    expect(shownConfig({ client: new Client(), when: new Date(0), log: () => undefined })).toEqual({
      client: '[Client]',
      when: '[Date]',
      log: '[Function]',
    });
  });

  it('never throws: getters that throw, hostile Proxies, bigints, cycles, `__proto__` fields', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('no');
        },
      },
    );
    const config = JSON.parse('{"__proto__": {"token": "pw1"}}') as Record<string, unknown>;
    Object.defineProperty(config, 'throws', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    Object.assign(config, { cyclic, hostile, size: 10n, pending: new Promise(() => undefined) });
    const shown = shownConfig(config) as Record<string, unknown>;
    expect(JSON.stringify(shown)).not.toContain('pw1');
    expect(Object.getOwnPropertyDescriptor(shown, '__proto__')?.value).toEqual({ token: '***' });
    expect(shown).not.toHaveProperty('throws');
    expect(shown).toMatchObject({ hostile: '[Object]', size: '10', pending: '[Promise]' });
    expect(JSON.stringify(shown)).toContain('[nested too deep]');
  });

  it('gives a config object masked printed forms, its properties unchanged', () => {
    const config = Object.freeze(withShownConfig({ url: 'redis://:pw1@h', keyPrefix: 'p:' }));
    expect(inspect(config)).toBe("{ url: 'redis://:***@h', keyPrefix: 'p:' }");
    expect(JSON.stringify({ config })).toBe('{"config":{"url":"redis://:***@h","keyPrefix":"p:"}}');
    expect(config.url).toBe('redis://:pw1@h');
    expect(Object.keys(config)).toEqual(['url', 'keyPrefix']);
    expect({ ...config }).toEqual({ url: 'redis://:pw1@h', keyPrefix: 'p:' });
  });
});

describe("a registered backend's printed store", () => {
  it('shows its type, state and masked config, and nothing else it keeps', async () => {
    const s = new InMemoryStorage({ label: 'redis://:pw1@cache:6379' });
    await s.initialize();
    await s.storeSystemState('s1', { secret: 'pw2' });
    expect(inspect(s, { depth: 10 })).not.toMatch(/pw\d/);
    expect(JSON.parse(JSON.stringify(s))).toEqual({
      storageType: 'in-memory',
      initialized: true,
      config: expect.objectContaining({ label: 'redis://:***@cache:6379' }) as unknown,
    });
    expect(inspect({ store: s }, { depth: 0 })).toBe('{ store: [InMemoryStorage] }');
    await s.shutdown();
  });
});
