/** Every error class carries its documented `code`, produced by a real failing call (not constructed by hand). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import {
  BackendUnavailableError,
  ConfigError,
  CorruptDataError,
  InvalidIdError,
  NotInitializedError,
  SerializationError,
  StorageError,
  ValidationError,
} from '../../src/core/index.js';
import { useTempDir } from '../support/temp-dir.js';

const tempDir = useTempDir('connectome-error-codes-');

/** The error `fn` throws or rejects with (fails the test when it succeeds). */
async function failureOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

async function openFiles(): Promise<FileStorage> {
  const storage = new FileStorage({ baseDir: tempDir() });
  await storage.initialize();
  return storage;
}

type ErrorClass = abstract new (...args: never[]) => StorageError;

const cases: Array<[string, string, ErrorClass, () => Promise<unknown>]> = [
  ['a hostile id', 'INVALID_ID', InvalidIdError, async () => (await openFiles()).loadConversation('../x')],
  [
    'a bad TTL',
    'VALIDATION_ERROR',
    ValidationError,
    async () => (await openFiles()).storeCacheEntry('k', {}, -1),
  ],
  [
    'a BigInt value',
    'SERIALIZATION_ERROR',
    SerializationError,
    async () => (await openFiles()).storeConversation('c', { n: BigInt(1) } as never),
  ],
  [
    'an unknown config key',
    'CONFIG_ERROR',
    ConfigError,
    async () => new FileStorage({ baseDir: tempDir(), colour: 'red' } as never),
  ],
  [
    'a file that does not parse',
    'CORRUPT_DATA',
    CorruptDataError,
    async () => {
      const storage = await openFiles();
      await mkdir(join(tempDir(), 'conversations', 'c'), { recursive: true });
      await writeFile(join(tempDir(), 'conversations', 'c', 'current.json'), '{"title": ');
      return storage.loadConversation('c');
    },
  ],
  [
    'a call before initialize()',
    'NOT_INITIALIZED',
    NotInitializedError,
    async () => new FileStorage({ baseDir: tempDir() }).loadConversation('c'),
  ],
  [
    'an unreachable server',
    'BACKEND_UNAVAILABLE',
    BackendUnavailableError,
    async () => new RedisStorage({ url: 'redis://127.0.0.1:1', connectTimeout: 300 }).initialize(),
  ],
];

describe('error codes', () => {
  it.each(cases)('%s: code %s', async (_what, code, errorClass, fail) => {
    const error = await failureOf(fail);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toBeInstanceOf(StorageError);
    expect({ name: (error as Error).name, code: (error as StorageError).code }).toEqual({
      name: errorClass.name,
      code,
    });
  });
});
