/**
 * `exceedsMaxJsonDepth` (asked of values read back, without writing them) and the write's
 * conversion (`toJsonValue`) apply one depth rule: the one refuses exactly what the other says.
 */
import { exceedsMaxJsonDepth } from '../../src/core/json-depth.js';
import { type JsonValue, MAX_JSON_DEPTH, toJsonValue, ValidationError } from '../../src/core/index.js';

/** `levels` containers nested, alternating objects and arrays, a string at the bottom. */
function nested(levels: number, objectsFirst: boolean): JsonValue {
  let value: JsonValue = 'leaf';
  for (let level = levels; level >= 1; level -= 1) {
    value = (level % 2 === 1) === objectsFirst ? { k: value } : [value];
  }
  return value;
}

const refusedByWrite = (value: JsonValue): boolean => {
  try {
    toJsonValue(value, 'value');
    return false;
  } catch (error) {
    if (error instanceof ValidationError) return true;
    throw error;
  }
};

describe('exceedsMaxJsonDepth', () => {
  it.each([1, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, MAX_JSON_DEPTH + 2, 100_000])(
    'agrees with the write at %i levels',
    (levels) => {
      for (const objectsFirst of [true, false]) {
        const value = nested(levels, objectsFirst);
        expect(exceedsMaxJsonDepth(value)).toBe(levels > MAX_JSON_DEPTH);
        if (levels < 10_000) expect(refusedByWrite(value)).toBe(levels > MAX_JSON_DEPTH);
      }
    },
  );

  it('looks at every branch, not only the first', () => {
    expect(exceedsMaxJsonDepth({ a: 1, b: [2, { c: nested(MAX_JSON_DEPTH, true) }] })).toBe(true);
    expect(exceedsMaxJsonDepth(['x', nested(MAX_JSON_DEPTH - 2, false)])).toBe(false);
    expect(exceedsMaxJsonDepth('text')).toBe(false);
  });
});
