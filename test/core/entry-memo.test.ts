/** EntryMemo: index entries kept by record text, computed once, bounded by a budget. */
import { EntryMemo } from '../../src/core/search/entry-memo.js';

describe('EntryMemo', () => {
  it('computes an entry once per text and hands the kept one back', () => {
    const memo = new EntryMemo<string>((value) => value.length);
    let computed = 0;
    const entry = (text: string) => memo.get(text, () => `${text}!${(computed += 1)}`);
    expect(entry('a')).toBe('a!1');
    expect(entry('b')).toBe('b!2');
    expect(entry('a')).toBe('a!1');
    expect(computed).toBe(2);
    expect(memo.count).toBe(2);
  });

  it('lets the least recently used texts go past the budget, and keeps none larger than it', () => {
    // Each text and value here costs 2 + 2 = 4 units: three fit in 12.
    const memo = new EntryMemo<string>((value) => value.length, 12);
    const seen: string[] = [];
    const entry = (text: string) =>
      memo.get(text, () => {
        seen.push(text);
        return text.toUpperCase();
      });
    for (const text of ['aa', 'bb', 'cc']) entry(text);
    entry('aa'); // now the most recent
    entry('dd'); // evicts 'bb', the least recent
    expect(memo.count).toBe(3);
    entry('aa');
    entry('bb');
    expect(seen).toEqual(['aa', 'bb', 'cc', 'dd', 'bb']);
    expect(memo.get('x'.repeat(7), () => 'y'.repeat(7))).toBe('yyyyyyy');
    expect(memo.count).toBe(3);
  });
});
