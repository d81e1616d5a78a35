/** The `code` of every exported error class (stable values callers can switch on), and that the table covers them all. */
import * as api from '../../src/index.js';
import {
  BatchPartiallyAppliedError,
  BackendUnavailableError,
  ConfigError,
  CorruptChainsError,
  CorruptDataError,
  CorruptSourceError,
  EmbedderError,
  InvalidIdError,
  MarkerNotClearedError,
  MigrationAbortedError,
  MigrationRefusedError,
  NotInitializedError,
  OperationAbortedError,
  ReadOnlyError,
  RedisUpgradeRequiredError,
  SerializationError,
  StorageError,
  StoreNeedsUpgradeError,
  StoreNotFoundError,
  ValidationError,
  VectorStoreInUseError,
} from '../../src/index.js';

const EXAMPLES: [string, StorageError, string][] = [
  ['StorageError', new StorageError('x'), 'STORAGE_ERROR'],
  ['InvalidIdError', new InvalidIdError('conversationId', '../x', 'bad'), 'INVALID_ID'],
  ['ValidationError', new ValidationError('ttlSeconds', 'bad'), 'VALIDATION_ERROR'],
  ['SerializationError', new SerializationError('memory "m"', '$.a', 'NaN'), 'SERIALIZATION_ERROR'],
  ['ConfigError', new ConfigError('bad key', 'colour'), 'CONFIG_ERROR'],
  ['BackendUnavailableError', new BackendUnavailableError('down'), 'BACKEND_UNAVAILABLE'],
  ['CorruptDataError', new CorruptDataError('/tmp/x.json', 'not JSON'), 'CORRUPT_DATA'],
  [
    'CorruptChainsError',
    new CorruptChainsError('a1', 7, ['chains row 7', 'chains row 9'], 'not JSON'),
    'CORRUPT_DATA',
  ],
  [
    'CorruptSourceError',
    new CorruptSourceError(new CorruptDataError('/tmp/x.json', 'not JSON')),
    'CORRUPT_DATA',
  ],
  [
    'NotInitializedError',
    new NotInitializedError('file', 'loadConversation', 'new', './data'),
    'NOT_INITIALIZED',
  ],
  ['ReadOnlyError', new ReadOnlyError('file', 'storeConversation', './data'), 'READ_ONLY'],
  ['StoreNotFoundError', new StoreNotFoundError('file', './data', 'no such folder'), 'STORE_NOT_FOUND'],
  ['StoreNeedsUpgradeError', new StoreNeedsUpgradeError('sqlite', './x.db', 0, 2), 'NEEDS_UPGRADE'],
  [
    'RedisUpgradeRequiredError',
    new RedisUpgradeRequiredError('redis://h prefix "p:"', 'p:', 'v1'),
    'NEEDS_UPGRADE',
  ],
  ['MigrationRefusedError', new MigrationRefusedError('same-store', 'same'), 'MIGRATION_REFUSED'],
  ['MigrationAbortedError', new MigrationAbortedError(), 'MIGRATION_ABORTED'],
  [
    'MarkerNotClearedError',
    new MarkerNotClearedError('__connectome_migration__', new Error('lost')),
    'MIGRATION_MARKER_NOT_CLEARED',
  ],
  ['OperationAbortedError', new OperationAbortedError('listConversations', new Error('stop')), 'ABORTED'],
  ['EmbedderError', new EmbedderError('hashing:v1', 'timeout', 'slow'), 'EMBEDDER_ERROR'],
  [
    'BatchPartiallyAppliedError',
    new BatchPartiallyAppliedError('storeCacheEntries', 2, [0], new Error('x')),
    'BATCH_PARTIALLY_APPLIED',
  ],
  ['VectorStoreInUseError', new VectorStoreInUseError('/tmp/vectors'), 'BACKEND_UNAVAILABLE'],
];

describe('error codes', () => {
  it.each(EXAMPLES)('%s has its code and name, and extends StorageError', (name, error, code) => {
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toBeInstanceOf(Error);
  });

  it('covers every error class the package exports', () => {
    const exported = Object.entries(api)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
      .map(([name]) => name)
      .sort();
    expect(exported).toEqual(EXAMPLES.map(([name]) => name).sort());
  });
});
