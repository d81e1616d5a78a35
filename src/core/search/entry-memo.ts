/**
 * A record's index entry (a Redis spec, a PostgreSQL `tsvector` text, an FTS5 body) kept by
 * the record's JSON text, for the write that sends a whole list again: `storeRawMessages`. An
 * agent that stores its list after every turn then tokenizes each message once, not once per
 * turn. An entry is a function of the text alone for one store instance (its `searchFields`
 * never change), so a kept one is always right; the memo only bounds how many are kept.
 */

/** Keys and values kept at most, in UTF-16 code units (about 2 MB of strings). */
const DEFAULT_BUDGET = 1 << 20;

/** Index entries by record JSON text; the least recently used go first past the budget. */
export class EntryMemo<V> {
  private readonly entries = new Map<string, V>();
  private size = 0;

  /**
   * @param measure the size of a value in UTF-16 code units (counted against the budget)
   * @param budget keys and values kept at most, in UTF-16 code units
   */
  constructor(
    private readonly measure: (value: V) => number,
    private readonly budget: number = DEFAULT_BUDGET,
  ) {}

  /** The entry of the record whose JSON text is `text`, computed by `compute` when not kept. */
  get(text: string, compute: () => V): V {
    const kept = this.entries.get(text);
    if (kept !== undefined) {
      // Moved to the end: Map order is the recency order eviction walks.
      this.entries.delete(text);
      this.entries.set(text, kept);
      return kept;
    }
    const value = compute();
    const cost = text.length + this.measure(value);
    if (cost > this.budget) return value;
    this.entries.set(text, value);
    this.size += cost;
    for (const [key, old] of this.entries) {
      if (this.size <= this.budget) break;
      this.entries.delete(key);
      this.size -= key.length + this.measure(old);
    }
    return value;
  }

  /** Number of entries kept (for tests). */
  get count(): number {
    return this.entries.size;
  }
}
