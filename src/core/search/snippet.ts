/**
 * Short snippets of a record's text with the matched words marked, the same on every backend.
 */
import { tokenizeWithSpans } from './tokenizer.js';

/** Put before each matched word in a snippet. */
export const SNIPPET_MARK_START = '«';
/** Put after each matched word in a snippet. */
export const SNIPPET_MARK_END = '»';
/** Put where a snippet cuts its text short. */
export const SNIPPET_ELLIPSIS = '…';
/** Most words a snippet shows. */
export const SNIPPET_WORDS = 16;
/** Words shown before the first match, when the text is cut. */
const LEAD_WORDS = 3;
/** Longest snippet of a text without any match, in characters. */
const PLAIN_CHARS = 100;

/**
 * A snippet of the indexed `segments` of a record: from the segment (string value) with the
 * most distinct query terms, a window of up to {@link SNIPPET_WORDS} words starting a few
 * words before the first match, with matched words between {@link SNIPPET_MARK_START} and
 * {@link SNIPPET_MARK_END} and {@link SNIPPET_ELLIPSIS} where text was cut. Whitespace runs
 * are collapsed to one space. Without any match, the start of the segment with the most
 * space-separated words (the first of equals), unmarked; taken from `plain()` (the record's
 * segments without its labels: a raw message's role, a memory's id) when it has words.
 */
export function buildSnippet(
  segments: readonly string[],
  terms: ReadonlySet<string>,
  plain?: () => readonly string[],
): string {
  let best: { text: string; spans: ReturnType<typeof tokenizeWithSpans>; matched: number } | undefined;
  // Without a match (a vector hit), the segment with the most words between spaces: a raw
  // message's content, not its role; a memory's text, not its id (`mem_1`, a UUID: one word).
  let wordiest: { text: string; words: number } | undefined;
  for (const text of segments) {
    const spans = tokenizeWithSpans(text);
    const matched = new Set(spans.filter((s) => terms.has(s.token)).map((s) => s.token)).size;
    if (matched > 0 && (best === undefined || matched > best.matched)) best = { text, spans, matched };
    if (best === undefined && spans.length > 0) {
      const words = text.trim().split(/\s+/).length;
      if (words > (wordiest?.words ?? 0)) wordiest = { text, words };
    }
  }
  if (best === undefined) {
    // A label ties with a text of one word ("Thanks", or CJK, which has no spaces) and came first.
    const text = collapse(
      (plain === undefined ? undefined : wordiestOf(plain())) ??
        wordiest?.text ??
        segments.find((s) => s.trim() !== '') ??
        '',
    );
    if (text.length <= PLAIN_CHARS) return text;
    // Never half a surrogate pair (an emoji across the cut): a lone surrogate is not text.
    const last = text.charCodeAt(PLAIN_CHARS - 1);
    const cut = last >= 0xd800 && last <= 0xdbff ? PLAIN_CHARS - 1 : PLAIN_CHARS;
    return `${text.slice(0, cut)}${SNIPPET_ELLIPSIS}`;
  }
  const { text, spans } = best;
  const firstMatch = spans.findIndex((s) => terms.has(s.token));
  const from = Math.max(0, Math.min(firstMatch - LEAD_WORDS, spans.length - SNIPPET_WORDS));
  const to = Math.min(spans.length, from + SNIPPET_WORDS);
  // The window runs from the text's start (or the first shown word) to its end (or the last shown word).
  const start = from === 0 ? 0 : (spans[from]?.start ?? 0);
  const end = to === spans.length ? text.length : (spans[to - 1]?.end ?? text.length);
  let out = '';
  let at = start;
  for (const span of spans.slice(from, to)) {
    if (!terms.has(span.token)) continue;
    out +=
      text.slice(at, span.start) + SNIPPET_MARK_START + text.slice(span.start, span.end) + SNIPPET_MARK_END;
    at = span.end;
  }
  out += text.slice(at, end);
  return (
    (from > 0 ? SNIPPET_ELLIPSIS : '') +
    collapse(out) +
    (end < text.length && to < spans.length ? SNIPPET_ELLIPSIS : '')
  );
}

/** The text of `texts` with the most space-separated words (the first of equals), among those with a word. */
function wordiestOf(texts: readonly string[]): string | undefined {
  let wordiest: { text: string; words: number } | undefined;
  for (const text of texts) {
    if (tokenizeWithSpans(text).length === 0) continue;
    const words = text.trim().split(/\s+/).length;
    if (words > (wordiest?.words ?? 0)) wordiest = { text, words };
  }
  return wordiest?.text;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
