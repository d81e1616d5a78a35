/**
 * Values come back exactly as stored: any Unicode (NUL, controls, astral characters, lone
 * surrogates inside values), key order and numbers, which `jsonb` would refuse or change.
 */
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';

const AWKWARD = {
  zeta: 'last key first',
  nul: 'a\u0000b\u0000',
  controls: '\u0001\u0007\b\t\n\u000b\f\r\u001b\u001f\u007f\u0080\u009f',
  astral: '🧠💾 𝄞 會話-ü e\u0301',
  lone: 'high \ud800 low \udfff',
  quotes: '"\'\\ \\u0000 {} [] ,',
  nested: { b: 1, a: 2, '': 'empty key', 'key with \u0000 nul': true, ünï: [3, 2, 1] },
  numbers: [0, -0.5, 1e21, 1.7976931348623157e308, 5e-324, Number.MAX_SAFE_INTEGER],
  alpha: null,
};

describeWithService('postgres')('postgres value exactness', () => {
  const ctx = usePostgresStore();

  it('keeps an own "__proto__" key, integer-like keys and key order in a memory', async () => {
    const s = await ctx.open();
    const data = JSON.parse('{"b": 1, "__proto__": {"x": 1}, "7": "seven", "a": [2]}') as Record<
      string,
      never
    >;
    await s.storeMemory('c', 'm', data);
    await s.storeMemories('c', [{ memoryId: 'n', data }]);
    const loaded = await s.loadMemories('c');
    for (const memory of loaded) {
      expect(Object.keys(memory)).toEqual(['7', 'memory_id', 'created_at', 'b', '__proto__', 'a']);
      expect(Object.getPrototypeOf(memory)).toBe(Object.prototype);
      expect(JSON.stringify(memory.__proto__)).toBe('{"x":1}');
    }
  });

  it('round-trips awkward strings and key order through every kind', async () => {
    const s = await ctx.open();
    const expected = JSON.stringify(AWKWARD);
    await s.storeConversation('c', AWKWARD);
    await s.storeChunkInfo('c', AWKWARD);
    await s.storeSystemState('state \u0001 key', AWKWARD);
    await s.storeCacheEntry('cache 🧠 key', AWKWARD, 3600);
    await s.storeRawMessages('c', [AWKWARD, 'a\u0000', [AWKWARD], 7, null]);
    await s.storeMemory('c', 'm', AWKWARD);
    await s.storeReasoningChain('a', AWKWARD);

    expect(JSON.stringify(await s.loadConversation('c'))).toBe(expected);
    expect(JSON.stringify(await s.loadChunkInfo('c'))).toBe(expected);
    expect(JSON.stringify(await s.loadSystemState('state \u0001 key'))).toBe(expected);
    expect(JSON.stringify(await s.loadCacheEntry('cache 🧠 key'))).toBe(expected);
    expect(await s.listSystemStateKeys()).toEqual(['state \u0001 key']);
    expect(JSON.stringify(await s.loadRawMessages('c'))).toBe(
      JSON.stringify([AWKWARD, 'a\u0000', [AWKWARD], 7, null]),
    );

    const [memory] = await s.loadMemories('c');
    expect(Object.keys(memory ?? {})).toEqual(['memory_id', 'created_at', ...Object.keys(AWKWARD)]);
    const memoryRest = { ...memory };
    delete memoryRest.memory_id;
    delete memoryRest.created_at;
    expect(JSON.stringify(memoryRest)).toBe(expected);

    const [chain] = await s.loadReasoningChains('a');
    expect(Object.keys(chain ?? {})).toEqual(['stored_at', ...Object.keys(AWKWARD)]);
  });

  it('stores the exact JSON text in the row', async () => {
    const s = await ctx.open();
    await s.storeConversation('c', AWKWARD);
    const { rows } = await ctx
      .raw()
      .query<{ data: string }>(
        `SELECT data FROM ${ident(ctx.schema())}.conversations WHERE conversation_id = 'c'`,
      );
    expect(rows[0]?.data).toBe(JSON.stringify(AWKWARD));
  });

  it('keeps key order of a replaced memory and of a caller created_at', async () => {
    const s = await ctx.open();
    await s.storeMemory('c', 'm', { y: 1, created_at: '2020-01-01T00:00:00.000000+00:00', x: 2 });
    await s.storeMemory('c', 'n', { created_at: { not: 'a string' }, b: 1 });
    await s.storeMemory('c', 'm', { x: 3, y: 4 });
    const loaded = await s.loadMemories('c');
    expect(loaded.map((m) => Object.keys(m))).toEqual([
      ['memory_id', 'created_at', 'x', 'y'],
      ['memory_id', 'created_at', 'b'],
    ]);
    expect(loaded[0]?.created_at).toBe('2020-01-01T00:00:00.000000+00:00');
    expect(loaded[1]?.created_at).toEqual({ not: 'a string' });
  });
});
