/**
 * A record's index entry (a Redis spec, a PostgreSQL `tsvector` text, an FTS5 body) kept by
 * the record's JSON text, for the write that sends a whole list again: `storeRawMessages`. An
 * agent that stores its list after every turn then tokenizes each message once, not once per
 * turn. An entry is a function of the text alone for one store instance (its `searchFields`
 * never change), so a kept one is always right; the memo only bounds how many are kept.
 */
import { LRUCache } from 'lru-cache';

/** Keys and values kept at most, in UTF-16 code units (about 2 MB of strings). */
const DEFAULT_BUDGET = 1 << 20;

/**
 * Index entries by record JSON text; the least recently used go first past the budget. Every
 * call is O(1): a write of records never seen before (a migration) pays one eviction per
 * record, not a walk over the entries already evicted (a `Map` kept in recency order skips
 * every deleted slot from its start on each eviction until it is rehashed).
 */
export class EntryMemo<V extends NonNullable<unknown>> {
  private readonly entries: LRUCache<string, V>;

  /**
   * @param measure the size of a value in UTF-16 code units (counted against the budget)
   * @param budget keys and values kept at most, in UTF-16 code units
   */
  constructor(measure: (value: V) => number, budget: number = DEFAULT_BUDGET) {
    this.entries = new LRUCache<string, V>({
      maxSize: budget,
      // An entry larger than the whole budget is not kept (lru-cache refuses it).
      sizeCalculation: (value, key) => Math.max(1, key.length + measure(value)),
    });
  }

  /** The entry of the record whose JSON text is `text`, computed by `compute` when not kept. */
  get(text: string, compute: () => V): V {
    const kept = this.entries.get(text);
    if (kept !== undefined) return kept;
    const value = compute();
    this.entries.set(text, value);
    return value;
  }

  /** Number of entries kept (for tests). */
  get count(): number {
    return this.entries.size;
  }
}
