/**
 * Argument checks of every vector store, run before any I/O so every store accepts exactly
 * the same inputs: signatures, record ids and kinds, vectors (size, finite, not all zeros
 * for cosine), `k` and filters.
 */
import { ConfigError, describeValue, InvalidIdError, ValidationError } from '../../core/errors.js';
import { validateId } from '../../core/ids.js';
import { readOptions, validatePageSize } from '../../core/paging.js';
import { validateDimensions } from '../embedders/checks.js';
import {
  type IndexSignature,
  MAX_QUERY_K,
  type VectorFilter,
  type VectorItem,
  type VectorMetric,
} from './types.js';

/** Longest record id, in UTF-8 bytes. */
export const MAX_VECTOR_ID_BYTES = 512;
/** Longest record kind, in UTF-8 bytes. */
export const MAX_KIND_BYTES = 64;
/** Most records one upsert or delete takes. */
export const MAX_ITEMS_PER_CALL = 100_000;

const METRICS: readonly VectorMetric[] = ['cosine', 'l2'];

/** A record after validation: its vector as a `Float32Array`, absent scopes as `null`. */
export interface PreparedItem {
  id: string;
  vector: Float32Array;
  kind: string;
  agentId: string | null;
  conversationId: string | null;
}

/** A filter after validation. */
export interface PreparedFilter {
  agentId: string | null;
  conversationId: string | null;
  kinds: readonly string[] | null;
}

function checkName(field: string, value: unknown, maxBytes: number): string {
  if (typeof value !== 'string') throw new InvalidIdError(field, value, 'must be a string');
  if (value === '') throw new InvalidIdError(field, value, 'must not be empty');
  if (!value.isWellFormed()) throw new InvalidIdError(field, value, 'contains a lone UTF-16 surrogate');
  if (value.includes('\u0000')) throw new InvalidIdError(field, value, 'must not contain NUL');
  if (Buffer.byteLength(value, 'utf8') > maxBytes)
    throw new InvalidIdError(field, value, `must be at most ${maxBytes} UTF-8 bytes`);
  return value;
}

/** Checks a record id: a non-empty, well-formed string without NUL, at most 512 UTF-8 bytes. */
export function validateVectorId(field: string, value: unknown): string {
  return checkName(field, value, MAX_VECTOR_ID_BYTES);
}

/** Checks a record kind: like an id, at most 64 UTF-8 bytes. */
export function validateKind(field: string, value: unknown): string {
  return checkName(field, value, MAX_KIND_BYTES);
}

/** Checks and copies an index signature. */
export function validateSignature(value: unknown): IndexSignature {
  if (typeof value !== 'object' || value === null) {
    throw new ValidationError(
      'signature',
      `must be { embedderId, dimensions, metric }, got ${describeValue(value)}`,
    );
  }
  const { embedderId, dimensions, metric } = value as Partial<IndexSignature>;
  if (
    typeof embedderId !== 'string' ||
    embedderId === '' ||
    embedderId.includes('\u0000') ||
    embedderId.length > 256
  ) {
    throw new ValidationError(
      'signature.embedderId',
      `must be a non-empty string of at most 256 characters, got ${describeValue(embedderId)}`,
    );
  }
  if (!METRICS.includes(metric as VectorMetric)) {
    throw new ValidationError('signature.metric', `must be "cosine" or "l2", got ${describeValue(metric)}`);
  }
  return {
    embedderId,
    dimensions: validateDimensions('signature.dimensions', dimensions),
    metric: metric as VectorMetric,
  };
}

/** True when two signatures are the same model, size and metric. */
export function sameSignature(a: IndexSignature, b: IndexSignature): boolean {
  return a.embedderId === b.embedderId && a.dimensions === b.dimensions && a.metric === b.metric;
}

function describeSignature(signature: IndexSignature): string {
  return `${signature.embedderId} (${signature.dimensions} dimensions, ${signature.metric})`;
}

/**
 * The error for an index opened with another signature than the one it was filled with.
 * `readOnly`: asked by a read-only open (or a store open read-only), which must not `reset()`,
 * so the advice is the model the index holds, or a writable open to switch.
 */
export function signatureMismatch(
  store: string,
  stored: IndexSignature,
  requested: IndexSignature,
  readOnly = false,
): ConfigError {
  const held = describeSignature(stored);
  return new ConfigError(
    `Vector store ${store} holds vectors of ${held}, not ${describeSignature(requested)}; ` +
      'vectors of two models are never mixed. ' +
      (readOnly
        ? `A read-only open cannot reset() it: read it with ${held}, or switch models from a ` +
          'writable open (reset(signature) drops every vector; then re-embed every record).'
        : 'To switch models, call reset(signature) on the store (it drops every vector) and ' +
          're-embed every record, or point the new model at another store.'),
    'signature',
  );
}

/** The `Float32Array` case of {@link validateVector}: its values are float32 already, only NaN and ±Infinity are bad. */
function checkFloat32(field: string, value: Float32Array, signature: IndexSignature): Float32Array {
  const vector = new Float32Array(value);
  let norm = 0;
  for (let i = 0; i < vector.length; i += 1) {
    const n = vector[i] as number;
    if (!Number.isFinite(n)) {
      throw new ValidationError(
        field,
        `holds ${describeValue(n)} at ${i}; every value must be a finite float32 number`,
      );
    }
    norm += n * n;
  }
  if (signature.metric === 'cosine' && norm === 0) {
    throw new ValidationError(field, 'is all zeros, which has no direction for the cosine metric');
  }
  return vector;
}

/** Checks a vector against an index signature and copies it into a `Float32Array`. */
export function validateVector(field: string, value: unknown, signature: IndexSignature): Float32Array {
  if (!Array.isArray(value) && !(value instanceof Float32Array)) {
    throw new ValidationError(
      field,
      `must be an array of numbers or a Float32Array, got ${describeValue(value)}`,
    );
  }
  if (value.length !== signature.dimensions) {
    throw new ValidationError(field, `has ${value.length} dimensions, the index has ${signature.dimensions}`);
  }
  if (value instanceof Float32Array) return checkFloat32(field, value, signature);
  const vector = new Float32Array(value.length);
  let norm = 0;
  for (let i = 0; i < value.length; i += 1) {
    const n: unknown = value[i];
    // Checked after the float32 conversion too: 1e39 is finite as a double but Infinity as a float32.
    if (typeof n !== 'number' || !Number.isFinite(n) || !Number.isFinite(Math.fround(n))) {
      throw new ValidationError(
        field,
        `holds ${describeValue(n)} at ${i}; every value must be a finite float32 number`,
      );
    }
    vector[i] = n;
    norm += n * n;
  }
  if (signature.metric === 'cosine' && norm === 0) {
    throw new ValidationError(field, 'is all zeros, which has no direction for the cosine metric');
  }
  return vector;
}

function checkList(field: string, value: unknown): unknown[] {
  if (!Array.isArray(value))
    throw new ValidationError(field, `must be an array, got ${describeValue(value)}`);
  if (value.length > MAX_ITEMS_PER_CALL)
    throw new ValidationError(field, `at most ${MAX_ITEMS_PER_CALL} per call, got ${value.length}`);
  return value;
}

/** Checks an upsert's records (distinct ids, valid scopes and vectors) and prepares them. */
export function prepareItems(items: unknown, signature: IndexSignature): PreparedItem[] {
  const seen = new Set<string>();
  return checkList('items', items).map((item, index) => {
    const at = `items[${index}]`;
    if (typeof item !== 'object' || item === null)
      throw new ValidationError(at, `must be an object, got ${describeValue(item)}`);
    const { id, vector, kind, agentId, conversationId } = item as Partial<VectorItem>;
    const checkedId = validateVectorId(`${at}.id`, id);
    if (seen.has(checkedId))
      throw new ValidationError(`${at}.id`, `${describeValue(checkedId)} appears twice in one upsert`);
    seen.add(checkedId);
    if (agentId !== undefined) validateId('agentId', agentId);
    if (conversationId !== undefined) validateId('conversationId', conversationId);
    return {
      id: checkedId,
      vector: validateVector(`${at}.vector`, vector, signature),
      kind: validateKind(`${at}.kind`, kind),
      agentId: agentId ?? null,
      conversationId: conversationId ?? null,
    };
  });
}

/** Checks a delete's ids. */
export function prepareIds(ids: unknown): string[] {
  return checkList('ids', ids).map((id, index) => validateVectorId(`ids[${index}]`, id));
}

/** Checks `k`: a whole number from 1 to {@link MAX_QUERY_K}. */
export function validateK(k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > MAX_QUERY_K) {
    throw new ValidationError(
      'k',
      `must be a whole number from 1 to ${MAX_QUERY_K}, got ${describeValue(k)}`,
    );
  }
  return k;
}

/**
 * Checks the options of `listIds()`: only `after` (an id, or `null`/absent for the first page)
 * and `limit` (1 to `MAX_PAGE_SIZE`, default `DEFAULT_PAGE_SIZE`), as the storage's listings.
 */
export function validateIdPage(options: unknown): { after: string | null; limit: number } {
  const { after, limit } = readOptions(options, ['after', 'limit'] as const);
  return {
    after: after === undefined || after === null ? null : validateVectorId('after', after),
    limit: validatePageSize('limit', limit),
  };
}

/** Checks a query filter. */
export function prepareFilter(filter: unknown): PreparedFilter {
  if (filter === undefined) return { agentId: null, conversationId: null, kinds: null };
  if (typeof filter !== 'object' || filter === null)
    throw new ValidationError('filter', `must be an object, got ${describeValue(filter)}`);
  const { agentId, conversationId, kinds } = filter as VectorFilter;
  if (agentId !== undefined) validateId('agentId', agentId);
  if (conversationId !== undefined) validateId('conversationId', conversationId);
  let checkedKinds: string[] | null = null;
  if (kinds !== undefined) {
    if (!Array.isArray(kinds) || kinds.length === 0 || kinds.length > 64) {
      throw new ValidationError(
        'filter.kinds',
        `must be a non-empty array of at most 64 kinds, got ${describeValue(kinds)}`,
      );
    }
    checkedKinds = [...new Set(kinds.map((kind: unknown, i) => validateKind(`filter.kinds[${i}]`, kind)))];
  }
  return { agentId: agentId ?? null, conversationId: conversationId ?? null, kinds: checkedKinds };
}

/** True when a record's scope matches a filter. */
export function matchesFilter(
  filter: PreparedFilter,
  kind: string,
  agentId: string | null,
  conversationId: string | null,
): boolean {
  return (
    (filter.agentId === null || filter.agentId === agentId) &&
    (filter.conversationId === null || filter.conversationId === conversationId) &&
    (filter.kinds === null || filter.kinds.includes(kind))
  );
}
