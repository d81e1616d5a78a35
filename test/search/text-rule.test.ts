/**
 * The default text rule of `TextExtractor`: every string of a record except the top-level
 * timestamp the library adds to memories (`created_at`) and chains (`stored_at`); listed paths
 * replace the rule, `$` being the whole record.
 */
import { LIBRARY_TIMESTAMP_FIELDS, TextExtractor } from '../../src/core/index.js';

const memory = {
  memory_id: 'mem_1',
  created_at: '2031-07-19T08:45:12.345678+00:00',
  summary: 'heron',
  meta: { created_at: 'nested 2044', stored_at: 'kept' },
};

describe('default text rule', () => {
  it('names the library timestamps of memories and chains only', () => {
    expect(LIBRARY_TIMESTAMP_FIELDS).toEqual({ memories: 'created_at', reasoning_chains: 'stored_at' });
  });

  it('leaves out the top-level created_at of a memory and stored_at of a chain, in document order otherwise', () => {
    const extractor = new TextExtractor();
    expect(extractor.extract('memories', memory)).toEqual(['mem_1', 'heron', 'nested 2044', 'kept']);
    expect(
      extractor.extract('reasoning_chains', { stored_at: 'x 2031', created_at: 'y', steps: ['a'] }),
    ).toEqual(['y', 'a']);
  });

  it('keeps every string of the other kinds, timestamps included', () => {
    const extractor = new TextExtractor();
    const record = { created_at: '2031', stored_at: '2032', content: 'hi' };
    for (const kind of ['raw_messages', 'conversations', 'chunk_info'] as const)
      expect(extractor.extract(kind, record)).toEqual(['2031', '2032', 'hi']);
  });

  it('a record that is not an object is its strings', () => {
    const extractor = new TextExtractor();
    expect(extractor.extract('memories', ['created_at', 'x'])).toEqual(['created_at', 'x']);
    expect(extractor.extract('reasoning_chains', 'plain')).toEqual(['plain']);
    expect(extractor.extract('memories', null)).toEqual([]);
  });

  it("listed paths replace the rule: '$' is the whole record, and a path may name the timestamp", () => {
    const whole = new TextExtractor({ memories: ['$'] });
    expect(whole.extract('memories', memory)).toEqual([
      'mem_1',
      '2031-07-19T08:45:12.345678+00:00',
      'heron',
      'nested 2044',
      'kept',
    ]);
    const named = new TextExtractor({ reasoning_chains: ['stored_at'] });
    expect(named.extract('reasoning_chains', { stored_at: 's', thought: 't' })).toEqual(['s']);
    // The rule of a kind without paths is unchanged by another kind's paths.
    expect(named.extract('memories', memory)).toEqual(['mem_1', 'heron', 'nested 2044', 'kept']);
  });
});
