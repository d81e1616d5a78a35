/**
 * A record whose JSON text is longer than one JavaScript string (2^29 - 24 characters in V8,
 * ~512 MB) makes a backend's `JSON.stringify` throw a bare `RangeError` (every backend
 * stringifies a record whole before its write: measured on all four, see the commit). The core
 * turns it into a ValidationError naming the method and the record. Building such a record
 * takes ~3 GB and many seconds, so a user backend whose write throws what that overflow throws
 * (as is, or as the cause of its StorageError, as SQLite reports it) stands in for it.
 */
import {
  type JsonObject,
  type MemoryWrite,
  type StorageInterface,
  StorageError,
  ValidationError,
} from '../../src/core/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

const overflow = () => new RangeError('Invalid string length');

/** Writes of memories and system state overflow; `wrapped`: inside a StorageError, as a driver wrapper reports it. */
class OverflowingStorage extends InMemoryStorage {
  constructor(private readonly thrown: () => unknown) {
    super();
  }

  protected override async upsertMemory(): Promise<void> {
    throw this.thrown();
  }

  protected override async writeSystemState(): Promise<void> {
    throw this.thrown();
  }

  protected override async upsertMemoryBatch(_id: string, _writes: readonly MemoryWrite[]): Promise<void> {
    throw this.thrown();
  }
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected an error');
  return error;
}

describe('a record too large for one JavaScript string', () => {
  it('is a ValidationError naming the method and the record, the RangeError as its cause', async () => {
    const storage = new OverflowingStorage(overflow);
    await storage.initialize();
    const error = await errorOf(storage.storeMemory('c', 'm', { a: 1 }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('memoryData');
    expect(error.message).toBe(
      'Invalid memoryData: storeMemory() of memory "m" of conversation "c" is too large to store ' +
        '(its JSON text is longer than a JavaScript string can be: Invalid string length)',
    );
    expect(error.cause).toBeInstanceOf(RangeError);
    const state = await errorOf(storage.storeSystemState('s', { a: 1 } as JsonObject));
    expect(state.message).toContain('storeSystemState() of system state "s" is too large to store');
    const batch = await errorOf(storage.storeMemories('c', [{ memoryId: 'm0', data: {} }]));
    expect(batch.message).toBe(
      'Invalid memories: storeMemories() of 1 items, the first memory "m0" of conversation "c", is too ' +
        'large to store (its JSON text is longer than a JavaScript string can be: Invalid string length)',
    );
    await storage.close();
  });

  it('is found inside a backend StorageError too', async () => {
    const storage = new OverflowingStorage(
      () => new StorageError('SQLite store failed', { cause: overflow() }),
    );
    await storage.initialize();
    const error = await errorOf(storage.storeSystemState('s', { a: 1 }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('stateData');
    await storage.close();
  });

  it('leaves any other error as it was', async () => {
    const other = new RangeError('Invalid time value');
    const storage = new OverflowingStorage(() => other);
    await storage.initialize();
    expect(await errorOf(storage.storeMemory('c', 'm', { a: 1 }))).toBe(other);
    await storage.close();
  });

  /** Every write primitive overflows. */
  class EveryWriteOverflows extends InMemoryStorage {
    protected override writeConversation = () => Promise.reject(overflow());
    protected override writeRawMessages = () => Promise.reject(overflow());
    protected override upsertMemory = () => Promise.reject(overflow());
    protected override appendReasoningChain = () => Promise.reject(overflow());
    protected override writeChunkInfo = () => Promise.reject(overflow());
    protected override writeCacheRecord = () => Promise.reject(overflow());
    protected override writeSystemState = () => Promise.reject(overflow());
    protected override upsertMemoryBatch = () => Promise.reject(overflow());
    protected override addReasoningChainBatch = () => Promise.reject(overflow());
    protected override writeCacheRecordBatch = () => Promise.reject(overflow());
    protected override writeConversationBatch = () => Promise.reject(overflow());
  }

  const record = { storedAt: '2026-01-01T00:00:00', expiresAt: null, data: {} };
  it.each<[string, string, (storage: StorageInterface) => Promise<unknown>]>([
    ['data', 'storeConversation() of conversation "c"', (s) => s.storeConversation('c', {})],
    ['messages', 'storeRawMessages() of raw messages of "c"', (s) => s.storeRawMessages('c', [])],
    ['memoryData', 'storeMemory() of memory "m" of conversation "c"', (s) => s.storeMemory('c', 'm', {})],
    ['chainData', 'storeReasoningChain() of reasoning chain of "a"', (s) => s.storeReasoningChain('a', {})],
    ['chunkData', 'storeChunkInfo() of chunk info of "c"', (s) => s.storeChunkInfo('c', {})],
    ['cacheData', 'storeCacheEntry() of cache entry "k"', (s) => s.storeCacheEntry('k', {})],
    ['record', 'storeCacheRecord() of cache entry "k"', (s) => s.storeCacheRecord('k', record)],
    ['stateData', 'storeSystemState() of system state "s"', (s) => s.storeSystemState('s', {})],
    [
      'memories',
      'storeMemories() of 2 items, the first memory "m0" of conversation "c",',
      (s) =>
        s.storeMemories('c', [
          { memoryId: 'm0', data: {} },
          { memoryId: 'm1', data: {} },
        ]),
    ],
    [
      'chains',
      'appendReasoningChains() of 2 items, the first chain of agent "a",',
      (s) => s.appendReasoningChains('a', [{}, {}]),
    ],
    [
      'entries',
      'storeCacheEntries() of 1 items, the first key "k0",',
      (s) => s.storeCacheEntries([{ key: 'k0', data: {} }]),
    ],
    [
      'records',
      'storeCacheRecords() of 1 items, the first key "k0",',
      (s) => s.storeCacheRecords([{ key: 'k0', ...record }]),
    ],
    [
      'items',
      'storeConversationBatch() of 2 items, the first conversation "c0",',
      (s) => s.storeConversationBatch([{ conversationId: 'c0', conversation: {} }, { conversationId: 'c1' }]),
    ],
  ])('names the record of each write: %s, %s', async (field, what, write) => {
    const storage = new EveryWriteOverflows();
    await storage.initialize();
    const error = await errorOf(write(storage));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(error.message).toBe(
      `Invalid ${field}: ${what} is too large to store ` +
        '(its JSON text is longer than a JavaScript string can be: Invalid string length)',
    );
    await storage.close();
  });
});
