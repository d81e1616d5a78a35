/**
 * Conformance: values that are not plain JSON. They are converted exactly as `JSON.stringify`
 * would; what converts to something other than the expected shape, nests deeper than
 * MAX_JSON_DEPTH or carries a reserved top-level field is refused before any I/O, so nothing
 * accepted can fail to load.
 */
import {
  type JsonObject,
  MAX_JSON_DEPTH,
  SerializationError,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { nested, storeCalls, storeSnapshot } from './value-helpers.js';

/** Top-level values that convert (as JSON.stringify would) to something other than an object. */
const NOT_OBJECTS_AFTER_CONVERSION: Record<string, () => unknown> = {
  Date: () => new Date(0),
  'toJSON returning a string': () => ({ toJSON: () => 'x' }),
  'toJSON returning an array': () => ({ toJSON: () => [1] }),
  'toJSON returning undefined': () => ({ toJSON: () => undefined }),
  'toJSON returning null': () => ({ toJSON: () => null }),
  'boxed string': () => Object('text') as unknown,
};

export function valueTests(ctx: SuiteContext): void {
  describe('values that are not plain JSON', () => {
    it.each(Object.entries(NOT_OBJECTS_AFTER_CONVERSION))(
      'refuses a top-level %s with ValidationError before any I/O, on every store method',
      async (_, make) => {
        const s = ctx.storage();
        const before = await storeSnapshot(s);
        const convertsToArray = JSON.stringify(make())?.startsWith('[') === true;
        for (const [name, call] of Object.entries(storeCalls(s))) {
          if (name === 'storeRawMessages' && convertsToArray) continue; // a valid message list
          const error: unknown = await call(make()).then(
            () => new Error(`${name} accepted it`),
            (e: unknown) => e,
          );
          expect([name, error]).toEqual([name, expect.any(ValidationError)]);
        }
        expect(await storeSnapshot(s)).toEqual(before);
      },
    );

    it('refuses a Date as raw messages (it converts to a string, not an array)', async () => {
      const s = ctx.storage();
      await expect(s.storeRawMessages('c1', new Date(0) as never)).rejects.toBeInstanceOf(ValidationError);
      expect(await s.loadRawMessages('c1')).toEqual([]);
    });

    it('converts nested Dates, toJSON (called with its key), boxed primitives and undefined as JSON.stringify does', async () => {
      const s = ctx.storage();
      const value = {
        when: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 5)),
        keyed: { toJSON: (key: string) => `key=${key}` },
        list: [{ toJSON: (key: string) => ({ index: key }) }, new Date(0)],
        boxed: [Object(1.5) as unknown, Object('s') as unknown, Object(false) as unknown],
        dropped: undefined,
        droppedByToJson: { toJSON: () => undefined },
      };
      const expected = JSON.parse(JSON.stringify(value)) as JsonObject;
      const top = { toJSON: (key: string) => ({ topKey: key, ...expected }) };
      const expectedTop = JSON.parse(JSON.stringify(top)) as JsonObject;

      await s.storeConversation('c1', top as never);
      await s.storeRawMessages('c1', [value, top] as never);
      await s.storeMemory('c1', 'm1', value as never);
      await s.storeChunkInfo('c1', value as never);
      await s.storeReasoningChain('a1', value as never);
      await s.storeCacheEntry('k1', value as never);
      await s.storeSystemState('k1', top as never);

      expect(await s.loadConversation('c1')).toEqual(expectedTop);
      expect(await s.loadRawMessages('c1')).toEqual([expected, { ...expectedTop, topKey: '1' }]);
      expect(await s.loadMemories('c1')).toEqual([
        { memory_id: 'm1', created_at: expect.any(String), ...expected },
      ]);
      expect(await s.loadChunkInfo('c1')).toEqual(expected);
      expect(await s.loadReasoningChains('a1')).toEqual([{ stored_at: expect.any(String), ...expected }]);
      expect(await s.loadCacheEntry('k1')).toEqual(expected);
      expect(await s.loadSystemState('k1')).toEqual(expectedTop);
    });

    it('loads -0 as 0, as its JSON text is, in every kind and batch', async () => {
      // Until 2026-12-03 the file backend loaded -0 from the memory and chain lists it keeps in
      // memory (0 once it read the file again); every other backend loaded 0.
      const s = ctx.storage();
      const value = { z: -0, list: [-0, { n: -0 }] };
      await s.storeConversation('c1', value);
      await s.storeRawMessages('c1', [value]);
      await s.storeMemory('c1', 'm1', value);
      await s.storeMemories('c1', [{ memoryId: 'm2', data: value }]);
      await s.storeReasoningChain('a1', value);
      await s.appendReasoningChains('a1', [value]);
      await s.storeChunkInfo('c1', value);
      await s.storeCacheEntry('k1', value);
      await s.storeCacheEntries([{ key: 'k2', data: value }]);
      await s.storeSystemState('k1', value);
      const [batch] = await s.loadConversationBatch(['c1']);
      const loaded = [
        await s.loadConversation('c1'),
        ...(await s.loadRawMessages('c1')),
        ...(await s.loadMemories('c1')),
        ...(await s.loadReasoningChains('a1')),
        ...(batch?.memories ?? []),
        await s.loadChunkInfo('c1'),
        ...(await s.loadCacheEntries(['k1', 'k2'])),
        await s.loadSystemState('k1'),
      ];
      expect(loaded).toHaveLength(12);
      const negativeZeros = (v: unknown): number =>
        Object.is(v, -0)
          ? 1
          : typeof v === 'object' && v !== null
            ? Object.values(v).reduce((n: number, x) => n + negativeZeros(x), 0)
            : 0;
      expect(loaded.map(negativeZeros)).toEqual(loaded.map(() => 0));
      expect(loaded.map((record) => (record as JsonObject).z)).toEqual(loaded.map(() => 0));
    });

    it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels with a ValidationError naming the limit`, async () => {
      const s = ctx.storage();
      const before = await storeSnapshot(s);
      for (const depth of [MAX_JSON_DEPTH + 1, 5000]) {
        for (const [name, call] of Object.entries(storeCalls(s))) {
          // Raw messages: the list itself is the first level.
          const value = name === 'storeRawMessages' ? [nested(depth - 1)] : nested(depth);
          const error: unknown = await call(value).then(
            () => new Error(`${name} accepted depth ${depth}`),
            (e: unknown) => e,
          );
          expect([name, error]).toEqual([name, expect.any(ValidationError)]);
          expect((error as Error).message).toContain(String(MAX_JSON_DEPTH));
        }
      }
      const arrays: unknown[] = [];
      let inner = arrays;
      for (let i = 0; i < 10_000; i += 1) inner.push((inner = []));
      await expect(s.storeConversation('c1', { arrays } as never)).rejects.toBeInstanceOf(ValidationError);
      expect(await storeSnapshot(s)).toEqual(before);
    });

    it(`stores and loads values nested exactly ${MAX_JSON_DEPTH} levels deep`, async () => {
      const s = ctx.storage();
      const deepest = nested(MAX_JSON_DEPTH);
      await s.storeConversation('c1', deepest);
      await s.storeRawMessages('c1', [nested(MAX_JSON_DEPTH - 1)]);
      await s.storeMemory('c1', 'm1', deepest);
      await s.storeCacheEntry('k1', deepest);
      expect(await s.loadConversation('c1')).toEqual(deepest);
      expect(await s.loadRawMessages('c1')).toEqual([nested(MAX_JSON_DEPTH - 1)]);
      expect((await s.loadMemories('c1'))[0]?.child).toEqual(deepest.child);
      expect(await s.loadCacheEntry('k1')).toEqual(deepest);
    });
  });

  describe('reserved top-level fields', () => {
    it('refuses a conversation with its own _storage_metadata and chunk info with its own _metadata', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { v: 1 });
      await s.storeChunkInfo('c1', { v: 1 });
      const before = await storeSnapshot(s);
      const refusals: Array<Promise<unknown>> = [
        s.storeConversation('c1', { v: 2, _storage_metadata: { mine: true } }),
        s.storeConversation('c2', { _storage_metadata: null }),
        s.storeConversation('c2', { toJSON: () => ({ _storage_metadata: 1 }) } as never),
        s.storeChunkInfo('c1', { v: 2, _metadata: { mine: true } }),
        s.storeChunkInfo('c2', { _metadata: 'x' }),
      ];
      for (const refusal of refusals) {
        const error: unknown = await refusal.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as Error).message).toMatch(/"_(storage_)?metadata" is reserved/);
      }
      expect(await storeSnapshot(s)).toEqual(before);
      expect(await s.loadConversation('c1')).toEqual({ v: 1 });
      expect(await s.loadChunkInfo('c1')).toEqual({ v: 1 });
    });

    it('keeps those names as data everywhere else (nested, or in other kinds)', async () => {
      const s = ctx.storage();
      const conversation = { _metadata: 1, nested: { _storage_metadata: 2 } };
      const chunk = { _storage_metadata: 3, nested: { _metadata: 4 } };
      const other = { _storage_metadata: 5, _metadata: 6 };
      await s.storeConversation('c1', conversation);
      await s.storeChunkInfo('c1', chunk);
      await s.storeMemory('c1', 'm1', other);
      await s.storeReasoningChain('a1', other);
      await s.storeCacheEntry('k1', other);
      await s.storeSystemState('k1', other);
      await s.storeRawMessages('c1', [other]);
      expect(await s.loadConversation('c1')).toEqual(conversation);
      expect(await s.loadChunkInfo('c1')).toEqual(chunk);
      expect(await s.loadMemories('c1')).toEqual([
        { memory_id: 'm1', created_at: expect.any(String), ...other },
      ]);
      expect(await s.loadReasoningChains('a1')).toEqual([{ stored_at: expect.any(String), ...other }]);
      expect(await s.loadCacheEntry('k1')).toEqual(other);
      expect(await s.loadSystemState('k1')).toEqual(other);
      expect(await s.loadRawMessages('c1')).toEqual([other]);
    });
  });

  describe('errors thrown by caller code while reading a value', () => {
    const boom = new Error('boom');
    const throwing: Record<string, () => unknown> = {
      'a throwing getter': () => ({
        get bad(): unknown {
          throw boom;
        },
      }),
      'a throwing toJSON': () => ({
        inner: {
          toJSON: () => {
            throw boom;
          },
        },
      }),
      'a Proxy whose traps throw': () =>
        new Proxy(
          {},
          {
            ownKeys: () => {
              throw boom;
            },
            get: () => {
              throw boom;
            },
          },
        ),
    };

    it.each(Object.entries(throwing))(
      'turns %s into a SerializationError with the cause attached',
      async (_, make) => {
        const s: StorageInterface = ctx.storage();
        const before = await storeSnapshot(s);
        for (const [name, call] of Object.entries(storeCalls(s))) {
          const value = name === 'storeRawMessages' ? [make()] : make();
          const error: unknown = await call(value).then(
            () => new Error(`${name} accepted it`),
            (e: unknown) => e,
          );
          expect([name, error]).toEqual([name, expect.any(SerializationError)]);
          expect((error as Error).cause).toBe(boom);
        }
        expect(await storeSnapshot(s)).toEqual(before);
      },
    );
  });
}
