/** Code point order (D9), checked against a reference that compares code points one by one. */
import fc from 'fast-check';
import { compareCodePoints, sortedByCodePoint, sortInCodePointOrder } from '../../src/core/index.js';

/** The reference: compare the strings' code point arrays. */
function referenceCompare(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

describe('code point order', () => {
  it('puts characters above U+FFFF after U+E000-U+FFFF, unlike the default sort', () => {
    const ids = ['😀', '\uff01', 'a', '\ue000', 'z'];
    expect([...ids].sort()).toEqual(['a', 'z', '😀', '\ue000', '\uff01']);
    expect(sortedByCodePoint(ids)).toEqual(['a', 'z', '\ue000', '\uff01', '😀']);
  });

  it('re-sorts ids that are ascending by UTF-16 code unit but not by code point', () => {
    const byCodeUnit = ['a', 'z', '😀', '\ue000', '\uff01'];
    expect(sortedByCodePoint(byCodeUnit)).toEqual(['a', 'z', '\ue000', '\uff01', '😀']);
  });

  it('drops duplicates and orders prefixes first', () => {
    expect(sortedByCodePoint(['ab', 'a', 'ab', ''])).toEqual(['', 'a', 'ab']);
  });

  it('agrees in sign with a code point by code point comparison on any well-formed strings', () => {
    const text = fc.string({ unit: 'grapheme-composite', maxLength: 6 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(referenceCompare(a, b)));
      }),
      { seed: 20261130, numRuns: 2000 },
    );
  });

  it('sorts ids without a code unit from U+D800 up (the engine comparison) as the reference does', () => {
    // Units below U+D800 only, out of order and with duplicates: the path of the default sort.
    const id = fc.string({ unit: fc.integer({ min: 0, max: 0xd7ff }).map((u) => String.fromCharCode(u)) });
    fc.assert(
      fc.property(fc.array(id, { maxLength: 40 }), (list) => {
        const shuffled = [...list, ...list.slice(0, 5)].reverse();
        const expected = [...new Set(list)].sort(referenceCompare);
        expect(sortedByCodePoint(shuffled)).toEqual(expected);
        expect(sortInCodePointOrder([...new Set(shuffled)])).toEqual(expected);
      }),
      { seed: 20261201, numRuns: 500 },
    );
  });

  it('sorts in place, with the comparator when one id holds a unit from U+D800 up', () => {
    const ids = ['\uff01', 'b', '😀', 'a', '\ue000'];
    expect(sortInCodePointOrder(ids)).toBe(ids);
    expect(ids).toEqual(['a', 'b', '\ue000', '\uff01', '😀']);
  });

  it('sorts the same way as UTF-8 bytes', () => {
    const ids = fc.array(fc.string({ unit: 'binary', maxLength: 5 }), { maxLength: 20 });
    fc.assert(
      fc.property(ids, (list) => {
        const wellFormed = list.filter((s) => s.isWellFormed());
        const byBytes = [...new Set(wellFormed)].sort((a, b) =>
          Buffer.compare(Buffer.from(a), Buffer.from(b)),
        );
        expect(sortedByCodePoint(wellFormed)).toEqual(byBytes);
        // Already in UTF-16 order (what a store's native order might look like) or in the answer's.
        expect(sortedByCodePoint([...new Set(wellFormed)].sort())).toEqual(byBytes);
        expect(sortedByCodePoint(byBytes)).toEqual(byBytes);
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});
