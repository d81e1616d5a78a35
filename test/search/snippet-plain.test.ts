/**
 * A hit without any query word (a vector hit) shows the segment with the most words: a raw
 * message's content rather than its role, a memory's text rather than its id. It showed the
 * first non-blank segment, so most vector hits on messages read "assistant" or "user". The same
 * through search on every backend: the conformance suite's semantic tests.
 */
import { buildSnippet } from '../../src/core/search/snippet.js';

describe('the snippet of a hit without a query word', () => {
  it('is the segment with the most words, the first of equals', () => {
    const none = new Set(['zzz']);
    expect(buildSnippet(['assistant', 'The launch  moved to Friday'], none)).toBe(
      'The launch moved to Friday',
    );
    expect(buildSnippet(['mem_1', 'two words', 'two more'], none)).toBe('two words');
    expect(buildSnippet(['550e8400-e29b-41d4-a716-446655440000', 'Ada likes tea'], none)).toBe(
      'Ada likes tea',
    );
    // No words anywhere: the first non-blank segment, as before.
    expect(buildSnippet(['  ', '---', '+++'], none)).toBe('---');
    expect(buildSnippet([], none)).toBe('');
  });

  it('a matched segment still wins over a longer unmatched one', () => {
    expect(buildSnippet(['the launch moved to Friday after all', 'zzz'], new Set(['zzz']))).toBe('«zzz»');
  });
});
