/** Parsing values read back from a store: the error names where the value lives, built only when needed. */
import { CorruptDataError, parseStoredJson, parseStoredJsonObject } from '../../src/core/index.js';

describe('parseStoredJson / parseStoredJsonObject', () => {
  it('parse good values without building a lazy location', () => {
    const location = jest.fn(() => 'table t id 1');
    expect(parseStoredJson('[1,"a"]', location)).toEqual([1, 'a']);
    expect(parseStoredJsonObject('{"a":{"b":null}}', location)).toEqual({ a: { b: null } });
    expect(location).not.toHaveBeenCalled();
  });

  it.each([
    ['not JSON text', 42, /expected JSON text, found number/],
    ['NULL', null, /found NULL/],
    ['invalid JSON', '{"a":', /not valid JSON/],
  ])('report %s with the location (text or function)', (_, value, message) => {
    for (const location of ['table t id 7', () => 'table t id 7']) {
      let caught: unknown;
      try {
        parseStoredJson(value, location);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CorruptDataError);
      expect(String((caught as Error).message)).toMatch(message);
      expect(String((caught as Error).message)).toContain('table t id 7');
    }
  });

  it('refuse a JSON value that is not an object, naming the lazy location once', () => {
    const location = jest.fn(() => 'key k');
    expect(() => parseStoredJsonObject('[1]', location)).toThrow(
      /key k.*not a JSON object|not a JSON object.*key k/,
    );
    expect(location).toHaveBeenCalledTimes(1);
  });
});
