/**
 * The bytes of a list file (memories, reasoning chains) made from the bytes of its records,
 * each formatted and UTF-8-encoded once and then reused while the record object lives: an
 * append to a list of 1,000 records formats and encodes one record instead of the whole file
 * (~350 KB, several ms of CPU per call). The result is byte for byte `formatJson(envelope)`,
 * except that a record read from a file keeps the text it had there (`record-texts.ts`):
 * in the reference's pretty format a record's text only shifts right by its depth, and every
 * line break in JSON text is structural (strings escape theirs). Records are never changed
 * once stored: the core copies what callers pass, loads hand out copies, and an updated
 * memory is a new object (the search index relies on the same, see `search-segments.ts`).
 */
import type { JsonObject, JsonValue } from '../../core/index.js';
import { formatJson } from './atomic-json.js';
import { recordTextAsRead, textsAsRead } from './record-texts.js';

/** Encoded records by object, per format. */
const encoded = { pretty: new WeakMap<object, Buffer>(), compact: new WeakMap<object, Buffer>() };

/** Stands for the list while the rest of the envelope is formatted. */
const PLACEHOLDER = '\u0000connectome-storage list\u0000';
const QUOTED_PLACEHOLDER = JSON.stringify(PLACEHOLDER);

/** The list's brackets and separators in each format (records are at depth 2 in the envelope). */
const PUNCTUATION = {
  pretty: { open: Buffer.from('[\n    '), separator: Buffer.from(',\n    '), close: Buffer.from('\n  ]') },
  compact: { open: Buffer.from('['), separator: Buffer.from(', '), close: Buffer.from(']') },
};

/** One record's bytes as it appears in the list; `asRead`: the texts of records read from the file. */
function recordBytes(record: JsonValue, pretty: boolean, asRead: Map<object, string> | null): Buffer {
  const isObject = typeof record === 'object' && record !== null;
  const known = isObject ? encoded[pretty ? 'pretty' : 'compact'].get(record) : undefined;
  if (known !== undefined) return known;
  // A record read from the file is written as it was read (see `record-texts.ts`).
  const read = isObject ? recordTextAsRead(asRead, record, pretty) : undefined;
  const text = read ?? formatJson(record, pretty);
  const bytes = Buffer.from(pretty && read === undefined ? text.replace(/\n/g, '\n    ') : text, 'utf8');
  if (isObject) encoded[pretty ? 'pretty' : 'compact'].set(record, bytes);
  return bytes;
}

/**
 * `formatJson(envelope, pretty)` as UTF-8 bytes, reusing the encoded records of the list in
 * `field`; the records of `readList` (the list as read from the file) keep their text.
 */
export function formatListEnvelope(
  envelope: JsonObject,
  field: string,
  pretty: boolean,
  readList?: readonly JsonValue[],
): Buffer {
  const list = envelope[field];
  if (!Array.isArray(list) || list.length === 0) return Buffer.from(formatJson(envelope, pretty), 'utf8');
  // The field keeps its place among the envelope's keys.
  const text = formatJson({ ...envelope, [field]: PLACEHOLDER }, pretty);
  const at = text.indexOf(QUOTED_PLACEHOLDER);
  if (at === -1 || text.includes(QUOTED_PLACEHOLDER, at + 1)) {
    return Buffer.from(formatJson(envelope, pretty), 'utf8'); // another field holds the placeholder
  }
  const { open, separator, close } = PUNCTUATION[pretty ? 'pretty' : 'compact'];
  const parts: Buffer[] = [Buffer.from(text.slice(0, at), 'utf8'), open];
  const asRead = readList === undefined ? null : textsAsRead(readList);
  list.forEach((record, i) => {
    if (i > 0) parts.push(separator);
    parts.push(recordBytes(record, pretty, asRead));
  });
  parts.push(close, Buffer.from(text.slice(at + QUOTED_PLACEHOLDER.length), 'utf8'));
  return Buffer.concat(parts);
}
