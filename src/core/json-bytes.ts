/**
 * The size limit of one stored value, in UTF-8 bytes of its JSON text ({@link MAX_JSON_BYTES}),
 * checked by the core when it converts a caller's value (`json.ts`), before any I/O.
 */
import { ValidationError } from './errors.js';
import { type ValueName, valueNameText } from './shown-text.js';

/**
 * Largest JSON text of one stored value a write accepts: 256 MiB of UTF-8 (268,435,456 bytes).
 * Every backend must store the value and read it back as one string: Redis refuses an argument
 * past its `proto-max-bulk-len` (512 MiB), `pg` fails on a row message it cannot decode into
 * one string, and a string holds at most 2^29 - 24 UTF-16 units. Half of 512 MiB leaves room
 * for what a backend wraps around the value (envelopes, the file format's separators).
 */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

/** The limit checked; {@link MAX_JSON_BYTES} except while a test lowers it. */
let limit = MAX_JSON_BYTES;

/** The limit {@link refuseOverLimit} and the file backend's writes check now. */
export function jsonByteLimit(): number {
  return limit;
}

/**
 * Sets the limit checked, for tests only (a value at the real limit takes seconds and hundreds
 * of MB to build); `undefined` restores {@link MAX_JSON_BYTES}. Not exported by the package.
 */
export function setJsonByteLimitForTests(bytes: number | undefined): void {
  limit = bytes ?? MAX_JSON_BYTES;
}

/** The most UTF-8 bytes `JSON.stringify` writes for one UTF-16 unit of a string (`\u001f`). */
const MAX_BYTES_PER_UNIT = 6;
/** The most bytes of one value's text besides its strings: a number, quotes, `:`, `,`, brackets. */
const MAX_BYTES_PER_NODE = 32;

/**
 * Refuses `value` (converted, plain JSON) when its JSON text is longer than the limit, with a
 * {@link ValidationError} naming `what`. `units` is the UTF-16 length of its strings and keys,
 * `nodes` its count of values, both counted during the conversion: a value whose text cannot
 * reach the limit (6 bytes per unit at most) is not measured, so a write of ordinary size pays
 * no scan; one whose strings alone pass the limit is refused unmeasured; only a value between
 * the two is stringified to count its bytes.
 */
export function refuseOverLimit(value: unknown, units: number, nodes: number, what: ValueName): void {
  if (units * MAX_BYTES_PER_UNIT + nodes * MAX_BYTES_PER_NODE <= limit) return;
  // Each unit is at least one byte (a surrogate pair is 4 bytes for 2 units).
  if (units > limit) throw tooLarge(what, `at least ${units}`);
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  } catch (error) {
    // Longer than one string: far past the limit.
    if (error instanceof RangeError) throw tooLarge(what, 'more than 2^29', error);
    throw error;
  }
  if (bytes > limit) throw tooLarge(what, String(bytes));
}

function tooLarge(what: ValueName, size: string, cause?: unknown): ValidationError {
  return new ValidationError(
    valueNameText(what),
    `is too large to store: its JSON text is ${size} UTF-8 bytes, over the limit of ${limit} ` +
      '(MAX_JSON_BYTES)',
    cause,
  );
}
