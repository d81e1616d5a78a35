/** Environment variables: value parsing, their mapping to each backend's config, CONNECTOME_STORAGE_READ_ONLY. */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { ConfigError, StoreNotFoundError } from '../../src/core/index.js';
import {
  configFromEnv,
  createStorageFromEnv,
  type EnvVarSpec,
  FILE_ENV,
  parseEnvValue,
  POSTGRES_ENV,
  REDIS_ENV,
  SQLITE_ENV,
  StorageFactory,
} from '../../src/factory/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { expectRoundTrip, thrown, useTempDir } from './support.js';

const BOOL: EnvVarSpec = { key: 'flag', kind: 'boolean' };
const NUM: EnvVarSpec = { key: 'n', kind: 'number' };
const INT: EnvVarSpec = { key: 'n', kind: 'integer' };
const VAR = 'CONNECTOME_STORAGE_TEST';

/** The ConfigError that parsing `value` throws, checked to name the variable. */
function refusal(value: string, spec: EnvVarSpec): ConfigError {
  const error = thrown(() => parseEnvValue(VAR, value, spec));
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).toContain(VAR);
  expect((error as ConfigError).key).toBe(VAR);
  return error as ConfigError;
}

describe('parsing environment values', () => {
  it.each(['true', 'TRUE', 'True', '1', 'yes', 'YES', 'on', 'On'])('reads %j as true', (value) => {
    expect(parseEnvValue(VAR, value, BOOL)).toBe(true);
  });

  it.each(['false', 'FALSE', '0', 'no', 'No', 'off', 'OFF'])('reads %j as false', (value) => {
    expect(parseEnvValue(VAR, value, BOOL)).toBe(false);
  });

  it.each(['maybe', 'y', 'n', 'truee', ' true', 'true ', '2', '-1', 'enabled'])(
    'refuses the boolean %j',
    (value) => {
      const error = refusal(value, BOOL);
      expect(error.message).toBe(
        `Invalid ${VAR}=${JSON.stringify(value)}: expected true/false, 1/0, yes/no or on/off`,
      );
    },
  );

  it.each([
    ['30', 30],
    ['30.0', 30],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['5.', 5],
    ['+2', 2],
    ['-1.5', -1.5],
    ['1e3', 1000],
    ['2.5E-1', 0.25],
  ])('reads the number %j', (value, expected) => {
    expect(parseEnvValue(VAR, value, NUM)).toBe(expected);
  });

  it.each(['abc', '1e', 'e3', '1.2.3', '0x10', '1,5', '1_000', 'Infinity', 'NaN', ' 30', '30s', '1e999'])(
    'refuses the number %j',
    (value) => {
      expect(refusal(value, NUM).message).toBe(`Invalid ${VAR}=${JSON.stringify(value)}: expected a number`);
    },
  );

  it.each([
    ['5', 5],
    ['0', 0],
    ['0010', 10],
  ])('reads the integer %j', (value, expected) => {
    expect(parseEnvValue(VAR, value, INT)).toBe(expected);
  });

  it.each(['5.0', '-1', '+1', '1e3', 'abc', '99999999999999999999'])('refuses the integer %j', (value) => {
    expect(refusal(value, INT).message).toContain('expected a whole number');
  });

  it.each([
    BOOL,
    NUM,
    INT,
    { key: 'baseDir', kind: 'string' } as EnvVarSpec,
    { key: 'url', kind: 'url' } as EnvVarSpec,
  ])('refuses an empty %j', (spec) => {
    expect(refusal('', spec).message).toBe(`${VAR} is set but empty; unset it to use the default`);
  });

  it('keeps an empty value where the spec allows it', () => {
    expect(parseEnvValue(VAR, '', { key: 'queryPrefix', kind: 'string', allowEmpty: true })).toBe('');
  });

  // The Redis backend refuses an empty keyPrefix: until 2026-12-04 the variable allowed one, and
  // the error was the backend's 'Too small: expected string to have >=1 characters'.
  it('refuses an empty Redis key prefix naming the variable, as the backend would', () => {
    const error = thrown(() =>
      createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'redis', CONNECTOME_STORAGE_REDIS_PREFIX: '' }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('CONNECTOME_STORAGE_REDIS_PREFIX');
    expect(error.message).toBe(
      'CONNECTOME_STORAGE_REDIS_PREFIX is set but empty; unset it to use the default',
    );
  });

  it('refuses a URL that does not parse without showing its password', () => {
    const error = refusal('postgres://app:s3cret@db:notaport/x', { key: 'url', kind: 'url' });
    expect(error.message).toBe(`Invalid ${VAR}="postgres://***": expected a URL`);
    expect(error.message).not.toContain('s3cret');
  });

  it('maps each backend variable to its config key', () => {
    const env = {
      CONNECTOME_STORAGE_BASE_DIR: '/data',
      CONNECTOME_STORAGE_CREATE_BACKUPS: 'no',
      CONNECTOME_STORAGE_PRETTY_JSON: 'Off',
      CONNECTOME_STORAGE_MAX_BACKUPS: '3',
      CONNECTOME_STORAGE_DB_PATH: '/data/x.db',
      CONNECTOME_STORAGE_WAL_MODE: 'yes',
      CONNECTOME_STORAGE_TIMEOUT: '12.5',
      CONNECTOME_STORAGE_REDIS_URL: 'redis://:pw@cache:6379',
      CONNECTOME_STORAGE_REDIS_PREFIX: 'app:',
      CONNECTOME_STORAGE_POSTGRES_URL: 'postgres://u:pw@db/x',
      CONNECTOME_STORAGE_POSTGRES_PREPARED_STATEMENTS: 'off',
      CONNECTOME_STORAGE_POSTGRES_STATS_SIZE_MAX_AGE_MS: '5000',
    };
    expect(configFromEnv(env, FILE_ENV)).toEqual({
      baseDir: '/data',
      createBackups: false,
      prettyPrintJson: false,
      maxBackupFiles: 3,
    });
    expect(configFromEnv(env, SQLITE_ENV)).toEqual({
      dbPath: '/data/x.db',
      enableWalMode: true,
      connectionTimeout: 12.5,
    });
    expect(configFromEnv(env, REDIS_ENV)).toEqual({ url: 'redis://:pw@cache:6379', keyPrefix: 'app:' });
    expect(configFromEnv(env, POSTGRES_ENV)).toEqual({
      url: 'postgres://u:pw@db/x',
      preparedStatements: false,
      statsSizeMaxAgeMillis: 5000,
    });
    expect(configFromEnv({}, FILE_ENV)).toEqual({});
  });
});

describe('createFromEnvConfig with an explicit environment', () => {
  const dir = useTempDir();

  it('defaults to the file backend', () => {
    expect(StorageFactory.createFromEnvConfig({})).toBeInstanceOf(FileStorage);
  });

  it('creates a file backend from its variables, ignoring other backends ones', async () => {
    const storage = createStorageFromEnv({
      CONNECTOME_STORAGE_TYPE: 'file',
      CONNECTOME_STORAGE_BASE_DIR: dir(),
      CONNECTOME_STORAGE_PRETTY_JSON: 'off',
      CONNECTOME_STORAGE_CREATE_BACKUPS: 'FALSE',
      CONNECTOME_STORAGE_MAX_BACKUPS: '2',
      CONNECTOME_STORAGE_WAL_MODE: 'not-a-boolean',
      CONNECTOME_STORAGE_TIMEOUT: 'abc',
    });
    expect(storage).toBeInstanceOf(FileStorage);
    await expectRoundTrip(storage);
    const text = await readFile(join(dir(), 'conversations', 'conv-1', 'current.json'), 'utf8');
    expect(text.trim()).not.toContain('\n');
  });

  it('creates a SQLite backend from its variables, on a file and in memory', async () => {
    const dbPath = join(dir(), 'env.db');
    const storage = StorageFactory.createFromEnvConfig({
      CONNECTOME_STORAGE_TYPE: 'SQLite',
      CONNECTOME_STORAGE_DB_PATH: dbPath,
      CONNECTOME_STORAGE_WAL_MODE: '0',
      CONNECTOME_STORAGE_TIMEOUT: '5.5',
      CONNECTOME_STORAGE_BASE_DIR: '',
    });
    expect(storage).toBeInstanceOf(SQLiteStorage);
    await expectRoundTrip(storage);
    expect(existsSync(dbPath)).toBe(true);
    await expectRoundTrip(
      createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'sqlite', CONNECTOME_STORAGE_DB_PATH: ':memory:' }),
    );
  });

  it('refuses an unknown type with the unsupported-type error', () => {
    const error = thrown(() => createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'mongo' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      "Unsupported storage type 'mongo'. Available types: file, sqlite, redis, postgres",
    );
  });

  it('refuses an empty type', () => {
    const error = thrown(() => createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: '' }));
    expect(error.message).toBe('CONNECTOME_STORAGE_TYPE is set but empty; unset it to use the default');
  });

  it.each([
    ['CONNECTOME_STORAGE_CREATE_BACKUPS', 'maybe', 'file'],
    ['CONNECTOME_STORAGE_MAX_BACKUPS', '5.0', 'file'],
    ['CONNECTOME_STORAGE_MAX_BACKUPS', '', 'file'],
    ['CONNECTOME_STORAGE_WAL_MODE', 'enabled', 'sqlite'],
    ['CONNECTOME_STORAGE_TIMEOUT', '1e', 'sqlite'],
  ])('refuses %s=%j naming the variable', (name, value, type) => {
    const error = thrown(() => createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: type, [name]: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(name);
    expect(error.message).toContain(name);
  });

  it('names the variable when the backend refuses its value', () => {
    const error = thrown(() =>
      createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'sqlite', CONNECTOME_STORAGE_TIMEOUT: '-1' }),
    ) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.key).toBe('CONNECTOME_STORAGE_TIMEOUT');
    expect(error.message).toMatch(/^Invalid CONNECTOME_STORAGE_TIMEOUT="-1": .*connectionTimeout/);
    expect(error.cause).toBeInstanceOf(ConfigError);
    const fileError = thrown(() => createStorageFromEnv({ CONNECTOME_STORAGE_MAX_BACKUPS: '100000' }));
    expect(fileError.message).toMatch(/^Invalid CONNECTOME_STORAGE_MAX_BACKUPS="100000": .*maxBackupFiles/);
  });

  it('reads a registered user backend variables and redacts its URL in errors', () => {
    class UrlStorage extends InMemoryStorage {
      constructor(config?: { url?: string }) {
        super();
        if (config?.url?.includes('@bad-host'))
          throw new ConfigError('Invalid memory storage config "url"', 'url');
      }
    }
    StorageFactory.registerBackend('url-store', UrlStorage, {
      env: { CONNECTOME_STORAGE_URL_STORE_URL: { key: 'url', kind: 'url' } },
    });
    const env = {
      CONNECTOME_STORAGE_TYPE: 'url-store',
      CONNECTOME_STORAGE_URL_STORE_URL: 'redis://:hunter2@ok-host',
    };
    expect(createStorageFromEnv(env)).toBeInstanceOf(UrlStorage);
    const error = thrown(() =>
      createStorageFromEnv({ ...env, CONNECTOME_STORAGE_URL_STORE_URL: 'redis://:hunter2@bad-host:6379' }),
    );
    expect(error.message).toBe(
      'Invalid CONNECTOME_STORAGE_URL_STORE_URL="redis://:***@bad-host:6379": Invalid memory storage config "url"',
    );
  });
});

describe('CONNECTOME_STORAGE_READ_ONLY', () => {
  const dir = useTempDir();

  it('sets readOnly for every built-in backend, parsed strictly', () => {
    for (const vars of [FILE_ENV, SQLITE_ENV, REDIS_ENV, POSTGRES_ENV]) {
      expect(configFromEnv({ CONNECTOME_STORAGE_READ_ONLY: 'On' }, vars)).toEqual({ readOnly: true });
      expect(configFromEnv({ CONNECTOME_STORAGE_READ_ONLY: '0' }, vars)).toEqual({ readOnly: false });
    }
    const error = thrown(() =>
      createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'sqlite', CONNECTOME_STORAGE_READ_ONLY: 'maybe' }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('CONNECTOME_STORAGE_READ_ONLY');
  });

  it('opens read-only: a missing folder is reported, not created', async () => {
    const baseDir = join(dir(), 'typo');
    const storage = createStorageFromEnv({
      CONNECTOME_STORAGE_BASE_DIR: baseDir,
      CONNECTOME_STORAGE_READ_ONLY: 'yes',
    });
    expect(storage.isReadOnly).toBe(true);
    await expect(storage.initialize()).rejects.toThrow(StoreNotFoundError);
    expect(existsSync(baseDir)).toBe(false);
  });
});

describe('CONNECTOME_STORAGE_MAX_REASONING_CHAINS_PER_AGENT', () => {
  const name = 'CONNECTOME_STORAGE_MAX_REASONING_CHAINS_PER_AGENT';

  it('sets maxReasoningChainsPerAgent for every built-in backend', () => {
    for (const vars of [FILE_ENV, SQLITE_ENV, REDIS_ENV, POSTGRES_ENV]) {
      expect(configFromEnv({ [name]: '100' }, vars)).toEqual({ maxReasoningChainsPerAgent: 100 });
    }
    const storage = createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'sqlite', [name]: '7' });
    expect(storage.maxReasoningChainsPerAgent).toBe(7);
  });

  it.each(['0', '-1', '2.5', 'ten', ''])('refuses %j, naming the variable', (value) => {
    const error = thrown(() => createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'sqlite', [name]: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(name);
  });
});
