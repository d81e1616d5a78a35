/**
 * `tokenize` and `countTokens` (the scans every search index runs per record, with an ASCII fast
 * path) equal the general code-point loop (`forEachToken`, as `tokenizeWithSpans` reports it),
 * counted text by text, for every ASCII character, fixed tricky strings, random mixes of ASCII
 * words with accents, CJK, emoji and lone surrogates, and random code points. (The general loop
 * itself is checked against SQLite FTS5 in `tokenizer.test.ts`.)
 */
import fc from 'fast-check';
import { countTokens, type TokenCounts, tokenize, tokenizeWithSpans } from '../../src/core/index.js';

/** The general loop's tokens of `text`. */
const general = (text: string): string[] => tokenizeWithSpans(text).map((span) => span.token);

/** The reference: the general loop's tokens of each text, counted in first-seen order. */
function reference(texts: readonly string[]): TokenCounts {
  const seen = new Map<string, number>();
  const out: TokenCounts = { tokens: [], counts: [], length: 0 };
  for (const text of texts) {
    for (const token of general(text)) {
      out.length += 1;
      const index = seen.get(token);
      if (index === undefined) {
        seen.set(token, out.tokens.length);
        out.tokens.push(token);
        out.counts.push(1);
      } else out.counts[index] = (out.counts[index] as number) + 1;
    }
  }
  return out;
}

/** Checks both scans against the general loop. */
function check(texts: readonly string[]): void {
  expect(countTokens(texts)).toEqual(reference(texts));
  for (const text of texts) expect(tokenize(text)).toEqual(general(text));
}

describe('tokenize and countTokens', () => {
  it('counts as tokenize splits, for every ASCII character alone and between words', () => {
    for (let cp = 0; cp < 128; cp += 1) {
      const c = String.fromCharCode(cp);
      for (const text of [c, `Ab${c}cD`, `${c}x${c}${c}Y9${c}`])
        expect(countTokens([text])).toEqual(reference([text]));
    }
  });

  it.each([
    [['Hello, hello HELLO wOrLd', 'world hello'], { tokens: ['hello', 'world'], counts: [4, 2], length: 6 }],
    [['user_42 report.pdf café Café CAFE\u0301'], undefined],
    [['abc\u00e9def abc', 'x—y x', 'plain ascii then ÉCOLE école', '日本語 abc 日本語'], undefined],
    [['ends in accent é', 'é starts', 'a\u0301', '\u0301', 'mid\u200bword', 'emoji😀word 😀'], undefined],
    [['lone \ud800 high', 'lone \udc00 low', 'pair \ud83d\ude00 ok', ''], undefined],
    [[], { tokens: [], counts: [], length: 0 }],
    // More distinct tokens than the list scan takes, repeated before and after the switch to a map.
    [[Array.from({ length: 40 }, (_, i) => `w${i % 25} W${i % 7}`).join(' '), 'w3 W3 w24 new'], undefined],
  ])('%j', (texts, expected) => {
    check(texts);
    if (expected !== undefined) expect(countTokens(texts)).toEqual(expected);
  });

  it('equals counting tokenize on random mixes of ASCII words and other characters', () => {
    const pieces = fc.constantFrom(
      'lorem',
      'Ipsum',
      'DOLOR',
      'a1',
      '42',
      ' ',
      '.',
      '_',
      '\n',
      'é',
      'É',
      'e\u0301',
      '\u0301',
      'ß',
      'İ',
      'Σ',
      '日',
      '😀',
      '\u00a0',
      '\u200b',
      '\ud800',
      '\udfff',
      'ﬁ',
      '½',
    );
    const text = fc.array(fc.oneof(pieces, fc.string({ unit: 'grapheme', maxLength: 3 })), { maxLength: 30 });
    fc.assert(
      fc.property(
        fc.array(
          text.map((parts) => parts.join('')),
          { maxLength: 4 },
        ),
        (texts) => check(texts),
      ),
      { numRuns: 2000 },
    );
  });

  it('equals counting tokenize on random code points (lone surrogates too)', () => {
    const text = fc
      .array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x10ffff })), {
        maxLength: 40,
      })
      .map((cps) =>
        cps.map((cp) => (cp <= 0xffff ? String.fromCharCode(cp) : String.fromCodePoint(cp))).join(''),
      );
    fc.assert(
      fc.property(fc.array(text, { maxLength: 3 }), (texts) => {
        check(texts);
      }),
      { numRuns: 2000 },
    );
  });
});
