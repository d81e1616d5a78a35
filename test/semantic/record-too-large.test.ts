/**
 * A semantic write of a record too large for one JavaScript string is refused as the storage
 * path refuses it (`test/core/record-too-large.test.ts`): a ValidationError naming the method
 * and the record, nothing written. The semantic path builds the record's text before its write
 * (the extracted strings joined whole, only then cut to `maxInputChars`), and that join is where
 * such a record overflowed. Two strings of 2^28 characters made by `repeat` are cheap (V8 keeps
 * them as ropes) and their join throws at once, so the test uses a real one. Since 2026-12-06 the
 * core refuses such a record by its size (MAX_JSON_BYTES) before the semantic path sees it.
 */
import {
  createVectorStore,
  type JsonObject,
  type StorageInterface,
  ValidationError,
} from '../../src/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

/** Together longer than V8's longest string (2^29 - 24 characters). */
const half = 'x'.repeat(2 ** 28);
const big: JsonObject = { a: half, b: half };

describe('a semantic write of a record too large for one JavaScript string', () => {
  it.each<[string, string, (storage: StorageInterface) => Promise<unknown>]>([
    ['memoryData', 'storeMemory() of memory "m" of conversation "c"', (s) => s.storeMemory('c', 'm', big)],
    [
      'memories',
      'storeMemories() of 2 items, the first memory "m0" of conversation "c",',
      (s) =>
        s.storeMemories('c', [
          { memoryId: 'm0', data: {} },
          { memoryId: 'm1', data: big },
        ]),
    ],
    ['messages', 'storeRawMessages() of raw messages of "c"', (s) => s.storeRawMessages('c', ['hi', big])],
    ['chainData', 'storeReasoningChain() of reasoning chain of "a"', (s) => s.storeReasoningChain('a', big)],
    [
      'chains',
      'appendReasoningChains() of 2 items, the first chain of agent "a",',
      (s) => s.appendReasoningChains('a', [{ step: 1 }, big]),
    ],
  ])(
    'is a ValidationError naming the method and the record (%s), nothing written',
    async (_field, _what, write) => {
      const storage = new InMemoryStorage({ semantic: { vectorStore: createVectorStore('memory') } });
      await storage.initialize();
      const error: unknown = await write(storage).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      // Since 2026-12-06 the core refuses the record by its size (MAX_JSON_BYTES) before the join.
      expect((error as ValidationError).message).toMatch(
        / is too large to store: its JSON text is at least \d+ UTF-8 bytes, over the limit of 268435456 \(MAX_JSON_BYTES\)$/,
      );
      expect((error as ValidationError).field).toMatch(/^(memory|raw messages|reasoning chain) /);
      expect(await storage.loadMemories('c')).toEqual([]);
      expect(await storage.loadRawMessages('c')).toEqual([]);
      expect(await storage.loadReasoningChains('a')).toEqual([]);
      await storage.close();
    },
  );
});
