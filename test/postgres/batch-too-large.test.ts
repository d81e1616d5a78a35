/**
 * A batch whose items add up to a parameter text longer than a JavaScript string can be (about
 * 512 MB in V8) is refused with a ValidationError naming the batch, not the engine's bare
 * RangeError. The real overflow needs ~600 MB and many seconds to build, too heavy for CI, so
 * a record whose JSON conversion throws that same RangeError stands in for it, in the function
 * every PostgreSQL batch writer builds its parameters with (`BulkRows.params`).
 */
import { BulkRows } from '../../src/backends/postgres/bulk-rows.js';
import { type JsonValue, ValidationError } from '../../src/core/index.js';

/** A value whose text "is too long": JSON.stringify throws what an overflow throws. */
const tooLong = {
  toJSON: () => {
    throw new RangeError('Invalid string length');
  },
} as unknown as JsonValue & string;

const name = () => ({
  method: 'storeMemories',
  field: 'memories',
  count: 600,
  first: 'memory "m0" of conversation "c"',
});

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('postgres batch parameters too large for one string', () => {
  it('refuses the records text with a ValidationError naming the method, the first item and the count', () => {
    const rows = new BulkRows(2);
    rows.add({ fine: true }, 'a', 1);
    rows.add(tooLong, 'b', 2);
    const error = errorOf(() => rows.params(name)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe('memories');
    expect(error.message).toBe(
      'Invalid memories: storeMemories() of 600 items, the first memory "m0" of conversation "c", ' +
        'is too large to send as one statement (its text is longer than a JavaScript string can be: ' +
        'Invalid string length); split the batch',
    );
    expect(error.cause).toBeInstanceOf(RangeError);
  });

  it('refuses a column text the same way', () => {
    const rows = new BulkRows(2);
    rows.add({ fine: true }, 'a', tooLong);
    expect(errorOf(() => rows.params(name))).toBeInstanceOf(ValidationError);
  });

  it('lets any other error of the conversion through as it was', () => {
    const rows = new BulkRows(1);
    rows.add({ n: 1n } as unknown as JsonValue, 'a');
    expect(errorOf(() => rows.params(name))).toBeInstanceOf(TypeError);
  });
});
