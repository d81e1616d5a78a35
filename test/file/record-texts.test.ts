/**
 * A memories or chains file is rewritten whole on every update, so records the call did not
 * touch are written again. They must be written as they were read: JavaScript numbers cannot
 * hold what the Python reference wrote (`1234567890123456789`, a Discord snowflake, rounds to
 * `1234567890123456800`; `1.0`, a Python float, would come back to Python as the int `1`), so
 * re-encoding the parsed value would change stored data nobody asked to change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatJson } from '../../src/backends/file/atomic-json.js';
import { keepRecordTexts, recordTextAsRead, textsAsRead } from '../../src/backends/file/record-texts.js';
import type { JsonObject } from '../../src/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** A record as the reference's `json.dump(..., indent=2)` writes it inside a list (depth 2). */
const PYTHON_RECORD = (idField: string, id: string): string =>
  [
    '{',
    `      "${idField}": "${id}",`,
    '      "created_at": "2025-03-06T10:00:00.123000+00:00",',
    '      "discord_id": 1234567890123456789,',
    '      "score": 1.0,',
    '      "tiny": 1e-07,',
    '      "name": "caf\\u00e9"',
    '    }',
  ].join('\n');

/** {@link PYTHON_RECORD} as the reference's `json.dump` without indent writes it. */
const compactRecord = (idField: string, id: string): string =>
  `{"${idField}": "${id}", "created_at": "2025-03-06T10:00:00.123000+00:00", "discord_id": 1234567890123456789, ` +
  '"score": 1.0, "tiny": 1e-07, "name": "caf\\u00e9"}';

/** A list file of `records` in the reference's pretty format. */
const pythonListFile = (field: string, records: string[], metadata: string): string =>
  `{\n  "${field}": [\n    ${records.join(',\n    ')}\n  ],\n  "_metadata": ${metadata}\n}`;

/** An old mtime, so loads keep the parsed file (see `list-reads.ts`). */
function settle(file: string): void {
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(file, past, past);
}

describe('file list files: records the call did not change are written as read', () => {
  it.each(['write', 'load first'])(
    'keeps a reference memory byte for byte through storeMemory and deleteMemory (%s)',
    async (order) => {
      const s = await openStore({ searchIndex: false });
      const file = path.join(s.baseDir, 'conversations', 'c1', 'memories.json');
      const m1 = PYTHON_RECORD('memory_id', 'm1');
      const m2 = PYTHON_RECORD('memory_id', 'm2');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, pythonListFile('memories', [m1, m2], '{}'));
      settle(file);
      if (order === 'load first') expect(await s.loadMemories('c1')).toHaveLength(2);

      await s.storeMemory('c1', 'm3', { text: 'new' });
      expect(fs.readFileSync(file, 'utf8')).toContain(`    ${m1},\n    ${m2},\n`);
      await s.storeMemory('c1', 'm2', { text: 'replaced' }); // m1 still untouched
      await s.deleteMemory('c1', 'm3');
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toContain(`    ${m1},\n`);
      expect(text).not.toContain('1234567890123456800');
      expect(JSON.parse(text).memories.map((m: { memory_id: string }) => m.memory_id)).toEqual(['m1', 'm2']);
    },
  );

  it('keeps reference chains byte for byte through appends and trims', async () => {
    const s = await openStore({ searchIndex: false });
    const file = path.join(s.baseDir, 'agents', 'a1', 'reasoning_chains.json');
    const records = ['c1', 'c2', 'c3'].map((id) => PYTHON_RECORD('chain', id));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, pythonListFile('chains', records, '{}'));
    settle(file);

    await s.storeReasoningChain('a1', { chain: 'c4' });
    expect(fs.readFileSync(file, 'utf8')).toContain(`    ${records.join(',\n    ')},\n`);
    expect(await s.trimReasoningChains('a1', 3)).toBe(1);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain(`    ${records[1]},\n    ${records[2]},\n`);
    expect(text).not.toContain('1234567890123456800');
  });

  it('still writes records in the store’s own format (a compact store, a pretty file), numbers as read', async () => {
    const s = await openStore({ searchIndex: false, prettyPrintJson: false });
    const file = path.join(s.baseDir, 'conversations', 'c1', 'memories.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, pythonListFile('memories', [PYTHON_RECORD('memory_id', 'm1')], '{}'));
    await s.storeMemory('c1', 'm2', { text: 'new' });
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain('\n');
    // Laid out again from its text: until 2026-12-06 from its value (`...800`, `1`).
    expect(text).toContain(`{"memories": [${compactRecord('memory_id', 'm1')}, {"memory_id": "m2", `);
  });

  it('lays out the records of a compact reference file in a pretty store, numbers as read', async () => {
    const s = await openStore({ searchIndex: false });
    const memories = path.join(s.baseDir, 'conversations', 'c1', 'memories.json');
    const chains = path.join(s.baseDir, 'agents', 'a1', 'reasoning_chains.json');
    for (const [file, field, idField] of [
      [memories, 'memories', 'memory_id'],
      [chains, 'chains', 'chain'],
    ] as const) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // The reference's `json.dump` without indent: one line.
      fs.writeFileSync(
        file,
        `{"${field}": [${compactRecord(idField, 'r1')}], "_metadata": {"n": [1.0, {}]}}`,
      );
      settle(file);
    }
    await s.storeMemory('c1', 'm2', { text: 'new' });
    await s.storeReasoningChain('a1', { chain: 'c2' });
    expect(fs.readFileSync(memories, 'utf8')).toContain(
      `  "memories": [\n    ${PYTHON_RECORD('memory_id', 'r1')},\n`,
    );
    expect(fs.readFileSync(chains, 'utf8')).toContain(
      `  "chains": [\n    ${PYTHON_RECORD('chain', 'r1')},\n`,
    );
  });

  it.each([true, false])('finds each record’s text, whatever its strings hold (pretty: %s)', (pretty) => {
    const records: JsonObject[] = [
      { a: 'quote " and \\ slash \\" end', b: ['[', '{', ']', '}'] },
      { nested: { deep: [[{}], []], n: -1.5e-7, t: true, f: null }, s: '\\' },
      {},
      { '"key"': ', ] }', u: 'ü\u2028\u0000' },
    ];
    const envelope = { other: { chains: [1] }, memories: [0], _metadata: { memories: 'x' } };
    const text = formatJson({ ...envelope, memories: records }, pretty);
    const parsed = (JSON.parse(text) as { memories: JsonObject[] }).memories;
    keepRecordTexts(text, parsed, 'memories');
    const texts = textsAsRead(parsed);
    parsed.forEach((record, i) => {
      const own = formatJson(records[i] as JsonObject, pretty);
      const expected = pretty ? own.replace(/\n/g, '\n    ') : own;
      // `{}` is one line in either format: the formatted text is used for it.
      expect(recordTextAsRead(texts, record, pretty) ?? expected).toBe(expected);
    });
    expect(recordTextAsRead(texts, parsed[0] as JsonObject, pretty)).toBeDefined();
  });
});
