/**
 * A snippet cut short never ends in half a surrogate pair: the plain snippet (a hit without a
 * query word, as vector search returns) is cut at 100 UTF-16 code units, and an emoji or a CJK
 * Extension B character across that point left a lone high surrogate in the hit.
 */
import { createVectorStore } from '../../src/index.js';
import { buildSnippet, SNIPPET_ELLIPSIS } from '../../src/core/search/snippet.js';
import { InMemoryStorage } from '../support/memory-storage.js';

describe('a plain snippet cut in a surrogate pair', () => {
  it('keeps the pair whole', () => {
    const snippet = buildSnippet([`${'a'.repeat(99)}😀 tail`], new Set(['zzz']));
    expect(snippet.isWellFormed()).toBe(true);
    expect(snippet).toBe(`${'a'.repeat(99)}${SNIPPET_ELLIPSIS}`);
  });

  it('in a vector hit without a query word', async () => {
    const storage = new InMemoryStorage({ semantic: { vectorStore: createVectorStore('memory') } });
    await storage.initialize();
    await storage.storeRawMessages('c', [`${'x '.repeat(49)}y𠀀 more text`]);
    const [hit] = await storage.search({ text: 'unrelated', mode: 'vector', limit: 1 });
    expect(hit?.snippet.isWellFormed()).toBe(true);
    expect(hit?.snippet.endsWith(`y${SNIPPET_ELLIPSIS}`)).toBe(true);
    await storage.close();
  });
});
