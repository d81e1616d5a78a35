/**
 * The one tokenizer every backend uses: SQLite FTS5's `unicode61 remove_diacritics 2` rules,
 * code point by code point, from tables generated out of SQLite itself (`unicode61-data.ts`).
 * Token characters are the Unicode categories L*, N* and Co (as that SQLite build knows them);
 * everything else separates tokens. Each kept character is case-folded and stripped of its
 * diacritics (`É` → `e`); combining marks are dropped. So `user_42` → `user`, `42`;
 * `report.pdf` → `report`, `pdf`; `Café` → `cafe`. Query text goes through the same function,
 * so `NEAR`, `AND`, quotes, `*`, `-`, `:` and parentheses are plain characters.
 */
import { FOLDS, TOKEN_RANGES } from './unicode61-data.js';

/** Sorted [start, end] pairs (inclusive) of token characters. */
const ranges: Uint32Array = (() => {
  const parts = TOKEN_RANGES.split(',');
  const out = new Uint32Array(parts.length);
  let last = 0;
  parts.forEach((part, i) => {
    last += parseInt(part, 36);
    out[i] = last;
  });
  return out;
})();

/** Code point → folded code point (0: dropped), for the code points that change. */
const folds: Map<number, number> = new Map(
  FOLDS.split(',').map((pair) => {
    const [from = '', to = ''] = pair.split(':');
    return [parseInt(from, 36), parseInt(to, 36)];
  }),
);

/** ASCII fast path: folded character code, or -1 for a separator. */
const asciiFold: Int16Array = (() => {
  const out = new Int16Array(128).fill(-1);
  for (let cp = 0; cp < 128; cp += 1) if (isTokenCodePoint(cp)) out[cp] = folds.get(cp) ?? cp;
  return out;
})();

/** True when FTS5's unicode61 keeps `cp` inside a token. */
export function isTokenCodePoint(cp: number): boolean {
  // Binary search for the last range start <= cp.
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const start = ranges[mid * 2] as number;
    if (start > cp) hi = mid - 1;
    else if ((ranges[mid * 2 + 1] as number) < cp) lo = mid + 1;
    else return true;
  }
  return false;
}

/** A token and where it came from in the text (UTF-16 offsets, end exclusive). */
export interface TokenSpan {
  /** The folded token, as FTS5 stores it. */
  token: string;
  /** Offset of its first character in the text. */
  start: number;
  /** Offset just after its last character. */
  end: number;
}

/**
 * Calls `visit` with each token of `text` in order, and where it came from (UTF-16 offsets,
 * end exclusive). A run of token characters that folds to nothing (only combining marks)
 * yields no token, as in FTS5. The one scanning loop of every tokenizing function: it
 * allocates nothing but the tokens (indexing calls it for every stored record).
 */
export function forEachToken(text: string, visit: (token: string, start: number, end: number) => void): void {
  // A token is `token` + text[pending, end): characters that fold to themselves are copied as
  // one slice, not one by one (per-character concatenation took ~0.5 s per MB of text).
  let token = '';
  let start = -1;
  let pending = 0;
  let i = 0;
  while (i < text.length) {
    const unit = text.charCodeAt(i);
    let width = 1;
    let folded: number;
    if (unit < 128) folded = asciiFold[unit] as number;
    else {
      const cp = text.codePointAt(i) as number;
      width = cp > 0xffff ? 2 : 1;
      // Lone surrogates are not characters: separators, as the U+FFFD a driver turns them into.
      folded = (cp >= 0xd800 && cp <= 0xdfff) || !isTokenCodePoint(cp) ? -1 : (folds.get(cp) ?? cp);
    }
    if (folded === -1) {
      if (start !== -1) {
        token += text.slice(pending, i);
        if (token.length > 0) visit(token, start, i);
        token = '';
        start = -1;
      }
    } else {
      if (start === -1) {
        start = i;
        pending = i;
      }
      if (folded !== unit) {
        // Copy what is pending, then the folded character (nothing for a dropped mark).
        token += text.slice(pending, i);
        if (folded !== 0) token += String.fromCodePoint(folded);
        pending = i + width;
      }
    }
    i += width;
  }
  if (start !== -1) {
    token += text.slice(pending, text.length);
    if (token.length > 0) visit(token, start, text.length);
  }
}

/** Splits `text` into tokens with their positions (see {@link forEachToken}). */
export function tokenizeWithSpans(text: string): TokenSpan[] {
  const out: TokenSpan[] = [];
  forEachToken(text, (token, start, end) => out.push({ token, start, end }));
  return out;
}

/** The tokens of `text`, in order, repeats kept (FTS5 `unicode61 remove_diacritics 2`). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  forEachToken(text, (token) => out.push(token));
  return out;
}

/** The distinct tokens of `text`, in first-seen order (the terms of a query). */
export function distinctTokens(text: string): string[] {
  return [...new Set(tokenize(text))];
}
