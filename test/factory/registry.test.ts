import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { ConfigError, StorageInterface } from '../../src/core/index.js';
import {
  createFileStorage,
  createSqliteStorage,
  createStorage,
  FILE_ENV,
  getAvailableBackends,
  isPackageInstalled,
  type RegisterBackendOptions,
  type StorageBackendClass,
  StorageFactory,
} from '../../src/factory/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { expectRoundTrip, thrown, useTempDir } from './support.js';

const MISSING_PACKAGE = 'connectome-storage-no-such-driver';

describe('creating the built-in backends', () => {
  const dir = useTempDir();

  it('creates a file backend by name that stores and loads', async () => {
    const storage = StorageFactory.createStorage('file', { baseDir: dir() });
    expect(storage).toBeInstanceOf(FileStorage);
    await expectRoundTrip(storage);
    expect(existsSync(join(dir(), 'conversations', 'conv-1', 'current.json'))).toBe(true);
  });

  it('accepts the reference snake_case keys', async () => {
    const storage = StorageFactory.createStorage('file', {
      base_dir: dir(),
      create_backups: false,
      max_backup_files: 2,
      pretty_print_json: false,
    });
    await expectRoundTrip(storage);
    const text = await readFile(join(dir(), 'conversations', 'conv-1', 'current.json'), 'utf8');
    expect(text.trim()).not.toContain('\n');
  });

  it('creates a SQLite backend in memory and on a file', async () => {
    await expectRoundTrip(StorageFactory.createStorage('sqlite', { dbPath: ':memory:' }));
    const dbPath = join(dir(), 'nested', 'store.db');
    const storage = StorageFactory.createStorage('sqlite', { db_path: dbPath, enable_wal_mode: false });
    expect(storage).toBeInstanceOf(SQLiteStorage);
    await expectRoundTrip(storage);
    expect(existsSync(dbPath)).toBe(true);
    const reopened = StorageFactory.createDefaultSqliteStorage(dbPath);
    await reopened.initialize();
    expect(await reopened.listConversations()).toEqual(['conv-1']);
    await reopened.shutdown();
  });

  it('creates the default file and SQLite backends', async () => {
    const file = StorageFactory.createDefaultFileStorage(dir());
    expect(file).toBeInstanceOf(FileStorage);
    await expectRoundTrip(file);
    expect(StorageFactory.createDefaultSqliteStorage()).toBeInstanceOf(SQLiteStorage);
    expect(StorageFactory.createDefaultFileStorage()).toBeInstanceOf(FileStorage);
  });

  it('treats type names case-insensitively', () => {
    expect(StorageFactory.createStorage('FILE', { baseDir: dir() })).toBeInstanceOf(FileStorage);
    expect(StorageFactory.createStorage('SQLite', { dbPath: ':memory:' })).toBeInstanceOf(SQLiteStorage);
  });

  it('lets the backend refuse an unknown config key, naming it', () => {
    const error = thrown(() => StorageFactory.createStorage('file', { baseDir: dir(), basedir: 'x' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('"basedir"');
    const sqliteError = thrown(() =>
      StorageFactory.createStorage('sqlite', { dbPath: ':memory:', walMode: true }),
    );
    expect(sqliteError).toBeInstanceOf(ConfigError);
    expect(sqliteError.message).toContain('"walMode"');
  });

  it('lets the backend refuse a bad config value', () => {
    const error = thrown(() => StorageFactory.createStorage('file', { maxBackupFiles: -1 }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('maxBackupFiles');
  });

  it.each([
    // Until 2026-12-06 these named the key as converted (`keyPrefix`, `_Proto__`), or the
    // second spelling twice.
    [{ key_prefix: 'x' }, 'key_prefix', 'Unknown file storage config key "key_prefix"'],
    [JSON.parse('{"__proto__": 5}') as object, '__proto__', 'Unknown file storage config key "__proto__"'],
    [{ max_backup_files: -1 }, 'max_backup_files', 'Invalid file storage config "max_backup_files"'],
    [{ base_dir: 'a', baseDir: 'b' }, 'baseDir', 'sets "baseDir" twice (as "base_dir" and "baseDir")'],
  ])('names a config key as the caller spelt it: %p', (config, key, message) => {
    const error = thrown(() => StorageFactory.createStorage('file', config));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect(error.message).toContain(message);
  });

  it.each([new Map([['baseDir', 'x']]), new Date(0), new Set()])(
    'refuses a config that is no plain object (%p read as no keys: the defaults, until 2026-12-06)',
    (config) => {
      const error = thrown(() => StorageFactory.createStorage('file', config));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe('file storage config must be a plain object');
    },
  );

  it('refuses an unknown type listing every registered type', () => {
    const error = thrown(() => StorageFactory.createStorage('mongo'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      "Unsupported storage type 'mongo'. Available types: file, sqlite, redis, postgres",
    );
  });
});

describe('top-level helpers', () => {
  const dir = useTempDir();

  it('createStorage defaults to the file backend', () => {
    expect(createStorage()).toBeInstanceOf(FileStorage);
    expect(createStorage('sqlite', { dbPath: ':memory:' })).toBeInstanceOf(SQLiteStorage);
  });

  it('createFileStorage and createSqliteStorage store and load', async () => {
    // Typed as the concrete classes, so their own members need no cast.
    const file: FileStorage = createFileStorage(dir());
    const sqlite: SQLiteStorage = createSqliteStorage(':memory:');
    expect(file.baseDir).toBe(dir());
    expect(sqlite).toBeInstanceOf(SQLiteStorage);
    await expectRoundTrip(createFileStorage(dir()));
    await expectRoundTrip(createSqliteStorage(join(dir(), 'helpers.db')));
    await expectRoundTrip(createSqliteStorage(':memory:'));
  });

  it('getAvailableBackends describes each built-in in one line', () => {
    const backends = getAvailableBackends();
    expect(backends).toEqual({
      file: FileStorage.description,
      sqlite: SQLiteStorage.description,
      redis: RedisStorage.description,
      postgres: PostgresStorage.description,
    });
    for (const description of Object.values(backends)) {
      expect(description).toMatch(/^\S.*\S$/);
      expect(description).not.toContain('\n');
    }
  });
});

describe('registerBackend', () => {
  it('registers a user backend that createStorage then builds', async () => {
    StorageFactory.registerBackend('memory', InMemoryStorage);
    const storage = createStorage('Memory', { label: 'test' });
    expect(storage).toBeInstanceOf(InMemoryStorage);
    expect((storage as InMemoryStorage).label).toBe('test');
    await expectRoundTrip(storage);
    expect(getAvailableBackends().memory).toBe('In-memory test storage');
    expect(thrown(() => createStorage('nope')).message).toBe(
      "Unsupported storage type 'nope'. Available types: file, sqlite, redis, postgres, memory",
    );
  });

  it('passes the backend config error through unchanged', () => {
    StorageFactory.registerBackend('memory-config', InMemoryStorage);
    const error = thrown(() => createStorage('memory-config', { lable: 'typo' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('lable');
  });

  it('stores names in lower case and takes a description', () => {
    StorageFactory.registerBackend('My_Store-2', InMemoryStorage, 'Mine:\n  kept in memory');
    expect(getAvailableBackends()['my_store-2']).toBe('Mine: kept in memory');
    expect(createStorage('MY_STORE-2')).toBeInstanceOf(InMemoryStorage);
  });

  it('describes a backend whose static description is blank as the default does', () => {
    // Until 2026-12-06 listed as "", where a blank description option is refused.
    class BlankDescription extends InMemoryStorage {
      static override description = '   ' as 'In-memory test storage';
    }
    StorageFactory.registerBackend('blank-description', BlankDescription);
    expect(getAvailableBackends()['blank-description']).toBe('blank-description storage');
  });

  it('refuses a taken name unless override is set, built-ins included', async () => {
    StorageFactory.registerBackend('taken', InMemoryStorage);
    const error = thrown(() => StorageFactory.registerBackend('TAKEN', InMemoryStorage));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      "Storage backend 'taken' is already registered; pass { override: true } to replace it",
    );
    expect(() => StorageFactory.registerBackend('file', InMemoryStorage)).toThrow(ConfigError);

    StorageFactory.registerBackend('file', InMemoryStorage, { override: true, description: 'Overridden' });
    try {
      expect(createStorage('file')).toBeInstanceOf(InMemoryStorage);
      // The typed helpers name a class, so they keep returning it.
      expect(StorageFactory.createDefaultFileStorage()).toBeInstanceOf(FileStorage);
      expect(createFileStorage()).toBeInstanceOf(FileStorage);
      expect(Object.keys(getAvailableBackends()).slice(0, 2)).toEqual(['file', 'sqlite']);
      expect(getAvailableBackends().file).toBe('Overridden');
    } finally {
      StorageFactory.registerBackend('file', FileStorage, { override: true, env: FILE_ENV });
    }
    expect(createStorage('file')).toBeInstanceOf(FileStorage);
    expect(getAvailableBackends().file).toBe(FileStorage.description);
  });

  it.each([
    ['an empty name', ''],
    ['a name with a space', 'my store'],
    ['a name starting with a digit', '2fast'],
    ['a name with a slash', 'a/b'],
    ['a name of 65 characters', 'a'.repeat(65)],
    ['a name that is not a string', 42],
  ])('refuses %s', (_, name) => {
    const error = thrown(() => StorageFactory.registerBackend(name as string, InMemoryStorage));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^Invalid storage backend name /);
  });

  class NotAStorage {
    constructor(readonly config?: object) {}
  }

  it.each([
    ['a plain object', {}, 'is not a class'],
    ['null', null, 'is not a class'],
    ['a function that is not a storage', function factory() {}, 'factory does not extend StorageInterface'],
    ['an arrow function', () => new InMemoryStorage(), 'does not extend StorageInterface'],
    ['a class that does not extend StorageInterface', NotAStorage, 'NotAStorage does not extend'],
    ['StorageInterface itself', StorageInterface, 'StorageInterface does not extend'],
  ])('refuses %s', (_, value, reason) => {
    const error = thrown(() =>
      StorageFactory.registerBackend('bad', value as unknown as StorageBackendClass),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(reason);
    expect(getAvailableBackends().bad).toBeUndefined();
  });
});

describe('registerBackend options', () => {
  it.each([
    [
      'a description that is not a string',
      { description: 123 },
      'options.description',
      "option 'description' must be a non-empty string, got 123",
    ],
    [
      'packages given as one string',
      { packages: 'left-pad' },
      'options.packages',
      'must be an array of npm package names, got "left-pad"',
    ],
    [
      'a package name with a space',
      { packages: ['left pad'] },
      'options.packages.0',
      `option 'packages.0' must be an array of npm package names, got "left pad"`,
    ],
    [
      'an environment variable without a spec',
      { env: { X: null } },
      'options.env.X',
      "option 'env.X' must be an object mapping",
    ],
    [
      'an environment variable of an unknown kind',
      { env: { X: { key: 'x', kind: 'date' } } },
      'options.env.X.kind',
      "option 'env.X.kind' must be",
    ],
    [
      'override that is not a boolean',
      { override: 'yes' },
      'options.override',
      'option \'override\' must be a boolean, got "yes"',
    ],
    [
      'an unknown option',
      { descripton: 'typo' },
      'options.descripton',
      "unknown option 'descripton' (known: description, packages, env, override)",
    ],
    [
      // Until 2026-12-06 reported as an unknown top-level option, key options.allowempty.
      'an unknown key in an environment variable spec',
      { env: { MY_VAR: { key: 'label', kind: 'string', allowempty: true } } },
      'options.env.MY_VAR.allowempty',
      "option 'env.MY_VAR' has an unknown key 'allowempty' (known: key, kind, allowEmpty)",
    ],
    ['options that are not an object', 42, 'options', 'options must be a description or an object, got 42'],
    ['options that are an array', ['x'], 'options', 'options must be a description or an object'],
  ])('refuses %s with a ConfigError naming the option', (_, options, key, message) => {
    const error = thrown(() =>
      StorageFactory.registerBackend('bad-options', InMemoryStorage, options as RegisterBackendOptions),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect(error.message).toContain("Cannot register storage backend 'bad-options': ");
    expect(error.message).toContain(message);
    expect(getAvailableBackends()['bad-options']).toBeUndefined();
  });

  it('accepts every option with valid values', () => {
    StorageFactory.registerBackend('all-options', InMemoryStorage, {
      description: 'All options',
      packages: ['dotenv', '@eslint/js'],
      env: { MY_DIR: { key: 'baseDir', kind: 'string', allowEmpty: true } },
      override: false,
    });
    expect(getAvailableBackends()['all-options']).toBe('All options');
  });
});

describe('driver availability', () => {
  it('reports whether a package is installed', () => {
    expect(isPackageInstalled('dotenv')).toBe(true);
    expect(isPackageInstalled('sqlite3')).toBe(true);
    expect(isPackageInstalled(MISSING_PACKAGE)).toBe(false);
  });

  it('lists a backend with a missing driver as unavailable; loading the driver is left to initialize()', () => {
    StorageFactory.registerBackend('needs-driver', InMemoryStorage, {
      description: 'Needs a driver',
      packages: ['dotenv', MISSING_PACKAGE],
    });
    expect(getAvailableBackends()['needs-driver']).toBe(
      `Needs a driver (unavailable: npm install ${MISSING_PACKAGE})`,
    );
    expect(createStorage('needs-driver')).toBeInstanceOf(InMemoryStorage);
  });

  it('lists sqlite as unavailable when the sqlite3 native binding does not load (installed with --ignore-scripts)', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('sqlite3', () => {
        throw new Error('Could not locate the bindings file');
      });
      const factory = await import('../../src/factory/index.js');
      expect(factory.isPackageInstalled('sqlite3')).toBe(false);
      expect(factory.getAvailableBackends().sqlite).toMatch(/\(unavailable: npm install sqlite3\)$/);
    });
    jest.dontMock('sqlite3');
    expect(getAvailableBackends().sqlite).not.toContain('unavailable');
  });
});
