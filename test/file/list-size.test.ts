/**
 * A list file (a conversation's memories, an agent's reasoning chains) grows by many small
 * accepted writes and is read back whole, as one string. Until 2026-12-06 one past ~512 MiB was
 * written, and from then on every read and write of it failed with "not valid UTF-8": the write
 * that would make it longer than MAX_JSON_BYTES is now refused, naming the conversation or agent,
 * with nothing written, and a file too large to read says so. The limit is lowered for the test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { textFromBytes } from '../../src/backends/file/json-reads.js';
import { CorruptDataError, ValidationError } from '../../src/core/index.js';
import { setJsonByteLimitForTests } from '../../src/core/json-bytes.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

const LIMIT = 8192;
beforeAll(() => setJsonByteLimitForTests(LIMIT));
afterAll(() => setJsonByteLimitForTests(undefined));
afterEach(shutdownAll);
afterAll(removeTempDirs);

const item = (n: number) => ({ n, text: 'x'.repeat(500) });

/** Writes with `write(n)` until one is refused; returns the refusal and how many were accepted. */
async function fillUntilRefused(write: (n: number) => Promise<unknown>): Promise<[unknown, number]> {
  for (let n = 0; n < 100; n += 1) {
    const error: unknown = await write(n).then(
      () => null,
      (e: unknown) => e,
    );
    if (error !== null) return [error, n];
  }
  throw new Error('every write was accepted');
}

describe('a list file is never written longer than MAX_JSON_BYTES', () => {
  it.each([false, true])(
    'memories (prettyPrintJson %s): refused naming the conversation, nothing written',
    async (pretty) => {
      const s = await openStore({ prettyPrintJson: pretty, createBackups: false });
      const file = path.join(s.baseDir, 'conversations', 'c', 'memories.json');
      const [error, accepted] = await fillUntilRefused((n) => s.storeMemory('c', `m${n}`, item(n)));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^Invalid memories of conversation "c": would make .*memories\\.json \\d+ bytes, over the limit of ${LIMIT} \\(MAX_JSON_BYTES\\)`,
        ),
      );
      const before = fs.readFileSync(file);
      expect(before.length).toBeLessThanOrEqual(LIMIT);
      const batch = s.storeMemories('c', [{ memoryId: 'b', data: item(-1) }]);
      await expect(batch).rejects.toThrow(ValidationError);
      expect(fs.readFileSync(file).equals(before)).toBe(true);
      // Still readable and writable: a delete makes room.
      expect(await s.loadMemories('c')).toHaveLength(accepted);
      expect(await s.deleteMemory('c', 'm0')).toBe(true);
      await s.storeMemory('c', 'small', { a: 1 });
      expect(await s.loadMemories('c')).toHaveLength(accepted);
    },
  );

  it('reasoning chains: refused naming the agent, nothing written', async () => {
    const s = await openStore({ createBackups: false });
    const file = path.join(s.baseDir, 'agents', 'a', 'reasoning_chains.json');
    const [error, accepted] = await fillUntilRefused((n) => s.storeReasoningChain('a', item(n)));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('Invalid reasoning chains of agent "a": would make ');
    const before = fs.readFileSync(file);
    await expect(s.appendReasoningChains('a', [item(-1)])).rejects.toThrow(ValidationError);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(await s.loadReasoningChains('a')).toHaveLength(accepted);
  });
});

describe('a data file longer than one string', () => {
  it('is a CorruptDataError saying it is too large to read, not "not valid UTF-8"', () => {
    // NUL bytes are valid UTF-8; 2^29 of them is past V8's longest string (2^29 - 24).
    const bytes = Buffer.alloc(2 ** 29);
    let error: unknown;
    try {
      textFromBytes('/x/memories.json', bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toMatch(
      /^Corrupt data at \/x\/memories\.json: is 536870912 bytes, too large to read \(its text is longer/,
    );
  });
});
