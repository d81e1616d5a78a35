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

/** The array {@link tokenize} is filling (module state rather than a closure per call: calls never nest). */
let tokenList: string[] = [];

/** Appends one token to the array {@link tokenize} is filling. */
function pushToken(token: string): void {
  tokenList.push(token);
}

/** The tokens of `text`, in order, repeats kept (FTS5 `unicode61 remove_diacritics 2`). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  tokenList = out;
  try {
    scanText(text, pushToken);
  } finally {
    tokenList = [];
  }
  return out;
}

/** The distinct tokens of `text`, in first-seen order (the terms of a query). */
export function distinctTokens(text: string): string[] {
  return [...new Set(tokenize(text))];
}

/** The distinct tokens of some texts and how often each occurs (see {@link countTokens}). */
export interface TokenCounts {
  /** The distinct tokens, in first-seen order. */
  tokens: string[];
  /** `counts[i]`: how many times `tokens[i]` occurs. */
  counts: number[];
  /** The number of tokens, repeats included (a record's length in tokens). */
  length: number;
}

/** Distinct tokens up to which a token is found by scanning the list: no `Map` for most records. */
const SCAN_LIMIT = 16;

/**
 * The counts being built by the current {@link countTokens} call, and its token → index map
 * once it has more than {@link SCAN_LIMIT} distinct tokens (module state rather than a closure
 * per call: calls never nest, and a closure and a `Map` per record showed in profiles).
 */
let current: TokenCounts = { tokens: [], counts: [], length: 0 };
let currentIndex: Map<string, number> | null = null;

/** Counts one token into the current call's result. */
function addToken(token: string): void {
  const { tokens, counts } = current;
  current.length += 1;
  let index = -1;
  if (currentIndex !== null) index = currentIndex.get(token) ?? -1;
  else for (let i = 0; i < tokens.length && index === -1; i += 1) if (tokens[i] === token) index = i;
  if (index !== -1) {
    counts[index] = (counts[index] as number) + 1;
    return;
  }
  tokens.push(token);
  counts.push(1);
  if (currentIndex !== null) currentIndex.set(token, tokens.length - 1);
  else if (tokens.length > SCAN_LIMIT) currentIndex = new Map(tokens.map((known, i) => [known, i]));
}

/**
 * The distinct tokens of `texts` (as {@link tokenize} splits each text, in order) with their
 * counts, and the number of tokens: what every search index stores per record. Equal to
 * counting `tokenize`'s output, without its intermediate arrays and closures: indexing runs this
 * for every stored record (about 2.5x faster than counting `tokenize`'s tokens in a `Map`).
 */
export function countTokens(texts: readonly string[]): TokenCounts {
  const counts: TokenCounts = { tokens: [], counts: [], length: 0 };
  current = counts;
  currentIndex = null;
  try {
    for (let i = 0; i < texts.length; i += 1) scanText(texts[i] as string, addToken);
  } finally {
    currentIndex = null;
  }
  return counts;
}

/**
 * Calls `add` with each token of `text`, in order. ASCII tokens are cut and folded here (most
 * text); from the first token or separator that is not ASCII on, the rest of the text goes
 * through {@link forEachToken}, so the rules for other characters stay in one place.
 */
function scanText(text: string, add: (token: string) => void): void {
  const end = text.length;
  let i = 0;
  while (i < end) {
    let unit = text.charCodeAt(i);
    if (unit < 128 && (asciiFold[unit] as number) === -1) {
      i += 1;
      continue;
    }
    // A token (or a non-ASCII character) starts at i: scan its ASCII part.
    const start = i;
    let folds = false;
    while (unit < 128) {
      const folded = asciiFold[unit] as number;
      if (folded === -1) break;
      if (folded !== unit) folds = true;
      i += 1;
      if (i === end) break;
      unit = text.charCodeAt(i);
    }
    if (i < end && unit >= 128) {
      // `start` follows a separator (or is 0), so the rest tokenizes as it would in place.
      forEachToken(start === 0 ? text : text.slice(start), add);
      return;
    }
    // ASCII folding is lower-casing (the tokenizer tests compare every ASCII character).
    const token = text.slice(start, i);
    add(folds ? token.toLowerCase() : token);
  }
}
