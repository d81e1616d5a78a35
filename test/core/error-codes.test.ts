/** The `code` of every exported error class: stable values callers can switch on. */
import * as api from '../../src/index.js';
import {
  BackendUnavailableError,
  ConfigError,
  CorruptDataError,
  InvalidIdError,
  MigrationAbortedError,
  MigrationRefusedError,
  NotInitializedError,
  SerializationError,
  StorageError,
  ValidationError,
} from '../../src/index.js';

const EXAMPLES: [string, StorageError, string][] = [
  ['StorageError', new StorageError('x'), 'STORAGE_ERROR'],
  ['InvalidIdError', new InvalidIdError('conversationId', '../x', 'bad'), 'INVALID_ID'],
  ['ValidationError', new ValidationError('ttlSeconds', 'bad'), 'VALIDATION_ERROR'],
  ['SerializationError', new SerializationError('memory "m"', '$.a', 'NaN'), 'SERIALIZATION_ERROR'],
  ['ConfigError', new ConfigError('bad key', 'colour'), 'CONFIG_ERROR'],
  ['BackendUnavailableError', new BackendUnavailableError('down'), 'BACKEND_UNAVAILABLE'],
  ['CorruptDataError', new CorruptDataError('/tmp/x.json', 'not JSON'), 'CORRUPT_DATA'],
  ['NotInitializedError', new NotInitializedError('file', 'loadConversation', 'new'), 'NOT_INITIALIZED'],
  ['MigrationRefusedError', new MigrationRefusedError('same-store', 'same'), 'STORAGE_ERROR'],
  ['MigrationAbortedError', new MigrationAbortedError(), 'STORAGE_ERROR'],
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
