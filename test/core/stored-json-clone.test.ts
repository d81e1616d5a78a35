/** cloneStoredJson: copies of values read back, also of ones nested too deep for recursion. */
import { cloneStoredJson, type JsonObject, type JsonValue } from '../../src/core/index.js';

/** Objects and arrays alternating, `depth` levels, each object with an own `__proto__` key and a string. */
function nested(depth: number): JsonValue {
  let value: JsonValue = 'bottom';
  for (let level = 0; level < depth; level += 1) {
    if (level % 2 === 0) value = [level, value, null];
    else value = { s: `at ${level}`, next: value };
  }
  return value;
}

describe('cloneStoredJson', () => {
  it('copies a value nested 200,000 levels deep (past structuredClone) exactly, own __proto__ keys included', () => {
    // Built bottom-up by hand: an object level holds the level below as `next`.
    let value: JsonValue = 'bottom';
    for (let level = 0; level < 200_000; level += 1) {
      if (level % 2 === 0) value = [level, value];
      else {
        const object = JSON.parse(`{"__proto__": {"level": ${level}}, "next": null}`) as JsonObject;
        object.next = value;
        value = object;
      }
    }
    const copy = cloneStoredJson(value);
    // Walked without expect() per level (200,000 of them take half a minute): the first
    // difference is recorded.
    let a: JsonValue = value;
    let b: JsonValue = copy;
    let difference: string | null = null;
    for (let level = 200_000 - 1; level >= 0 && difference === null; level -= 1) {
      if (b === a) difference = `level ${level} is not a copy`;
      else if (level % 2 === 0) {
        if ((b as JsonValue[])[0] !== level)
          difference = `level ${level}: ${JSON.stringify((b as JsonValue[])[0])}`;
        a = (a as JsonValue[])[1] as JsonValue;
        b = (b as JsonValue[])[1] as JsonValue;
      } else {
        const keys = Object.keys(b as JsonObject).join();
        const own = JSON.stringify((b as JsonObject)['__proto__']);
        if (
          keys !== '__proto__,next' ||
          Object.getPrototypeOf(b) !== Object.prototype ||
          own !== `{"level":${level}}`
        )
          difference = `level ${level}: keys ${keys}, __proto__ ${own}`;
        a = (a as JsonObject).next as JsonValue;
        b = (b as JsonObject).next as JsonValue;
      }
    }
    expect(difference).toBeNull();
    expect(b).toBe('bottom');
  });

  it('copies a shallow value as structuredClone does', () => {
    const value = nested(6);
    expect(cloneStoredJson(value)).toEqual(structuredClone(value));
  });
});
