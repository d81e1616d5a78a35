/**
 * The one text a native batch sends its items in (a JSON parameter of one statement), built so
 * that a batch too large for one JavaScript string is refused with a typed error instead of
 * the engine's bare `RangeError`.
 */
import { StorageError, ValidationError } from './errors.js';

/** Names a batch in the error of {@link batchText}. */
export interface BatchName {
  /** The public method, e.g. `storeMemories`. */
  method: string;
  /** The argument that holds the items, e.g. `memories`. */
  field: string;
  /** How many items the call was given. */
  count: number;
  /** The first item, described: `memory "m0" of conversation "c"`, `key "k0"`. */
  first: string;
}

/**
 * Returns `build()`, one text of a batch's statement. Items that fit one call each can still
 * add up to more than a JavaScript string holds (2^29 - 24 characters in V8, about 512 MB):
 * `JSON.stringify` or a join then throws a bare `RangeError` ("Invalid string length"). That
 * becomes a {@link ValidationError} naming the batch (`name`, called only then); the caller
 * builds its texts before any write, so nothing is written. Validated records are nested at
 * most `MAX_JSON_DEPTH` deep, so the stack is not what ran out.
 */
export function batchText(name: () => BatchName, build: () => string): string {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const { method, field, count, first } = name();
    throw new ValidationError(
      field,
      `${method}() of ${count} items, the first ${first}, is too large to send as one statement ` +
        `(its text is longer than a JavaScript string can be: ${error.message}); split the batch`,
      error,
    );
  }
}

/** Names one record (or a batch) in the error of {@link refuseTooLong}. */
export interface RecordName {
  /** The argument that holds it, e.g. `memoryData`. */
  field: string;
  /** The record, described: `memory "m" of conversation "c"`, `3 items, the first key "k0"`. */
  what: string;
}

/**
 * V8's error for a string longer than it can hold (`JSON.stringify`, a join or a concatenation
 * past 2^29 - 24 characters), thrown as is or kept as the `cause` of a backend's
 * {@link StorageError}; `null` for any other error.
 */
export function stringTooLong(error: unknown): RangeError | null {
  const cause = error instanceof StorageError && !(error instanceof ValidationError) ? error.cause : error;
  return cause instanceof RangeError && cause.message === 'Invalid string length' ? cause : null;
}

/**
 * `error`, or for a write whose record's text outgrew one JavaScript string (a single record
 * of more than ~512 MB of JSON, which every backend stringifies whole before its write) a
 * {@link ValidationError} naming the method and the record: the engine's bare RangeError
 * named neither. The backends build a record's text before any I/O of its write, so nothing
 * stored has changed.
 */
export function refuseTooLong(error: unknown, method: string, name: RecordName): unknown {
  const cause = stringTooLong(error);
  if (cause === null) return error;
  return new ValidationError(
    name.field,
    `${method}() of ${name.what} is too large to store (its JSON text is longer than a JavaScript ` +
      `string can be: ${cause.message})`,
    cause,
  );
}
