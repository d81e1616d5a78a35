/** fast-check arbitraries of the property suite: valid and invalid ids, keys and values. */
import fc from 'fast-check';
import {
  type JsonObject,
  type JsonValue,
  MAX_ID_BYTES,
  MAX_JSON_DEPTH,
  SerializationError,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import { nested, storeCalls } from './value-helpers.js';

/** Same seed every run; few runs, and a time cap that ends a slow run early instead of timing out. */
export const RUN = { seed: 20260530, numRuns: 12, interruptAfterTimeLimit: 3000 } as const;

// ----- ids and keys ------------------------------------------------------------------------

/** Characters that stress file names, hash tags and SQL: separators are added only to keys. */
const TRICKY_CHARS = [
  'a',
  'Z',
  '.',
  '-',
  '_',
  ' ',
  ':',
  '%',
  '{',
  '}',
  '*',
  '?',
  '"',
  "'",
  'é',
  '會',
  '🧠',
  '\u0301',
];
const trickyString = (extra: string[]) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
    fc.string({ unit: fc.constantFrom(...TRICKY_CHARS, ...extra), minLength: 1, maxLength: 12 }),
  );

// eslint-disable-next-line no-control-regex
const isValidId = (s: string) => !/[\u0000-\u001f\u007f/\\]/.test(s) && s !== '.' && s !== '..';
export const validId = trickyString([]).filter(
  (s) => isValidId(s) && s.isWellFormed() && Buffer.byteLength(s) <= MAX_ID_BYTES,
);
export const validKey = trickyString(['/', '\\', '\n', '\t', '\u007f', 'A', 'b']).filter(
  (s) => s.length > 0 && s.isWellFormed() && !s.includes('\u0000'),
);

/** Ids that break the rules, each with a different reason. */
export const invalidId: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', '.', '..', 'é'.repeat(128), 'x'.repeat(MAX_ID_BYTES + 1)),
  fc
    .tuple(
      validId,
      fc.constantFrom('/', '\\', '\u0000', '\n', '\u001f', '\u007f', '\ud800', '\udfff'),
      validId,
    )
    .map(([a, bad, b]) => a + bad + b),
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object({ maxDepth: 1 })),
);
export const invalidKey: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(''),
  fc
    .tuple(validKey, fc.constantFrom('\u0000', '\ud800', '\udc00'), validKey)
    .map(([a, bad, b]) => a + bad + b),
  fc.oneof(fc.integer(), fc.constant(null), fc.constant(undefined), fc.array(fc.string(), { maxLength: 2 })),
);

// ----- values ------------------------------------------------------------------------------

/** Keys the core or the formats give a meaning (D7, D8, reserved fields) stay out of the generic values. */
const MEANINGFUL_KEYS = new Set(['memory_id', 'created_at', 'stored_at', '_storage_metadata', '_metadata']);
// Strings in values may hold anything, lone surrogates and NUL included: JSON escapes them.
const anyString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
const jsonKey = anyString.filter((k) => !MEANINGFUL_KEYS.has(k));
export const jsonObject: fc.Arbitrary<JsonObject> = fc.dictionary(
  jsonKey,
  fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }) as fc.Arbitrary<JsonValue>,
  { maxKeys: 6 },
);

/** Values that are not plain JSON but convert like JSON.stringify converts them. */
const convertible: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.date({ noInvalidDate: true }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => ({ toJSON: () => v })),
  fc.string().map((v) => ({ toJSON: (key: string) => `${key}:${v}` })),
  fc
    .oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean())
    .map((v) => Object(v) as unknown),
);
export const convertibleObject = fc.dictionary(
  jsonKey,
  fc.oneof(convertible, fc.array(convertible, { maxLength: 3 })),
  {
    maxKeys: 6,
  },
);

/** A value that must be refused, and the error class it must be refused with. */
interface BadValue {
  make: () => unknown;
  error: typeof SerializationError | typeof ValidationError;
}
const badLeaf: fc.Arbitrary<BadValue> = fc.constantFrom<BadValue>(
  { make: () => BigInt(1), error: SerializationError },
  { make: () => Number.NaN, error: SerializationError },
  { make: () => Number.NEGATIVE_INFINITY, error: SerializationError },
  { make: () => () => 1, error: SerializationError },
  { make: () => Symbol('s'), error: SerializationError },
  { make: () => new Map([[1, 2]]), error: SerializationError },
  { make: () => new Date(Number.NaN), error: SerializationError },
  { make: () => [undefined], error: SerializationError },
  { make: () => ({ toJSON: () => BigInt(2) }), error: SerializationError },
  { make: () => nested(MAX_JSON_DEPTH + 1), error: ValidationError },
);
/** A valid object with a bad leaf somewhere inside it. */
export const badValue = fc.tuple(jsonObject, jsonKey, fc.nat(3), badLeaf).map(([host, key, depth, leaf]) => ({
  error: leaf.error,
  make: () => {
    let inner: unknown = leaf.make();
    for (let i = 0; i < depth; i += 1) inner = i % 2 === 0 ? [inner] : { inner };
    return { ...host, [key]: inner };
  },
}));
/** Top-level values refused by shape (converted, they are not objects) or by a reserved field. */
export const badTopLevel = fc.constantFrom<{ make: () => unknown; only?: string }>(
  { make: () => new Date(0) },
  { make: () => ({ toJSON: () => 'x' }) },
  { make: () => ({ toJSON: () => null }) },
  { make: () => ({ _storage_metadata: {} }), only: 'storeConversation' },
  { make: () => ({ _metadata: {} }), only: 'storeChunkInfo' },
);

export const METHOD_NAMES = Object.keys(storeCalls({} as StorageInterface));

/** Expected load of a stored value: what JSON.stringify makes of it. */
export const asStored = (value: unknown): JsonValue =>
  JSON.parse(JSON.stringify(value) ?? 'null') as JsonValue;
