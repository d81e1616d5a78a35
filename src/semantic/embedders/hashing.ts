/**
 * The offline default embedder: feature hashing of words and character n-grams into a fixed
 * number of buckets, L2-normalised. Deterministic and free, but LEXICAL: texts are near when
 * they share words or word pieces ("password" / "passwords"), not when they share meaning
 * without sharing words ("car" / "automobile").
 */
import { z } from 'zod';
import { parseBackendConfig } from '../../core/config.js';
import { validateDimensions, validateEmbedArguments } from './checks.js';
import type { EmbedOptions, Embedder } from './types.js';

/** Config of the hashing embedder. */
export interface HashingEmbedderConfig {
  /** Vector size (default 256); more buckets, fewer collisions. */
  dimensions?: number;
}

/** Default vector size of the hashing embedder. */
export const DEFAULT_HASHING_DIMENSIONS = 256;

const hashingSchema = z.object({
  dimensions: z.number().int().min(1).max(8192).default(DEFAULT_HASHING_DIMENSIONS),
});

// Function words carry no topic; hashing them only adds noise shared by unrelated texts.
const STOP_WORDS = new Set(
  (
    'a an and are as at be by do does for from has have how i in is it its my of on or our so ' +
    'that the this to was we were what when where which who why will with you your'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;
const WORD_WEIGHT = 1;
// Per n-gram; a word's pieces together outweigh the whole word, so inflections end up near.
const NGRAM_WEIGHT = 0.35;
const NGRAM_SIZES = [3, 4] as const;

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The words of a text that carry content: lower-cased, NFKC, stop words dropped. */
function contentWords(text: string): string[] {
  const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  const kept = words.filter((word) => !STOP_WORDS.has(word));
  return kept.length > 0 ? kept : words;
}

/** Adds `weight` to the bucket of `feature`, with a hash-chosen sign so collisions cancel out on average. */
function addFeature(vector: Float64Array, feature: string, weight: number): void {
  const hash = fnv1a(feature);
  const bucket = hash % vector.length;
  vector[bucket] = (vector[bucket] ?? 0) + (hash & 0x80000000 ? -weight : weight);
}

/** Below this norm every bucket cancelled out (see {@link hashText}). */
const MIN_NORM = 0.025;

function vectorNorm(vector: Float64Array): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}

/** The hashed, L2-normalised feature vector of one text (never all zeros). */
export function hashText(text: string, dimensions: number): Float32Array {
  const vector = new Float64Array(dimensions);
  const words = contentWords(text);
  for (const word of words) {
    addFeature(vector, `w:${word}`, WORD_WEIGHT);
    // Word pieces make inflections near ("password" / "passwords", "recover" / "recovery").
    const padded = `#${word}#`;
    for (const size of NGRAM_SIZES) {
      const count = padded.length - size + 1;
      for (let i = 0; i < count; i += 1) addFeature(vector, `c:${padded.slice(i, i + size)}`, NGRAM_WEIGHT);
    }
  }
  // A text without words still gets a direction, so cosine distance is defined for it.
  if (words.length === 0) addFeature(vector, 'empty', 1);
  let norm = vectorNorm(vector);
  // Features of opposite signs in one bucket can cancel out exactly ("e ⱥ" at 256 dimensions):
  // the text then gets the direction of a text without words instead of 0 / 0. A bucket that
  // did not cancel holds a multiple of 0.05 (weights 1 and 0.35 = 7/20), so a smaller norm is
  // only rounding left over from a cancellation; no other vector changes.
  if (norm < MIN_NORM) {
    vector.fill(0);
    addFeature(vector, 'empty', 1);
    norm = vectorNorm(vector);
  }
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i += 1) out[i] = (vector[i] ?? 0) / norm;
  return out;
}

/** Deterministic, offline embedder by feature hashing (see the module comment for its limits). */
export class HashingEmbedder implements Embedder {
  /** `hashing:v1`: bump the version whenever the features change, so old indexes are refused. */
  readonly id = 'hashing:v1';
  /** Vector size. */
  readonly dimensions: number;

  constructor(config: HashingEmbedderConfig = {}) {
    const parsed = parseBackendConfig('hashing embedder', hashingSchema, config);
    this.dimensions = validateDimensions('dimensions', parsed.dimensions);
  }

  /** Queries and documents are hashed alike, so `purpose` changes nothing. */
  async embed(givenTexts: readonly string[], options: EmbedOptions): Promise<Float32Array[]> {
    const { texts } = validateEmbedArguments(givenTexts, options);
    return texts.map((text) => hashText(text, this.dimensions));
  }
}
