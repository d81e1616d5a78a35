/**
 * Comparing records nested far deeper than the library writes (MAX_JSON_DEPTH), as another
 * program may leave in a store: until 2026-12-04 canonicalJson (a recursive sort, then
 * JSON.stringify) and the recursive walk for the first difference overflowed the stack, so
 * verifyMigration over such stores rejected with a bare RangeError.
 */
import { canonicalJson, type JsonValue } from '../../src/core/index.js';
import { describeDifference } from '../../src/migration/index.js';

const DEPTH = 100_000;

/** `{ "b": 2, "a": [ ... leaf ... ] }` nested {@link DEPTH} levels deep, built without recursion. */
function deep(leaf: string): JsonValue {
  let value: JsonValue = leaf;
  for (let level = 0; level < DEPTH; level += 1) value = level % 2 === 0 ? [value] : { b: 2, a: value };
  return value;
}

describe('comparing values nested 100,000 levels deep', () => {
  it('canonicalJson writes them with sorted keys', () => {
    const text = canonicalJson(deep('x'));
    expect(text.startsWith('{"a":[{"a":[')).toBe(true);
    expect(text.includes('[{"a":["x"],"b":2}],"b":2}')).toBe(true);
    expect(text.endsWith('],"b":2}],"b":2}')).toBe(true);
    expect(text.length).toBe((DEPTH / 2) * '{"a":[],"b":2}'.length + '"x"'.length);
    expect(canonicalJson({ b: [1, { d: null, c: 'é' }], a: true })).toBe(
      '{"a":true,"b":[1,{"c":"é","d":null}]}',
    );
  });

  it('describeDifference finds equal values equal and names where two differ', () => {
    expect(describeDifference(deep('x'), deep('x'))).toBeNull();
    const message = describeDifference(deep('x'), deep('y')) ?? '';
    expect(message.startsWith('at $.a[0].a[0].a[0]')).toBe(true);
    expect(message.endsWith('[0]: source "x", target "y"')).toBe(true);
    // The 100,000 steps between are counted, not shown: the message stayed ~250 KB before.
    expect(message).toContain(`…(${DEPTH - 64} levels)…`);
    expect(message.length).toBeLessThan(400);
    expect(describeDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }], c: 1 })).toBe(
      'at $.a[1].b: source 2, target 3',
    );
  });

  it('shows a long property name bounded, and a cut value whole in UTF-16', () => {
    const long = 'k'.repeat(1_000_000);
    const message = describeDifference({ [long]: 1 }, { [long]: 2 }) ?? '';
    expect(message).toBe(`at $["${'k'.repeat(256)}"… (1000000 chars)]: source 1, target 2`);
    expect(describeDifference({ [`${'k'.repeat(256)}`]: 1 }, {})).toBe(
      `at $.${'k'.repeat(256)}: source 1, target (absent)`,
    );
    const emoji = `${'x'.repeat(58)}😀😀`;
    const cut = describeDifference(emoji, 'y') ?? '';
    expect(cut).toBe(`at $: source "${'x'.repeat(58)}…, target "y"`);
  });
});
