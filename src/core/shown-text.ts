/**
 * How an error message shows an id, key, path or other value it names: whole while short, and
 * a long one by a bounded prefix and its length, so that a bad 1 MB id or a value's 1 MB
 * property name cannot make every message (and log line) that names it a megabyte. The
 * error's own fields (`value`, `path`, `key`, ...) keep the whole value.
 */

/**
 * Characters of a value a message shows. Every id the id rule accepts (at most 255 UTF-8
 * bytes) is shown whole; a cache or state key (up to 2048 bytes) may be cut.
 */
export const MAX_SHOWN_CHARS = 256;

/** The first `MAX_SHOWN_CHARS` characters of `text`, without splitting a surrogate pair. */
function prefixOf(text: string): string {
  let end = MAX_SHOWN_CHARS;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut off
  return text.slice(0, end);
}

/** `… (1048576 chars)`: what follows a cut value's prefix. */
const cutNote = (text: string): string => `… (${text.length} chars)`;

/**
 * `value` JSON-quoted for a message (`"c1"`); a longer one than {@link MAX_SHOWN_CHARS} as
 * its quoted prefix, `…` and its length in characters: `"xxx"… (1048576 chars)`.
 */
export function quoteName(value: string): string {
  if (value.length <= MAX_SHOWN_CHARS) return escapeInvisible(JSON.stringify(value));
  return `${escapeInvisible(JSON.stringify(prefixOf(value)))}${cutNote(value)}`;
}

/** Characters `JSON.stringify` leaves as they are that a terminal or log viewer does not show. */
const INVISIBLE = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * `quoted` with DEL, the C1 controls and the line and paragraph separators escaped as JSON
 * escapes them (`\u007f`): until 2026-12-06 an id holding DEL was refused by a message that
 * showed it as nothing.
 */
function escapeInvisible(quoted: string): string {
  return quoted.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `text` as a message shows it unquoted (a JSON path, a file path): {@link quoteName}'s bound. */
export function shownText(text: string): string {
  return text.length <= MAX_SHOWN_CHARS ? text : `${prefixOf(text)}${cutNote(text)}`;
}

/**
 * What a value is, for its error messages (`cache entry "k"`): the text, or a function that
 * builds it, called only when the value is refused or the call fails. Every store call names
 * its record, and quoting an id costs more than the rest of converting a small value.
 */
export type ValueName = string | (() => string);

/** The text of a {@link ValueName}. */
export const valueNameText = (what: ValueName): string => (typeof what === 'string' ? what : what());
