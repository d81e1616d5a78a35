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
