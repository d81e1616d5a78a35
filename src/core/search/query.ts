/**
 * The search query: its public shape, and the checks that turn it into a
 * {@link NormalizedSearchQuery} before any I/O (a bad query is a `ValidationError`).
 */
import { validateSignal } from '../abort.js';
import { describeValue, ValidationError } from '../errors.js';
import { validateId } from '../ids.js';
import { distinctTokens } from './tokenizer.js';
import { quoteName } from '../shown-text.js';
import { SkippedRecords, type UnreadablePolicy } from './unreadable.js';

/** The record kinds search covers, named as the record kinds (and SQLite tables) are. */
export const SEARCH_KINDS = [
  'raw_messages',
  'memories',
  'reasoning_chains',
  'conversations',
  'chunk_info',
] as const;

/** One searchable record kind. */
export type SearchKind = (typeof SEARCH_KINDS)[number];

/** Kinds searched when a query names none. */
export const DEFAULT_SEARCH_KINDS: readonly SearchKind[] = ['raw_messages', 'memories', 'reasoning_chains'];

/** Hits returned when a query gives no `limit`. */
export const DEFAULT_SEARCH_LIMIT = 10;
/** Largest `limit` a query may ask for. */
export const MAX_SEARCH_LIMIT = 1000;
/** Most distinct words a query may have (more is a `ValidationError`). */
export const MAX_SEARCH_TERMS = 64;

/** Kinds that belong to a conversation (scoped by `conversationId`); chains belong to an agent. */
export const CONVERSATION_KINDS: ReadonlySet<SearchKind> = new Set([
  'raw_messages',
  'memories',
  'conversations',
  'chunk_info',
]);

/** How `search()` finds records: by words, by embedding, or both fused (needs the store's `semantic` option). */
export type SearchMode = 'text' | 'vector' | 'hybrid';

/** A full-text search. */
export interface SearchQuery {
  /** The words to find: always plain words, never query syntax. Must contain a non-space character. */
  text: string;
  /** Kinds to search (default raw messages, memories, reasoning chains). */
  kinds?: readonly SearchKind[];
  /**
   * Only records of this conversation. Alone, it leaves out reasoning chains (they belong to
   * agents); with `agentId` too, chains of that agent are searched beside the conversation.
   */
  conversationId?: string;
  /**
   * Only reasoning chains of this agent. Alone, it leaves out the conversation kinds; with
   * `conversationId` too, that conversation's records are searched beside the chains.
   */
  agentId?: string;
  /** Most hits to return: 1 to 1,000, default 10. */
  limit?: number;
  /** `'any'` (default): records with at least one word, ranked; `'all'`: records with every word. */
  match?: 'any' | 'all';
  /** Aborts the search: it rejects with `OperationAbortedError`. */
  signal?: AbortSignal;
  /**
   * `'text'` (default): full-text search. `'vector'`: nearest records by embedding;
   * `'hybrid'`: both lists fused by reciprocal rank. The last two need the store's `semantic` option.
   */
  mode?: SearchMode;
  /**
   * A stored record that does not parse: `'fail'` (default) rejects with its
   * `CorruptDataError`; `'skip'` leaves it out of the hits as if it were not stored (the
   * other hits are those of a store without it) and logs a `warn` event naming it.
   */
  unreadable?: UnreadablePolicy;
}

/** A query after validation, as a backend's native index receives it. */
export interface NormalizedSearchQuery {
  /** The text as given. */
  text: string;
  /** Distinct tokens of the text, in order (the tokenizer's output); may be empty (punctuation only). */
  terms: readonly string[];
  /** Kinds to search, in {@link SEARCH_KINDS} order, already narrowed by the scopes. */
  kinds: readonly SearchKind[];
  /** Scope of the conversation kinds, or `null`. */
  conversationId: string | null;
  /** Scope of the chains, or `null`. */
  agentId: string | null;
  /** Most hits to return. */
  limit: number;
  /** Whether a record needs any or all terms. */
  match: 'any' | 'all';
  /** The caller's signal: a native index checks it between steps (the core checks it too). */
  signal: AbortSignal | undefined;
  /** How to search (a native full-text index only ever sees `'text'` work). */
  mode: SearchMode;
  /**
   * `null` for `unreadable: 'fail'`: a record that does not parse rejects the search. For
   * `'skip'`, where this search notes the records it leaves out (`skipUnreadable`); the core
   * logs them when the search ends.
   */
  skipped: SkippedRecords | null;
}

const QUERY_KEYS = new Set([
  'text',
  'kinds',
  'conversationId',
  'agentId',
  'limit',
  'match',
  'signal',
  'mode',
  'unreadable',
]);

/** Reads the query's fields once (a getter or Proxy of the caller's runs once, and may throw). */
function readFields(query: unknown): Record<string, unknown> {
  try {
    // Inside the try: `Array.isArray` of a revoked Proxy throws.
    if (typeof query !== 'object' || query === null || Array.isArray(query)) {
      throw new ValidationError('query', `must be an object { text, ... } (got ${describeValue(query)})`);
    }
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(query)) {
      if (!QUERY_KEYS.has(key)) {
        throw new ValidationError(
          'query',
          `unknown field ${quoteName(key)}; known: ${[...QUERY_KEYS].join(', ')}`,
        );
      }
      fields[key] = (query as Record<string, unknown>)[key];
    }
    return fields;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError('query', 'reading the query threw', error);
  }
}

function normalizeKinds(kinds: unknown): SearchKind[] {
  if (kinds === undefined) return [...DEFAULT_SEARCH_KINDS];
  let wanted: Set<unknown> | undefined;
  try {
    // A revoked Proxy throws in `Array.isArray`, a Proxy's traps or a getter while read.
    if (Array.isArray(kinds)) wanted = new Set<unknown>(kinds);
  } catch (error) {
    throw new ValidationError('kinds', 'reading the array threw', error);
  }
  if (wanted === undefined || wanted.size === 0) {
    throw new ValidationError(
      'kinds',
      `must be a non-empty array of ${SEARCH_KINDS.join(', ')} (got ${describeValue(kinds)})`,
    );
  }
  for (const kind of wanted) {
    if (!(SEARCH_KINDS as readonly unknown[]).includes(kind)) {
      throw new ValidationError(
        'kinds',
        `unknown kind ${describeValue(kind)}; known: ${SEARCH_KINDS.join(', ')}`,
      );
    }
  }
  return SEARCH_KINDS.filter((kind) => wanted.has(kind));
}

function normalizeLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_SEARCH_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new ValidationError(
      'limit',
      `must be an integer from 1 to ${MAX_SEARCH_LIMIT} (got ${describeValue(limit)})`,
    );
  }
  return limit;
}

/**
 * Checks a search query and normalizes it; throws `ValidationError` (or `InvalidIdError` for
 * a bad scope id) before any I/O. Text that is empty or only whitespace is refused; text
 * that has characters but no words (only punctuation) is valid and finds nothing.
 */
export function normalizeSearchQuery(query: unknown): NormalizedSearchQuery {
  const fields = readFields(query);
  const { text, conversationId, agentId, match, mode, unreadable } = fields;
  // Unicode's white space: `trim()` keeps U+0085 (NEL), which was searched until 2026-12-06.
  if (typeof text !== 'string' || /^\p{White_Space}*$/u.test(text)) {
    throw new ValidationError(
      'text',
      `must be a string with at least one non-space character (got ${describeValue(text)})`,
    );
  }
  if (conversationId !== undefined) validateId('conversationId', conversationId);
  if (agentId !== undefined) validateId('agentId', agentId);
  if (match !== undefined && match !== 'any' && match !== 'all') {
    throw new ValidationError('match', `must be 'any' or 'all' (got ${describeValue(match)})`);
  }
  if (mode !== undefined && mode !== 'text' && mode !== 'vector' && mode !== 'hybrid') {
    throw new ValidationError('mode', `must be 'text', 'vector' or 'hybrid' (got ${describeValue(mode)})`);
  }
  if (unreadable !== undefined && unreadable !== 'fail' && unreadable !== 'skip') {
    throw new ValidationError('unreadable', `must be 'fail' or 'skip' (got ${describeValue(unreadable)})`);
  }
  const terms = distinctTokens(text);
  if (terms.length > MAX_SEARCH_TERMS) {
    throw new ValidationError(
      'text',
      `has ${terms.length} distinct words; at most ${MAX_SEARCH_TERMS} are allowed`,
    );
  }
  const requested = normalizeKinds(fields.kinds);
  const kinds = requested.filter((kind) =>
    CONVERSATION_KINDS.has(kind)
      ? agentId === undefined || conversationId !== undefined
      : conversationId === undefined || agentId !== undefined,
  );
  if (kinds.length === 0) {
    throw new ValidationError(
      'kinds',
      `none of ${requested.join(', ')} can be scoped by ${conversationId !== undefined ? 'conversationId' : 'agentId'} ` +
        '(reasoning chains belong to agents, the other kinds to conversations)',
    );
  }
  return {
    text,
    terms,
    kinds,
    conversationId: conversationId ?? null,
    agentId: agentId ?? null,
    limit: normalizeLimit(fields.limit),
    match: match ?? 'any',
    signal: validateSignal(fields.signal),
    mode: mode ?? 'text',
    skipped: unreadable === 'skip' ? new SkippedRecords() : null,
  };
}
