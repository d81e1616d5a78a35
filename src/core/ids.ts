/**
 * Identifier, key and argument rules, checked once here so that every backend
 * accepts exactly the same inputs and data can always move from one backend to another.
 */
import { describeValue, InvalidIdError, SerializationError, ValidationError } from './errors.js';
import { quoteName, type ValueName, valueNameText } from './shown-text.js';

/** Longest id in UTF-8 bytes: one path component on common file systems. */
export const MAX_ID_BYTES = 255;

// Control characters U+0000–U+001F and U+007F, plus both path separators.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_ID_CHARS = /[\u0000-\u001f\u007f/\\]/;

/** Names of the id arguments, used in error messages. */
export type IdField = 'conversationId' | 'agentId' | 'memoryId';
/** Names of the key arguments, used in error messages. */
export type KeyField = 'cacheKey' | 'stateKey';

function assertWellFormedString(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new InvalidIdError(field, value, 'must be a string');
  if (value.length === 0) throw new InvalidIdError(field, value, 'must not be empty');
  // A lone surrogate becomes U+FFFD in SQLite, Redis and PostgreSQL drivers, so two
  // different keys would end up as one.
  if (!value.isWellFormed()) {
    throw new InvalidIdError(field, value, 'contains a lone UTF-16 surrogate');
  }
}

/**
 * Checks a conversation, agent or memory id: a non-empty, well-formed string of at most
 * 255 UTF-8 bytes, without `/`, `\`, NUL or control characters, and not `.` or `..`.
 * Throws {@link InvalidIdError} naming the argument otherwise.
 */
export function validateId(field: IdField, value: unknown): asserts value is string {
  assertWellFormedString(field, value);
  if (value === '.' || value === '..') {
    throw new InvalidIdError(field, value, 'must not be "." or ".."');
  }
  if (FORBIDDEN_ID_CHARS.test(value)) {
    throw new InvalidIdError(field, value, 'must not contain "/", "\\", NUL or control characters');
  }
  if (Buffer.byteLength(value, 'utf8') > MAX_ID_BYTES) {
    throw new InvalidIdError(field, value, `must be at most ${MAX_ID_BYTES} UTF-8 bytes`);
  }
}

/**
 * Longest cache or system-state key a write accepts, in UTF-8 bytes. PostgreSQL's primary-key
 * btree refuses an entry over 2,704 bytes (after compression), so a longer key was stored by
 * every other backend but failed there once the write had begun; one limit everywhere keeps
 * every store copyable to every other.
 */
export const MAX_KEY_BYTES = 2048;

/**
 * Checks a cache or system-state key to read, delete or page by: any non-empty, well-formed
 * string without NUL, of any length (a store written before {@link MAX_KEY_BYTES} may hold a
 * longer key, which must stay readable and deletable).
 */
export function validateKey(field: KeyField, value: unknown): asserts value is string {
  assertWellFormedString(field, value);
  if (value.includes('\u0000')) throw new InvalidIdError(field, value, 'must not contain NUL');
}

/** Checks a cache or system-state key to write: {@link validateKey}, and at most {@link MAX_KEY_BYTES} UTF-8 bytes. */
export function validateStoredKey(field: KeyField, value: unknown): asserts value is string {
  validateKey(field, value);
  // Bytes counted only when the limit can be passed (a UTF-16 unit is at most 3 UTF-8 bytes).
  if (value.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidIdError(field, value, `must be at most ${MAX_KEY_BYTES} UTF-8 bytes to be stored`);
  }
}

/**
 * Checks a cache TTL: a positive finite number of seconds, or `undefined`/`null` for no
 * expiry (D5: the reference treats `0` as "never"; here it is refused). `what`, when given,
 * names the entry in the error (`cache entry "k"`), as every bad input names its record.
 */
export function validateTtl(ttlSeconds: unknown, what?: ValueName): number | null {
  if (ttlSeconds === undefined || ttlSeconds === null) return null;
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new ValidationError(
      'ttlSeconds',
      `${entryPrefix(what)}must be a positive finite number of seconds, or null/undefined for no expiry (got ${describeValue(ttlSeconds)})`,
    );
  }
  if (ttlSeconds > MAX_TTL_SECONDS) {
    throw new ValidationError(
      'ttlSeconds',
      `${entryPrefix(what)}must be at most ${MAX_TTL_SECONDS} seconds (1000 years); omit it for no expiry (got ${ttlSeconds})`,
    );
  }
  return ttlSeconds;
}

/** `what: ` for an error message, or nothing. */
const entryPrefix = (what: ValueName | undefined): string =>
  what === undefined ? '' : `${valueNameText(what)}: `;

/**
 * Longest TTL accepted: 1000 years. Longer ones would put the expiry past year 9999, which
 * ISO timestamps (and Python's datetime) cannot represent; use no TTL for "never".
 */
export const MAX_TTL_SECONDS = 1000 * 365 * 24 * 3600;

/** Checks a reasoning-chain limit: a positive integer or `undefined`/`null` for all. */
export function validateLimit(limit: unknown): number | null {
  if (limit === undefined || limit === null) return null;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit <= 0) {
    throw new ValidationError(
      'limit',
      `must be a positive integer, or undefined for all (got ${describeValue(limit)})`,
    );
  }
  return limit;
}

/**
 * Refuses an own field of `item` that is not one of `known`, with a {@link ValidationError} on
 * `field` naming `what` (`cache entry "k"`) and the field: a misspelt optional field would
 * otherwise be dropped without a word (`{ key, data, ttl: 60 }` stored an entry that never
 * expires). Call it once the item's fields were read (as `itemFields` in `batches.ts` reads them).
 */
export function refuseUnknownFields(
  item: unknown,
  known: readonly string[],
  what: string,
  field = 'item',
): void {
  let unknown: string | undefined;
  try {
    unknown = Object.keys(item as object).find((name) => !known.includes(name));
  } catch (error) {
    // A Proxy of the caller's threw while its keys were listed.
    throw new SerializationError(what, '$', 'listing the fields threw', error);
  }
  if (unknown !== undefined) {
    throw new ValidationError(
      field,
      `${what}: unknown field ${quoteName(unknown)} (known: ${known.join(', ')})`,
    );
  }
}
