/**
 * The factory's public functions, given arguments of the wrong type or with hostile behaviour
 * (Proxies and getters that throw), throw only StorageErrors (ConfigError, with the cause).
 */
import {
  ConfigError,
  createFileStorage,
  createSqliteStorage,
  createStorage,
  createStorageFromEnv,
  getAvailableBackends,
  StorageError,
  StorageFactory,
} from '../../src/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};

function hostileValues(): Record<string, unknown> {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  return {
    number: 42,
    symbol: Symbol('x'),
    'null-prototype object': Object.create(null) as unknown,
    'throwing toString': { toString: fail, valueOf: fail },
    'throwing getter': Object.defineProperty({}, 'baseDir', { get: fail, enumerable: true }),
    'Proxy with throwing traps': new Proxy(
      {},
      { get: fail, ownKeys: fail, getOwnPropertyDescriptor: fail, has: fail },
    ),
    'revoked Proxy': revoked,
    array: ['file'],
  };
}

const CALLS: Record<string, (bad: unknown) => unknown> = {
  'createStorage(type)': (bad) => createStorage(bad as never),
  ...Object.fromEntries(
    ['file', 'sqlite', 'redis', 'postgres'].map((type) => [
      `createStorage('${type}', config)`,
      (bad: unknown) => createStorage(type, bad as never),
    ]),
  ),
  'createFileStorage(baseDir)': (bad) => createFileStorage(bad as never),
  'createSqliteStorage(dbPath)': (bad) => createSqliteStorage(bad as never),
  'createStorageFromEnv(env)': (bad) => createStorageFromEnv(bad as never),
  'registerBackend(name)': (bad) => StorageFactory.registerBackend(bad as never, class {} as never),
  'registerBackend(name, class, options)': (bad) =>
    StorageFactory.registerBackend('hostile-options', InMemoryStorage, bad as never),
};

it.each(Object.entries(CALLS))('%s throws only StorageErrors for hostile arguments', (_, call) => {
  const escaped: string[] = [];
  for (const [label, bad] of Object.entries(hostileValues())) {
    try {
      call(bad);
    } catch (error) {
      if (!(error instanceof StorageError)) escaped.push(`${label}: ${String((error as Error).message)}`);
    }
  }
  expect(escaped).toEqual([]);
});

class ThrowingDescription extends InMemoryStorage {}
Object.defineProperty(ThrowingDescription, 'description', { get: fail });
const { proxy: revokedClass, revoke: revokeClass } = Proxy.revocable(InMemoryStorage, {});
revokeClass();

it.each([
  // Until 2026-12-06 the getter's own Error escaped.
  [
    'a static description getter that throws',
    ThrowingDescription,
    'BackendClass.description',
    'its static description',
  ],
  ['a Proxy whose get trap throws', new Proxy(InMemoryStorage, { get: fail }), 'BackendClass', 'its class'],
  ['a revoked Proxy', revokedClass, 'BackendClass', 'its class'],
])(
  'registerBackend refuses a class with %s as a ConfigError with the cause, registering nothing',
  (_, cls, key, what) => {
    const before = getAvailableBackends();
    const error: unknown = (() => {
      try {
        return StorageFactory.registerBackend('hostile-class', cls as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      key,
      message: `Cannot register storage backend 'hostile-class': ${what} could not be read`,
    });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(getAvailableBackends()).toEqual(before);
  },
);

it('reports a config getter that throws as a ConfigError with the cause', () => {
  const config = Object.defineProperty({}, 'baseDir', { get: fail, enumerable: true });
  const error: unknown = (() => {
    try {
      return createStorage('file', config as never);
    } catch (e) {
      return e;
    }
  })();
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as Error).message).toContain('file storage config could not be read');
  expect((error as Error).cause).toBe(boom);
});

it.each([
  // A TypeError from toLowerCase(), which escaped as it was.
  ['CONNECTOME_SEMANTIC', true],
  // A ConfigError saying "a getter or Proxy in it threw", naming no variable.
  ['CONNECTOME_STORAGE_READ_ONLY', true],
  // Taken as 3 without being parsed as text.
  ['CONNECTOME_STORAGE_MAX_BACKUPS', 3],
  ['CONNECTOME_STORAGE_TYPE', 5],
])('createStorageFromEnv refuses %s set to a %p that is not text, naming the variable', (name, value) => {
  const error = (() => {
    try {
      return createStorageFromEnv({ [name]: value } as never);
    } catch (e) {
      return e;
    }
  })();
  expect(error).toBeInstanceOf(ConfigError);
  expect(error).toMatchObject({ key: name });
  expect((error as Error).message).toMatch(
    new RegExp(`^${name} must be a string, as environment variables are`),
  );
});

it.each(['CONNECTOME_STORAGE_TYPE', 'CONNECTOME_SEMANTIC'])(
  'createStorageFromEnv reports a getter on %s that throws as a ConfigError',
  (name) => {
    // The semantic variables' getter came out as its own Error until 2026-12-06.
    const env = Object.defineProperty({}, name, {
      get: () => {
        throw new Error('boom');
      },
      enumerable: true,
    });
    expect(() => createStorageFromEnv(env as never)).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        message: 'The environment could not be read: a getter or Proxy in it threw',
      }) as never,
    );
  },
);

it.each([null, 'file', 42, ['CONNECTOME_STORAGE_TYPE=sqlite']])(
  'createStorageFromEnv(%p) is a ConfigError on env, not a default file store',
  (env) => {
    expect(() => createStorageFromEnv(env as never)).toThrow(
      expect.objectContaining({ name: 'ConfigError', key: 'env' }) as never,
    );
  },
);
