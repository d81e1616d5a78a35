/**
 * The text each record of a list file (memories, reasoning chains) had when it was read, so an
 * update rewrites the records it did not change exactly as they were. Parsing loses what a
 * JavaScript number cannot hold: the Python reference writes integers past 2^53 as they are
 * (`1234567890123456789`, a Discord snowflake, parses as `1234567890123456800`) and floats
 * with a fraction (`1.0`, which Python reads back as a float but `JSON.stringify` writes as
 * the int `1`). Every update rewrites the whole file, so re-encoding the parsed records would
 * change stored data that no call asked to change. A record's text is kept by the record
 * object (records are never changed once stored: see `list-format.ts`), so a replaced memory,
 * a new object, is written from its value as before. The list as read is handed to the write
 * (`AtomicWriteOptions.readList`): one entry per list read, none per record.
 */
import type { JsonValue } from '../../core/index.js';

/** A list file's text as read, split into its records' texts when a write first needs them. */
interface Source {
  text: string;
  field: string;
  /** Each record's text by record; `undefined` until split, `null` when they did not line up. */
  texts: Map<object, string> | null | undefined;
}

/** The text each list read from a list file was parsed from, by list (the array itself). */
const sources = new WeakMap<readonly JsonValue[], Source>();

/** Index of the first character at or after `at` that is not JSON whitespace. */
function skipSpace(text: string, at: number): number {
  let i = at;
  for (; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
  }
  return i;
}

/** Index just after the string starting at `at` (a `"`): the next quote not escaped. */
function skipString(text: string, at: number): number {
  for (let from = at + 1; ;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length;
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === 0x5c) slashes += 1;
    if (slashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Index just after the JSON value starting at `at` (the text is known to be valid JSON). */
function skipValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === 0x22) return skipString(text, at);
  if (first !== 0x7b && first !== 0x5b) {
    let i = at; // a number or literal runs to the next delimiter
    while (i < text.length && !',}] \n\r\t'.includes(text.charAt(i))) i += 1;
    return i;
  }
  let depth = 0;
  for (let i = at; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = skipString(text, i) - 1;
    else if (c === 0x7b || c === 0x5b) depth += 1;
    else if ((c === 0x7d || c === 0x5d) && (depth -= 1) === 0) return i + 1;
  }
  return text.length;
}

/**
 * The texts of the items of the array under the top-level key `field` of the JSON object in
 * `text` (its last occurrence, as `JSON.parse` keeps), or `null` when there is none.
 */
function itemTexts(text: string, field: string): string[] | null {
  let i = skipSpace(text, 0);
  if (text.charAt(i) !== '{') return null;
  let found: string[] | null = null;
  i = skipSpace(text, i + 1);
  while (text.charAt(i) === '"') {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the colon
    if (key === field && text.charAt(i) === '[') {
      found = [];
      i = skipSpace(text, i + 1);
      while (i < text.length && text.charAt(i) !== ']') {
        const end = skipValue(text, i);
        found.push(text.slice(i, end));
        i = skipSpace(text, end);
        if (text.charAt(i) === ',') i = skipSpace(text, i + 1);
      }
      i += 1;
    } else {
      i = skipValue(text, i);
    }
    i = skipSpace(text, i);
    if (text.charAt(i) === ',') i = skipSpace(text, i + 1);
  }
  return found;
}

/**
 * Records that `list` (the array under `field`) was parsed from `text`. The text is split into
 * records only when a write needs them (a scan costs about what the parse did; a load alone
 * never needs it).
 */
export function keepRecordTexts(text: string, list: readonly JsonValue[], field: string): void {
  sources.set(list, { text, field, texts: undefined });
}

/**
 * The text each record of `list` had in its file, by record, when `list` is a list as read
 * (see {@link keepRecordTexts}) whose records line up with its text; else `null`.
 */
export function textsAsRead(list: readonly JsonValue[]): Map<object, string> | null {
  const source = sources.get(list);
  if (source === undefined) return null;
  if (source.texts === undefined) {
    const texts = itemTexts(source.text, source.field);
    source.texts = texts !== null && texts.length === list.length ? new Map() : null;
    list.forEach((item, i) => {
      if (typeof item === 'object' && item !== null) source.texts?.set(item, texts?.[i] as string);
    });
    source.text = '';
  }
  return source.texts;
}

/**
 * `record`'s text in `texts` (from {@link textsAsRead}) in the store's format (several lines when
 * `pretty`, one otherwise): a record of a file in the other format is laid out again from its
 * text, not from its value, so its numbers keep their spelling (until 2026-12-06 such a file's
 * records were written from their values, and `1234567890123456789` or `1.0` changed).
 */
export function recordTextAsRead(
  texts: Map<object, string> | null,
  record: object,
  pretty: boolean,
): string | undefined {
  const text = texts?.get(record);
  if (text === undefined) return undefined;
  return text.includes('\n') === pretty ? text : layOutJsonText(text, pretty);
}

/**
 * The JSON text `text` (valid JSON) laid out as `formatJson` lays out a record of a list file:
 * Python's `indent=2` at the record's depth in the envelope (2) when `pretty`, else its default
 * `", "` / `": "` separators. Strings, numbers and literals are copied as they are.
 */
export function layOutJsonText(text: string, pretty: boolean): string {
  const parts: string[] = [];
  let depth = 2;
  const newline = () => (pretty ? `\n${'  '.repeat(depth)}` : '');
  for (let i = skipSpace(text, 0); i < text.length; i = skipSpace(text, i)) {
    const c = text.charAt(i);
    if (c === '{' || c === '[') {
      const after = skipSpace(text, i + 1);
      const close = c === '{' ? '}' : ']';
      if (text.charAt(after) === close) {
        parts.push(c + close); // an empty object or array stays on its line, as Python writes it
        i = after + 1;
        continue;
      }
      depth += 1;
      parts.push(c + newline());
      i += 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      parts.push(newline() + c);
      i += 1;
    } else if (c === ',') {
      parts.push(pretty ? `,${newline()}` : ', ');
      i += 1;
    } else if (c === ':') {
      parts.push(': ');
      i += 1;
    } else {
      const end = skipValue(text, i); // a string, number or literal, copied as it is
      parts.push(text.slice(i, end));
      i = end;
    }
  }
  return parts.join('');
}
