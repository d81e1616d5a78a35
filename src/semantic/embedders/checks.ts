/**
 * Checks shared by every embedder: the texts going in (before any I/O) and the vectors coming
 * out (count, size, finite numbers), so a misbehaving model or service never reaches a store.
 */
import { describeValue, ValidationError } from '../../core/errors.js';
import { EmbedderError } from '../errors.js';
import type { EmbedOptions, Embedder } from './types.js';

/** Most texts one `embed()` call takes; larger jobs are the caller's to split. */
export const MAX_TEXTS_PER_CALL = 100_000;

/** Largest vector size accepted anywhere (sqlite-vec's own limit). */
export const MAX_DIMENSIONS = 8192;

/** Checks a `dimensions` setting: a whole number from 1 to {@link MAX_DIMENSIONS}. */
export function validateDimensions(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DIMENSIONS) {
    throw new ValidationError(
      field,
      `must be a whole number from 1 to ${MAX_DIMENSIONS}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * Checks `embed()` arguments before any work: an array of well-formed strings and a purpose.
 * Returns copies read once (a Proxy or getter of the caller's may answer differently twice);
 * one that throws while read is a `ValidationError` too.
 */
export function validateEmbedArguments(
  texts: unknown,
  options: unknown,
): { texts: string[]; options: EmbedOptions } {
  let copy: unknown[];
  let purpose: unknown;
  let signal: unknown;
  try {
    if (!Array.isArray(texts))
      throw new ValidationError('texts', `must be an array of strings, got ${describeValue(texts)}`);
    copy = [...(texts as unknown[])];
    ({ purpose, signal } = (options ?? {}) as Partial<EmbedOptions>);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError('texts', 'reading the texts or options threw', error);
  }
  if (copy.length > MAX_TEXTS_PER_CALL) {
    throw new ValidationError('texts', `at most ${MAX_TEXTS_PER_CALL} per call, got ${copy.length}`);
  }
  copy.forEach((text: unknown, index) => {
    if (typeof text !== 'string')
      throw new ValidationError(`texts[${index}]`, `must be a string, got ${describeValue(text)}`);
    if (!text.isWellFormed())
      throw new ValidationError(`texts[${index}]`, 'contains a lone UTF-16 surrogate');
  });
  if (purpose !== 'query' && purpose !== 'document') {
    throw new ValidationError('purpose', `must be "query" or "document", got ${describeValue(purpose)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError('signal', 'must be an AbortSignal');
  }
  return { texts: copy as string[], options: signal === undefined ? { purpose } : { purpose, signal } };
}

/**
 * Converts what a model returned into checked vectors: exactly `expected` of them, each of
 * `embedder.dimensions` finite numbers; anything else is an {@link EmbedderError}. `offset`:
 * the position of the first of them among the texts of the `embed()` call (a batch of a
 * larger call), so a wrong vector's error gives its text's position in that call (`index`).
 */
export function checkVectors(
  embedder: Pick<Embedder, 'id' | 'dimensions'>,
  vectors: unknown,
  expected: number,
  offset = 0,
): Float32Array[] {
  if (!Array.isArray(vectors)) {
    throw new EmbedderError(
      embedder.id,
      'malformed',
      `returned ${describeValue(vectors)} instead of a list of vectors`,
    );
  }
  if (vectors.length !== expected) {
    throw new EmbedderError(
      embedder.id,
      'malformed',
      `returned ${vectors.length} vectors for ${expected} texts`,
    );
  }
  return vectors.map((vector: unknown, at) => {
    const index = offset + at;
    if (!Array.isArray(vector) && !(vector instanceof Float32Array) && !(vector instanceof Float64Array)) {
      throw new EmbedderError(
        embedder.id,
        'malformed',
        `vector ${index} is ${describeValue(vector)}, not a list of numbers`,
        { index },
      );
    }
    if (vector.length !== embedder.dimensions) {
      throw new EmbedderError(
        embedder.id,
        'dimensions',
        `vector ${index} has ${vector.length} dimensions, expected ${embedder.dimensions} (wrong model or dimensions setting?)`,
        { index },
      );
    }
    const out = new Float32Array(vector.length);
    for (let i = 0; i < vector.length; i += 1) {
      const value: unknown = vector[i];
      // Checked as a float32 too: 1e39 is a finite double but Infinity in the Float32Array, which
      // every vector store refuses, after the record's write (a chain append cannot be undone).
      if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isFinite(Math.fround(value))) {
        throw new EmbedderError(
          embedder.id,
          'malformed',
          `vector ${index} holds ${describeValue(value)} at ${i}, not a finite float32 number`,
          { index },
        );
      }
      out[i] = value;
    }
    return out;
  });
}

/** An {@link EmbedderError} (`aborted`) when `signal` has fired. */
export function throwIfAborted(embedderId: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new EmbedderError(embedderId, 'aborted', 'cancelled by the caller', { cause: signal.reason });
}

/**
 * Wraps any embedder (a user's registered one too) so its arguments are checked before any
 * work and its output is checked after: wrong counts, sizes or non-finite numbers become an
 * {@link EmbedderError}; a plain error it throws is wrapped in one.
 */
export function checkedEmbedder(inner: Embedder): Embedder {
  const id = inner.id;
  const dimensions = validateDimensions('dimensions', inner.dimensions);
  if (typeof id !== 'string' || id === '' || id.includes('\u0000')) {
    throw new ValidationError('id', `an embedder id must be a non-empty string, got ${describeValue(id)}`);
  }
  return {
    id,
    dimensions,
    async embed(givenTexts, givenOptions) {
      const { texts, options } = validateEmbedArguments(givenTexts, givenOptions);
      throwIfAborted(id, options.signal);
      if (texts.length === 0) return [];
      let vectors: unknown;
      try {
        vectors = await inner.embed(texts, options);
      } catch (error) {
        if (error instanceof EmbedderError || error instanceof ValidationError) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new EmbedderError(id, 'failed', `failed: ${reason}`, { cause: error });
      }
      return checkVectors({ id, dimensions }, vectors, texts.length);
    },
  };
}

/** Splits `items` into consecutive batches of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}
