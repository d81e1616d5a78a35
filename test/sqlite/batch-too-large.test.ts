/**
 * A cache batch whose records add up to more than one JavaScript string holds (about 512 MB in
 * V8) is refused with a ValidationError naming the batch, not the engine's bare RangeError. The
 * real overflow needs ~600 MB and many seconds to build, too heavy for CI, so a record whose
 * JSON conversion throws that same RangeError stands in for it, in the function that builds
 * the batch statement's parameter (`cacheBatchJson`, what `storeCacheEntries` runs).
 */
import { cacheBatchJson } from '../../src/backends/sqlite/batches.js';
import { chainBatchJson } from '../../src/backends/sqlite/chains.js';
import { fastText } from '../../src/backends/sqlite/fast-writes.js';
import { newMemoryRowsJson } from '../../src/backends/sqlite/memory-batch.js';
import { ValidationError } from '../../src/core/index.js';

/** A value whose text "is too long": JSON.stringify throws what an overflow throws. */
const tooLong = {
  toJSON: () => {
    throw new RangeError('Invalid string length');
  },
} as unknown as string;

describe('sqlite cache batch too large for one string', () => {
  it('is a ValidationError naming the method, the first key and the count', () => {
    const writes = [
      { key: 'k0', record: { data: { v: 0 }, storedAt: '2025-01-01T00:00:00Z', expiresAt: null } },
      { key: 'k1', record: { data: { v: 1 }, storedAt: tooLong, expiresAt: null } },
    ];
    let error: unknown;
    try {
      cacheBatchJson('storeCacheEntries', writes);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('entries');
    expect((error as Error).message).toBe(
      'Invalid entries: storeCacheEntries() of 2 items, the first key "k0", is too large to send as ' +
        'one statement (its text is longer than a JavaScript string can be: Invalid string length); ' +
        'split the batch',
    );
  });

  it('builds the parameter of a batch that fits', () => {
    const record = { data: { v: 0 }, storedAt: 's', expiresAt: null };
    expect(JSON.parse(cacheBatchJson('storeCacheRecords', [{ key: 'k', record }]))).toEqual([
      ['k', '{"v":0}', 's', null],
    ]);
  });

  // Memory and chain batches send their rows in one parameter too (storeMemories'
  // new rows, storeConversationBatch's, appendReasoningChains'): before, the RangeError became
  // a StorageError with the bare engine text, after the transaction had begun.
  it('refuses the new rows of a memory batch the same way', () => {
    const name = () => ({
      method: 'storeMemories',
      field: 'memories',
      count: 2,
      first: 'memory "m0" of conversation "c"',
    });
    const error = errorOf(() =>
      newMemoryRowsJson(name, [
        ['m0', '{}', 't'],
        ['m1', '{}', tooLong],
      ]),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(
      'Invalid memories: storeMemories() of 2 items, the first memory "m0" of conversation "c", is too ' +
        'large to send as one statement (its text is longer than a JavaScript string can be: Invalid ' +
        'string length); split the batch',
    );
    expect(JSON.parse(newMemoryRowsJson(name, [['m0', '{}', 't']]))).toEqual([['m0', '{}', 't']]);
  });

  it('refuses the rows of a chain batch the same way', () => {
    const error = errorOf(() =>
      chainBatchJson('a', [
        { json: '{}', timestamp: 't' },
        { json: '{}', timestamp: tooLong },
      ]),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('chains');
    expect((error as Error).message).toContain(
      'appendReasoningChains() of 2 items, the first chain of agent "a"',
    );
    expect(JSON.parse(chainBatchJson('a', [{ json: '{}', timestamp: 't' }]))).toEqual([['{}', 't']]);
  });

  // The one-statement batches' texts carry each row's entry body too (index on), and a memory
  // batch's rows all together: one too long for a string makes the fast path decline, and the
  // general path sends its own texts or refuses the batch as above. Until 2026-12-06 the fast
  // path refused it, at about half the size the general path takes (checked once end to end
  // with two 140M-character memories, index on: stored; too heavy for CI).
  it('lets the fast paths decline a text too long for a string, and nothing else', () => {
    expect(
      fastText(() =>
        JSON.stringify([
          ['m0', '{}', 't', 'body'],
          ['m1', '{}', tooLong],
        ]),
      ),
    ).toBeUndefined();
    expect(fastText(() => JSON.stringify([['m0', '{}', 't', 'body']]))).toBe('[["m0","{}","t","body"]]');
    const other = new TypeError('not an overflow');
    expect(
      errorOf(() =>
        fastText(() =>
          JSON.stringify([
            {
              toJSON: () => {
                throw other;
              },
            },
          ]),
        ),
      ),
    ).toBe(other);
  });
});

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
