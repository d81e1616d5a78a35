/**
 * Records nested deeper than the library writes (MAX_JSON_DEPTH), as another program may leave
 * in a file store (the Python reference writes about 1,000 levels; any tool can write more).
 * Until 2026-12-04 the search index's text extraction and the copies loads hand out recursed
 * once per level, so stats, search and loadMemories over such a store rejected with a bare
 * RangeError (stack overflow) instead of a result.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const DEPTH = 100_000;
const deepText = (word: string): string => `${'['.repeat(DEPTH)}"${word}"${']'.repeat(DEPTH)}`;

/** Replaces `"placeholder"` in a data file with a value nested {@link DEPTH} levels deep. */
function plantDeep(file: string, word: string): void {
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"placeholder"', deepText(word)));
}

/** The innermost value of arrays nested one in another, found without recursion. */
function innermost(value: unknown): unknown {
  let inner = value;
  while (Array.isArray(inner)) inner = inner[0];
  return inner;
}

describe('file store holding records nested 100,000 levels deep', () => {
  it('counts them in the stats, searches them and loads them', async () => {
    const writer = await openStore();
    await writer.storeConversation('deep', { title: 'walrus', body: 'placeholder' });
    await writer.storeConversation('flat', { title: 'walrus too' });
    await writer.storeMemory('deep', 'm1', { note: 'placeholder' });
    plantDeep(path.join(writer.baseDir, 'conversations', 'deep', 'current.json'), 'tusk');
    plantDeep(path.join(writer.baseDir, 'conversations', 'deep', 'memories.json'), 'flipper');

    const s = await openStore({ baseDir: writer.baseDir });
    expect(await s.getStorageStats()).toMatchObject({ conversation_count: 2, memory_count: 1 });
    const hits = await s.search({ text: 'walrus tusk', kinds: ['conversations'] });
    expect(
      hits.map((hit) => ('conversationId' in hit ? [hit.conversationId, hit.matchedTerms] : [])),
    ).toEqual([
      ['deep', 2],
      ['flat', 1],
    ]);
    const [memoryHit] = await s.search({ text: 'flipper' });
    expect(innermost((memoryHit?.record as { note?: unknown } | undefined)?.note)).toBe('flipper');
    const [memory] = await s.loadMemories('deep');
    expect(innermost(memory?.note)).toBe('flipper');
  });
});
