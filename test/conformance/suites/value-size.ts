/**
 * Conformance: the size limit of one stored value, MAX_JSON_BYTES UTF-8 bytes of its JSON text,
 * checked by the core before any I/O. Until 2026-12-06 the only limit was a JavaScript string's
 * length (2^29 - 24 UTF-16 units), so `'會'.repeat(180_000_000)` (540,000,000 UTF-8 bytes) was
 * accepted and then lost: SQLite's and PostgreSQL's loads killed the process, the file backend
 * called the file "not valid UTF-8" and Redis dropped the connection after ~14 s. A value at
 * the real limit takes seconds and hundreds of MB to build, so the limit is lowered here.
 */
import { type JsonObject, type StorageInterface, ValidationError } from '../../../src/core/index.js';
import { setJsonByteLimitForTests } from '../../../src/core/json-bytes.js';
import { EMPTY_COUNTS, type SuiteContext } from '../context.js';

const LIMIT = 4096;
/** `{"text":"..."}` around the text. */
const WRAPPER = Buffer.byteLength(JSON.stringify({ text: '' }));

/** Over the limit in UTF-8 bytes, though far under it in characters: 3 bytes a character. */
const wide: JsonObject = { text: '會'.repeat(Math.ceil(LIMIT / 3)) };
/** Over the limit only as JSON text: each control character is written as `\u0001`. */
const escaped: JsonObject = { text: '\u0001'.repeat(Math.ceil(LIMIT / 6) + 1) };
/** Exactly the limit. */
const atLimit: JsonObject = { text: 'a'.repeat(LIMIT - WRAPPER) };

type Write = (s: StorageInterface, value: JsonObject) => Promise<unknown>;

/** One write of each kind of record, with the name its refusal gives the record. */
const WRITES: Array<[string, string, Write]> = [
  ['storeCacheEntry', 'cache entry "k"', (s, v) => s.storeCacheEntry('k', v)],
  ['storeCacheEntries', 'cache entry "k"', (s, v) => s.storeCacheEntries([{ key: 'k', data: v }])],
  ['storeSystemState', 'system state "s"', (s, v) => s.storeSystemState('s', v)],
  ['storeConversation', 'conversation "c"', (s, v) => s.storeConversation('c', v)],
  ['storeRawMessages', 'raw messages of "c"', (s, v) => s.storeRawMessages('c', [v])],
  ['storeChunkInfo', 'chunk info of "c"', (s, v) => s.storeChunkInfo('c', v)],
  ['storeMemory', 'memory "m"', (s, v) => s.storeMemory('c', 'm', v)],
  ['storeMemories', 'memory "m"', (s, v) => s.storeMemories('c', [{ memoryId: 'm', data: v }])],
  ['storeReasoningChain', 'reasoning chain of "a"', (s, v) => s.storeReasoningChain('a', v)],
  ['appendReasoningChains', 'reasoning chain of "a"', (s, v) => s.appendReasoningChains('a', [{ ok: 1 }, v])],
];

export function valueSizeTests(ctx: SuiteContext): void {
  describe('values of at most MAX_JSON_BYTES UTF-8 bytes of JSON (lowered for the test)', () => {
    beforeAll(() => setJsonByteLimitForTests(LIMIT));
    afterAll(() => setJsonByteLimitForTests(undefined));

    it.each(WRITES)(
      '%s refuses a value over the limit in bytes, naming it, writing nothing',
      async (_, name, write) => {
        const s = ctx.storage();
        for (const value of [wide, escaped]) {
          const error: unknown = await write(s, value).then(
            () => new Error('accepted a value over the limit'),
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(ValidationError);
          const message = (error as Error).message;
          expect(message).toContain(name);
          expect(message).toMatch(
            /is too large to store: its JSON text is \d+ UTF-8 bytes, over the limit of 4096/,
          );
        }
        expect(await s.getStorageStats()).toMatchObject(EMPTY_COUNTS);
        expect(await s.loadCacheEntry('k')).toBeNull();
        expect(await s.loadMemories('c')).toEqual([]);
      },
    );

    it('stores and loads a value of exactly the limit', async () => {
      const s = ctx.storage();
      expect(Buffer.byteLength(JSON.stringify(atLimit))).toBe(LIMIT);
      await s.storeCacheEntry('k', atLimit);
      await s.storeSystemState('s', atLimit);
      expect(await s.loadCacheEntry('k')).toEqual(atLimit);
      expect(await s.loadSystemState('s')).toEqual(atLimit);
    });
  });
}
