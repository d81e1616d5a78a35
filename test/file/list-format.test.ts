/**
 * List files are written from their records' encoded bytes, reused between writes: the bytes
 * must always be exactly what formatting the whole envelope gives, in both formats.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { JsonObject, JsonValue } from '../../src/index.js';
import { formatJson } from '../../src/backends/file/atomic-json.js';
import { formatListEnvelope } from '../../src/backends/file/list-format.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const records: JsonValue[] = [
  { step: 1, text: 'line one\nline two', nested: { list: [1, [2, { deep: 'é✓😀' }]], empty: {} } },
  { empty_list: [], nothing: null, yes: true, n: -1.5e-7, quote: '"\\', tab: '\t' },
  'a plain string',
  42,
  [{ in: 'an array' }],
  {},
];

describe('file list format', () => {
  it.each([true, false])('gives exactly formatJson of the envelope (pretty: %s)', (pretty) => {
    const envelope = (list: JsonValue[]): JsonObject => ({
      agent_id: 'agent',
      chains: list,
      _metadata: { updated_at: '2026-01-01T00:00:00.000000+00:00', count: list.length },
    });
    for (let n = 0; n <= records.length; n += 1) {
      const env = envelope(records.slice(0, n));
      // Twice: the second time the records' bytes are reused.
      for (let round = 0; round < 2; round += 1) {
        expect(formatListEnvelope(env, 'chains', pretty).toString('utf8')).toBe(formatJson(env, pretty));
      }
    }
    // The same record objects in another order, and a field holding the placeholder's text.
    const shuffled = envelope([...records].reverse());
    expect(formatListEnvelope(shuffled, 'chains', pretty).toString('utf8')).toBe(
      formatJson(shuffled, pretty),
    );
    const odd = { ...envelope(records), agent_id: '\u0000connectome-storage list\u0000' };
    expect(formatListEnvelope(odd, 'chains', pretty).toString('utf8')).toBe(formatJson(odd, pretty));
  });

  it.each([true, false])(
    'writes chains and memories files as formatJson would (pretty: %s)',
    async (pretty) => {
      const s = await openStore({ searchIndex: false, prettyPrintJson: pretty });
      for (let i = 0; i < 5; i += 1) {
        await s.storeReasoningChain('a1', { step: i, text: `thought ${i}\nnext`, tags: ['x', 'ü'] });
        await s.storeMemory('c1', `m${i % 3}`, { text: `memory ${i}`, n: i });
      }
      await s.deleteMemory('c1', 'm1');
      const files = [
        path.join(s.baseDir, 'agents', 'a1', 'reasoning_chains.json'),
        path.join(s.baseDir, 'conversations', 'c1', 'memories.json'),
      ];
      for (const file of files) {
        const text = fs.readFileSync(file, 'utf8');
        expect(text).toBe(formatJson(JSON.parse(text) as JsonValue, pretty));
      }
      expect((await s.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['m0', 'm2']);
      expect(await s.loadReasoningChains('a1')).toHaveLength(5);
    },
  );
});
