/**
 * Conformance: property-based tests (fast-check) over ids, keys and values. Seeded, so a
 * failure reproduces, and bounded in runs and time, so every backend's run stays short.
 */
import fc from 'fast-check';
import { assertAsync } from '../../support/assert-async.js';
import {
  compareCodePoints,
  InvalidIdError,
  type JsonValue,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import {
  asStored,
  badTopLevel,
  badValue,
  convertibleObject,
  invalidId,
  invalidKey,
  jsonObject,
  METHOD_NAMES,
  RUN,
  validId,
  validKey,
} from './property-arbitraries.js';
import { storeCalls, storeSnapshot } from './value-helpers.js';

export function propertyTests(ctx: SuiteContext): void {
  describe('properties (fast-check)', () => {
    it('valid ids and keys round-trip, list exactly, and never share a record', async () => {
      const s = ctx.storage();
      const uniqueIds = fc.uniqueArray(validId, { minLength: 2, maxLength: 3 });
      const uniqueKeys = fc.uniqueArray(validKey, { minLength: 2, maxLength: 3 });
      await assertAsync(
        [uniqueIds, uniqueKeys],
        async (ids, keys) => {
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
          expect(await s.listConversations()).toEqual([...ids].sort(compareCodePoints));
          expect(await s.listAgents()).toEqual(expect.arrayContaining(ids));
          expect(await s.listCacheKeys()).toEqual([...keys].sort(compareCodePoints));
          expect(await s.listSystemStateKeys()).toEqual([...keys].sort(compareCodePoints));
          for (const id of ids) await s.deleteConversation(id);
          for (const key of keys) {
            await s.deleteCacheEntry(key);
            await s.deleteSystemState(key);
          }
          expect(await s.listAllConversationIds()).toEqual([]);
          expect(await s.listCacheKeys()).toEqual([]);
        },
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
      await assertAsync(
        [jsonObject, messages],
        async (value, list) => {
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
        },
        RUN,
      );
    });

    it('Dates, toJSON and boxed primitives load back as JSON.stringify made them', async () => {
      const s = ctx.storage();
      await assertAsync(
        [convertibleObject],
        async (value) => {
          const expected = asStored(value);
          await s.storeConversation('c1', value as never);
          await s.storeCacheEntry('k1', value as never);
          await s.storeRawMessages('c1', [value] as never);
          expect(await s.loadConversation('c1')).toEqual(expected);
          expect(await s.loadCacheEntry('k1')).toEqual(expected);
          expect(await s.loadRawMessages('c1')).toEqual([expected]);
        },
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
        await assertAsync(
          [invalidId, invalidKey],
          async (id, key) => {
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
          },
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
      await assertAsync(
        [method, badValue, fc.boolean()],
        async (name, bad, useClosed) => {
          const call = storeCalls(useClosed ? closed : s)[name] as (v: unknown) => Promise<unknown>;
          const value = name === 'storeRawMessages' ? [bad.make()] : bad.make();
          await expect(call(value)).rejects.toBeInstanceOf(bad.error);
        },
        RUN,
      );
      await assertAsync(
        [method, badTopLevel, fc.boolean()],
        async (name, bad, useClosed) => {
          fc.pre(bad.only === undefined || bad.only === name);
          const call = storeCalls(useClosed ? closed : s)[name] as (v: unknown) => Promise<unknown>;
          await expect(call(bad.make())).rejects.toBeInstanceOf(ValidationError);
        },
        RUN,
      );
      expect(await storeSnapshot(s)).toEqual(before);
    });
  });
}
