/**
 * Paging rules shared by every backend: the listings, page and window options, and the opaque
 * cursors. Everything here is checked before any I/O, so a bad option is a `ValidationError`
 * whatever the backend.
 */
import { validateSignal, type AbortOptions } from './abort.js';
import { describeValue, ValidationError } from './errors.js';
import { validateKey } from './ids.js';
import { quoteName } from './shown-text.js';

/** The paged listings, named after their public methods. */
export type ListingName = 'conversations' | 'allConversationIds' | 'agents' | 'cacheKeys' | 'systemStateKeys';

/** Every listing name, in the order the API lists them. */
export const LISTING_NAMES: readonly ListingName[] = [
  'conversations',
  'allConversationIds',
  'agents',
  'cacheKeys',
  'systemStateKeys',
];

/** Most ids one page (or one window) returns. */
export const MAX_PAGE_SIZE = 10_000;
/** Ids per page when `limit` (or `pageSize`) is not given. */
export const DEFAULT_PAGE_SIZE = 1_000;

/** Options of a paged listing call. */
export interface PageOptions extends AbortOptions {
  /** The `next` cursor of the previous page of the same listing; omit it for the first page. */
  after?: string | null;
  /** Ids per page, 1 to {@link MAX_PAGE_SIZE}; default {@link DEFAULT_PAGE_SIZE}. */
  limit?: number;
}

/** One page of a listing, in code point order. */
export interface Page<T> {
  /** The ids of this page. */
  items: T[];
  /** Cursor of the next page (pass it as `after`), or `null` when this was the last page. */
  next: string | null;
}

/** Options of {@link PagedStorage.iterate}. */
export interface IterateOptions extends AbortOptions {
  /** Start after this cursor (a `next` of the same listing); default: the first id. */
  after?: string | null;
  /** Ids read per round trip, 1 to {@link MAX_PAGE_SIZE}; default {@link DEFAULT_PAGE_SIZE}. */
  pageSize?: number;
}

/** A window of an ordered list: `limit` items from position `offset` (0-based). */
export interface WindowOptions {
  /** Items skipped from the start; default 0. */
  offset?: number;
  /** Most items returned, 1 to {@link MAX_PAGE_SIZE}; default: all from `offset` on. */
  limit?: number;
}

/** A validated window (`limit: null`: to the end). */
export interface Window {
  offset: number;
  limit: number | null;
}

/** Throws the caller's error for options `readOptions` cannot take (`cause`: what a read threw). */
export type OptionsRefusal = (reason: string, cause?: unknown) => never;

const refuseOptions: OptionsRefusal = (reason, cause) => {
  throw new ValidationError('options', reason, cause);
};

/**
 * The named options of `options` (a plain object, or undefined for none), read once each.
 * Anything else, an unknown name, or a getter/Proxy that throws (a revoked Proxy too) is refused
 * through `refuse`: by default a `ValidationError`.
 */
export function readOptions<K extends string>(
  options: unknown,
  names: readonly K[],
  refuse: OptionsRefusal = refuseOptions,
): Partial<Record<K, unknown>> {
  if (options === undefined) return {};
  const values: Partial<Record<K, unknown>> = {};
  let problem: string | undefined;
  try {
    // Inside the try: Array.isArray throws on a revoked Proxy (a TypeError until 2026-12-06).
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      problem = `must be an object (got ${describeValue(options)})`;
    } else {
      const unknown = Object.keys(options).find((key) => !(names as readonly string[]).includes(key));
      if (unknown !== undefined)
        problem = `unknown option ${quoteName(unknown)} (known: ${names.join(', ')})`;
      else for (const name of names) values[name] = (options as Record<string, unknown>)[name];
    }
  } catch (error) {
    return refuse('could not be read', error);
  }
  if (problem !== undefined) refuse(problem);
  return values;
}

/** Checks a page size: an integer from 1 to {@link MAX_PAGE_SIZE}, or undefined for the default. */
export function validatePageSize(field: 'limit' | 'pageSize', value: unknown): number {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw new ValidationError(
      field,
      `must be an integer from 1 to ${MAX_PAGE_SIZE} (got ${describeValue(value)})`,
    );
  }
  return value;
}

/** Checks window options (see {@link WindowOptions}). */
export function validateWindow(options: unknown): Window {
  const { offset, limit } = readOptions(options, ['offset', 'limit'] as const);
  if (offset !== undefined && (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)) {
    throw new ValidationError('offset', `must be a non-negative integer (got ${describeValue(offset)})`);
  }
  return { offset: offset ?? 0, limit: limit === undefined ? null : validatePageSize('limit', limit) };
}

/** Checks page options; `after` is decoded for `listing`. */
export function validatePageOptions(
  listing: ListingName,
  options: unknown,
): { after: string | null; limit: number; signal: AbortSignal | undefined } {
  const values = readOptions(options, ['after', 'limit', 'signal'] as const);
  return {
    after: decodeCursor(listing, values.after),
    limit: validatePageSize('limit', values.limit),
    signal: validateSignal(values.signal),
  };
}

// ----- cursors -------------------------------------------------------------------------------

/** Cursor format version: a cursor of another version is refused, never misread. */
const CURSOR_VERSION = 1;

/** The cursor of a page whose last id is `lastId`: versioned, base64url, bound to `listing`. */
export function encodeCursor(listing: ListingName, lastId: string): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, l: listing, k: lastId }), 'utf8').toString(
    'base64url',
  );
}

/**
 * The last id a cursor of `listing` carries (`null` for none). A cursor that is not one this
 * library wrote, or that comes from another listing, is a `ValidationError` naming `after`.
 */
export function decodeCursor(listing: ListingName, cursor: unknown): string | null {
  if (cursor === undefined || cursor === null) return null;
  const bad = (why: string): ValidationError =>
    new ValidationError(
      'after',
      `${why} (got ${describeValue(cursor)}); pass the \`next\` of a page of ${listing}`,
    );
  // No length limit: keys have none, and a page ending with a long one carries it whole.
  if (typeof cursor !== 'string' || cursor.length === 0) {
    throw bad('must be a cursor string');
  }
  const bytes = Buffer.from(cursor, 'base64url');
  // Node's decoder skips bad characters; a cursor must survive the round trip exactly.
  if (bytes.toString('base64url') !== cursor) throw bad('is not a cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('is not a cursor');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('is not a cursor');
  const { v, l, k } = parsed as Record<string, unknown>;
  if (v !== CURSOR_VERSION) throw bad('is a cursor of another version');
  if (l !== listing) throw bad(`is a cursor of another listing (${describeValue(l)})`);
  // Keys and ids alike: a store the reference wrote may list ids the id rule refuses
  // (`team/alpha` in its SQLite file, `team\alpha` as a folder), and a page may end with one.
  // A cursor only positions a listing, never names a record, so only what no store can hold
  // (NUL, a lone surrogate) is refused.
  try {
    validateKey(listing === 'systemStateKeys' ? 'stateKey' : 'cacheKey', k);
  } catch {
    throw bad('is not a cursor');
  }
  return k;
}
