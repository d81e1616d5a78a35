/**
 * The `k` best of a stream of (distance, slot) pairs: a bounded max-heap in typed arrays, so a
 * scan allocates nothing per record and a record farther than the current k-th costs one
 * comparison. Ties are broken by record id, as every store orders its results.
 */

/** Keeps the `k` nearest slots seen so far. */
export class TopK {
  readonly #k: number;
  readonly #distances: Float64Array;
  readonly #slots: Int32Array;
  readonly #idOf: (slot: number) => string;
  #size = 0;

  /** `idOf` names a slot's record, for ties. */
  constructor(k: number, idOf: (slot: number) => string) {
    this.#k = k;
    this.#distances = new Float64Array(k);
    this.#slots = new Int32Array(k);
    this.#idOf = idOf;
  }

  /** The distance a new record must beat (or tie) to enter; `Infinity` while fewer than k are held. */
  get bound(): number {
    return this.#size < this.#k ? Infinity : (this.#distances[0] as number);
  }

  /** True when heap entry `a` is farther than `b` (by distance, then id). */
  #farther(a: number, b: number): boolean {
    const da = this.#distances[a] as number;
    const db = this.#distances[b] as number;
    if (da !== db) return da > db;
    return this.#idOf(this.#slots[a] as number) > this.#idOf(this.#slots[b] as number);
  }

  #swap(a: number, b: number): void {
    const distance = this.#distances[a] as number;
    const slot = this.#slots[a] as number;
    this.#distances[a] = this.#distances[b] as number;
    this.#slots[a] = this.#slots[b] as number;
    this.#distances[b] = distance;
    this.#slots[b] = slot;
  }

  /** Offers a record; call only when `distance <= bound`. */
  offer(distance: number, slot: number): void {
    if (this.#size < this.#k) {
      let at = this.#size;
      this.#distances[at] = distance;
      this.#slots[at] = slot;
      this.#size += 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!this.#farther(at, parent)) break;
        this.#swap(at, parent);
        at = parent;
      }
      return;
    }
    const root = this.#distances[0] as number;
    if (distance === root && this.#idOf(slot) > this.#idOf(this.#slots[0] as number)) return;
    this.#distances[0] = distance;
    this.#slots[0] = slot;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= this.#size) break;
      const right = left + 1;
      const child = right < this.#size && this.#farther(right, left) ? right : left;
      if (!this.#farther(child, at)) break;
      this.#swap(child, at);
      at = child;
    }
  }

  /** The kept (distance, slot) pairs, in no particular order. */
  *entries(): IterableIterator<[distance: number, slot: number]> {
    for (let i = 0; i < this.#size; i += 1) yield [this.#distances[i] as number, this.#slots[i] as number];
  }
}
