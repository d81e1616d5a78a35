/**
 * What `registerBackend` and `createStorage` refuse or wrap beyond the basics of
 * registry.test.ts: names that only case folding makes ASCII, empty descriptions, and a
 * registered backend whose constructor throws something untyped or returns no store.
 */
import { ConfigError, StorageError } from '../../src/core/index.js';
import { createStorage, getAvailableBackends, StorageFactory } from '../../src/factory/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { thrown } from './support.js';

describe('registered backend names and descriptions', () => {
  // toLowerCase() folds these to ASCII: until 2026-12-04 the Kelvin sign registered `key`.
  it.each([
    ['the Kelvin sign', '\u212Aey'],
    ['a dotted capital I', '\u0130nfo'],
    ['a fullwidth letter', '\uFF41bc'],
  ])('refuses a name with %s, registering nothing', (_, name) => {
    const before = Object.keys(getAvailableBackends());
    const error = thrown(() => StorageFactory.registerBackend(name, InMemoryStorage));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('name');
    expect(error.message).toContain(`Invalid storage backend name "${name}": use an ASCII letter`);
    expect(Object.keys(getAvailableBackends())).toEqual(before);
  });

  it('does not find an ASCII name under a folded spelling', () => {
    StorageFactory.registerBackend('kelvin', InMemoryStorage);
    expect(createStorage('KELVIN')).toBeInstanceOf(InMemoryStorage);
    const error = thrown(() => createStorage('\u212Aelvin'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^Unsupported storage type '\u212Aelvin'/);
  });

  // An empty description was listed as an empty line until 2026-12-04.
  it.each([
    ['an empty description', ''],
    ['a blank description', ' \n\t'],
    ['an empty description option', { description: '' }],
  ])('refuses %s with a ConfigError on options.description', (_, options) => {
    const error = thrown(() => StorageFactory.registerBackend('no-description', InMemoryStorage, options));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('options.description');
    expect(error.message).toContain("Cannot register storage backend 'no-description': ");
    expect(error.message).toContain('must be a non-empty string');
    expect(getAvailableBackends()['no-description']).toBeUndefined();
  });
});

describe('a registered backend whose constructor throws', () => {
  class Throwing extends InMemoryStorage {
    constructor(config: { url?: string } = {}) {
      super();
      throw new Error(`cannot use ${String(config.url)}`);
    }
  }

  it('reaches createStorage callers as a StorageError naming the backend, with the cause', () => {
    StorageFactory.registerBackend('throwing', Throwing);
    const error = thrown(() => createStorage('Throwing', { url: 'redis://:hunter2@h:6379/0' }));
    expect(error).toBeInstanceOf(StorageError);
    expect(error.message).toBe(
      "Storage backend 'throwing' could not be created: cannot use redis://:***@h:6379/0",
    );
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toBe('cannot use redis://:hunter2@h:6379/0');
  });

  it('passes a ConfigError it throws through unchanged', () => {
    class Refusing extends InMemoryStorage {
      constructor() {
        super();
        throw new ConfigError('label must be short', 'label');
      }
    }
    StorageFactory.registerBackend('refusing', Refusing);
    const error = thrown(() => createStorage('refusing'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('label must be short');
    expect((error as ConfigError).key).toBe('label');
  });

  it('wraps a thrown non-Error too', () => {
    class ThrowsText extends InMemoryStorage {
      constructor() {
        super();
        throw 'nope';
      }
    }
    StorageFactory.registerBackend('throws-text', ThrowsText);
    const error = thrown(() => createStorage('throws-text'));
    expect(error).toBeInstanceOf(StorageError);
    expect(error.message).toBe('Storage backend \'throws-text\' could not be created: "nope"');
    expect(error.cause).toBe('nope');
  });
});

describe('a registered backend whose constructor returns another object', () => {
  it.each([
    ['a plain object', { hello: 1 }],
    ['an array', []],
    ['a function', () => 1],
    [
      'a revoked Proxy',
      (() => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      })(),
    ],
  ])(
    'refuses a constructor that returns %s instead of a store (returned as is until 2026-12-06)',
    (_, value) => {
      class ReturnsOther extends InMemoryStorage {
        constructor() {
          super();
          return value as unknown as ReturnsOther;
        }
      }
      StorageFactory.registerBackend('returns-other', ReturnsOther, { override: true });
      const error = thrown(() => createStorage('returns-other'));
      expect(error).toBeInstanceOf(StorageError);
      expect(error).not.toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(/^Storage backend 'returns-other' could not be created: /);
    },
  );

  it('names what the constructor returned as no store', () => {
    class ReturnsObject extends InMemoryStorage {
      constructor() {
        super();
        return { hello: 1 } as unknown as ReturnsObject;
      }
    }
    StorageFactory.registerBackend('returns-object', ReturnsObject);
    expect(thrown(() => createStorage('returns-object')).message).toBe(
      "Storage backend 'returns-object' could not be created: its constructor returned an object that is not a StorageInterface",
    );
  });

  it('accepts a constructor that returns another store', () => {
    const shared = new InMemoryStorage({ label: 'shared' });
    class ReturnsShared extends InMemoryStorage {
      constructor() {
        super();
        return shared;
      }
    }
    StorageFactory.registerBackend('returns-shared', ReturnsShared);
    expect(createStorage('returns-shared')).toBe(shared);
  });
});
