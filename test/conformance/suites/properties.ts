/**
 * Conformance: property-based tests (fast-check) over ids, keys and values. Seeded, so a
 * failure reproduces, and bounded in runs and time, so every backend's run stays short.
 */
import fc from 'fast-check';
import {
  InvalidIdError,
  type JsonObject,
  type JsonValue,
  MAX_ID_BYTES,
  MAX_JSON_DEPTH,
  SerializationError,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { nested, storeCalls, storeSnapshot } from './value-helpers.js';

/** Same seed every run; few runs, and a time cap that ends a slow run early instead of timing out. */
const RUN = { seed: 20260530, numRuns: 12, interruptAfterTimeLimit: 3000 } as const;

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
const validId = trickyString([]).filter(
  (s) => isValidId(s) && s.isWellFormed() && Buffer.byteLength(s) <= MAX_ID_BYTES,
);
const validKey = trickyString(['/', '\\', '\n', '\t', '\u007f', 'A', 'b']).filter(
  (s) => s.length > 0 && s.isWellFormed() && !s.includes('\u0000'),
);

/** Ids that break the rules, each with a different reason. */
const invalidId: fc.Arbitrary<unknown> = fc.oneof(
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
const invalidKey: fc.Arbitrary<unknown> = fc.oneof(
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
const jsonObject: fc.Arbitrary<JsonObject> = fc.dictionary(
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
const convertibleObject = fc.dictionary(
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
const badValue = fc.tuple(jsonObject, jsonKey, fc.nat(3), badLeaf).map(([host, key, depth, leaf]) => ({
  error: leaf.error,
  make: () => {
    let inner: unknown = leaf.make();
    for (let i = 0; i < depth; i += 1) inner = i % 2 === 0 ? [inner] : { inner };
    return { ...host, [key]: inner };
  },
}));
/** Top-level values refused by shape (converted, they are not objects) or by a reserved field. */
const badTopLevel = fc.constantFrom<{ make: () => unknown; only?: string }>(
  { make: () => new Date(0) },
  { make: () => ({ toJSON: () => 'x' }) },
  { make: () => ({ toJSON: () => null }) },
  { make: () => ({ _storage_metadata: {} }), only: 'storeConversation' },
  { make: () => ({ _metadata: {} }), only: 'storeChunkInfo' },
);

const METHOD_NAMES = Object.keys(storeCalls({} as StorageInterface));

/** Expected load of a stored value: what JSON.stringify makes of it. */
const asStored = (value: unknown): JsonValue => JSON.parse(JSON.stringify(value) ?? 'null') as JsonValue;

export function propertyTests(ctx: SuiteContext): void {
  describe('properties (fast-check)', () => {
    it('valid ids and keys round-trip, list exactly, and never share a record', async () => {
      const s = ctx.storage();
      const uniqueIds = fc.uniqueArray(validId, { minLength: 2, maxLength: 3 });
      const uniqueKeys = fc.uniqueArray(validKey, { minLength: 2, maxLength: 3 });
      await fc.assert(
        fc.asyncProperty(uniqueIds, uniqueKeys, async (ids, keys) => {
          for (const id of ids) {
            await s.storeConversation(id, { id });
            await s.storeMemory(ids[0] as string, id, { id });
            await s.storeReasoningChain(id, { id });
          }
          for (const key of keys) {
            await s.storeCacheEntry(key, { key });
            await s.storeSystemState(key, { key });
          }
          for (const id of ids) {
            expect(await s.loadConversation(id)).toEqual({ id });
            // Agents cannot be deleted, so an id drawn again holds older chains: check the newest.
            expect(await s.loadReasoningChains(id, 1)).toEqual([{ stored_at: expect.any(String), id }]);
          }
          expect((await s.loadMemories(ids[0] as string)).map((m) => [m.memory_id, m.id])).toEqual(
            ids.map((id) => [id, id]),
          );
          for (const key of keys) {
            expect(await s.loadCacheEntry(key)).toEqual({ key });
            expect(await s.loadSystemState(key)).toEqual({ key });
          }
          expect(await s.listConversations()).toEqual([...ids].sort());
          expect(await s.listAgents()).toEqual(expect.arrayContaining(ids));
          expect(await s.listCacheKeys()).toEqual([...keys].sort());
          expect(await s.listSystemStateKeys()).toEqual([...keys].sort());
          for (const id of ids) await s.deleteConversation(id);
          for (const key of keys) {
            await s.deleteCacheEntry(key);
            await s.deleteSystemState(key);
          }
          expect(await s.listAllConversationIds()).toEqual([]);
          expect(await s.listCacheKeys()).toEqual([]);
        }),
        RUN,
      );
    });

    it('arbitrary JSON values round-trip exactly in every kind', async () => {
      const s = ctx.storage();
      const messages = fc.array(
        fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }) as fc.Arbitrary<JsonValue>,
        {
          maxLength: 4,
        },
      );
      await fc.assert(
        fc.asyncProperty(jsonObject, messages, async (value, list) => {
          const expected = JSON.stringify(asStored(value));
          await s.storeConversation('c1', value);
          await s.storeRawMessages('c1', list);
          await s.storeMemory('c1', 'm1', value);
          await s.storeChunkInfo('c1', value);
          await s.storeCacheEntry('k1', value);
          await s.storeSystemState('k1', value);
          expect(JSON.stringify(await s.loadConversation('c1'))).toBe(expected);
          expect(JSON.stringify(await s.loadRawMessages('c1'))).toBe(JSON.stringify(asStored(list)));
          const [memory] = await s.loadMemories('c1');
          expect(JSON.stringify({ ...memory, memory_id: undefined, created_at: undefined })).toBe(expected);
          expect(JSON.stringify(await s.loadChunkInfo('c1'))).toBe(expected);
          expect(JSON.stringify(await s.loadCacheEntry('k1'))).toBe(expected);
          expect(JSON.stringify(await s.loadSystemState('k1'))).toBe(expected);
        }),
        RUN,
      );
    });

    it('Dates, toJSON and boxed primitives load back as JSON.stringify made them', async () => {
      const s = ctx.storage();
      await fc.assert(
        fc.asyncProperty(convertibleObject, async (value) => {
          const expected = asStored(value);
          await s.storeConversation('c1', value as never);
          await s.storeCacheEntry('k1', value as never);
          await s.storeRawMessages('c1', [value] as never);
          expect(await s.loadConversation('c1')).toEqual(expected);
          expect(await s.loadCacheEntry('k1')).toEqual(expected);
          expect(await s.loadRawMessages('c1')).toEqual([expected]);
        }),
        RUN,
      );
    });

    it('invalid ids and keys are refused with InvalidIdError before any I/O', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { v: 1 });
      await s.storeCacheEntry('k1', { v: 1 });
      const before = await storeSnapshot(s);
      // A closed instance: a NotInitializedError here would mean the store was reached before validation.
      const closed = await ctx.openAnother();
      await closed.shutdown();
      for (const store of [s, closed]) {
        await fc.assert(
          fc.asyncProperty(invalidId, invalidKey, async (id, key) => {
            const calls: Array<Promise<unknown>> = [
              store.storeConversation(id as string, { v: 2 }),
              store.loadConversation(id as string),
              store.deleteConversation(id as string),
              store.storeMemory('c1', id as string, { v: 2 }),
              store.storeReasoningChain(id as string, { v: 2 }),
              store.storeCacheEntry(key as string, { v: 2 }),
              store.deleteCacheEntry(key as string),
              store.storeSystemState(key as string, { v: 2 }),
              store.loadSystemState(key as string),
            ];
            for (const call of calls) await expect(call).rejects.toBeInstanceOf(InvalidIdError);
          }),
          RUN,
        );
      }
      expect(await storeSnapshot(s)).toEqual(before);
    });

    it('invalid values are refused with the right typed error before any I/O, changing nothing', async () => {
      const s = ctx.storage();
      // Records under the same ids and keys the refused calls use: they must stay as they are.
      for (const [name, call] of Object.entries(storeCalls(s))) {
        await call(name === 'storeRawMessages' ? [{ old: true }] : { old: true });
      }
      const before = await storeSnapshot(s);
      const closed = await ctx.openAnother();
      await closed.shutdown();
      const method = fc.constantFrom(...METHOD_NAMES);
      await fc.assert(
        fc.asyncProperty(method, badValue, fc.boolean(), async (name, bad, useClosed) => {
          const call = storeCalls(useClosed ? closed : s)[name] as (v: unknown) => Promise<unknown>;
          const value = name === 'storeRawMessages' ? [bad.make()] : bad.make();
          await expect(call(value)).rejects.toBeInstanceOf(bad.error);
        }),
        RUN,
      );
      await fc.assert(
        fc.asyncProperty(method, badTopLevel, fc.boolean(), async (name, bad, useClosed) => {
          fc.pre(bad.only === undefined || bad.only === name);
          const call = storeCalls(useClosed ? closed : s)[name] as (v: unknown) => Promise<unknown>;
          await expect(call(bad.make())).rejects.toBeInstanceOf(ValidationError);
        }),
        RUN,
      );
      expect(await storeSnapshot(s)).toEqual(before);
    });
  });
}
