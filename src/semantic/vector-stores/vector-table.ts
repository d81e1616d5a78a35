/**
 * An exact (brute-force) nearest-neighbour index held in memory: vectors packed in one
 * `Float32Array`, a slot per record, scopes beside them and indexed by agent, conversation and
 * kind. The in-memory store is this table; the file store is this table plus its files.
 */
import { compareCodePoints, sortInCodePointOrder } from '../../core/order.js';
import { ScopeIndex } from './scope-index.js';
import { TopK } from './top-k.js';
import type { PreparedFilter, PreparedItem } from './validation.js';
import { matchesFilter } from './validation.js';
import type { VectorMatch, VectorMetric } from './types.js';

/** One record's scope, as kept beside its vector. */
export interface TableEntry {
  id: string;
  kind: string;
  agentId: string | null;
  conversationId: string | null;
}

/** Distance of `metric` turned into a similarity, higher is nearer. */
export function scoreOf(metric: VectorMetric, distance: number): number {
  return metric === 'cosine' ? 1 - distance : 1 / (1 + distance);
}

/** Orders matches nearest first, ties by id, so every store returns the same order. */
export function compareMatches(a: VectorMatch, b: VectorMatch): number {
  return a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** 1 / Euclidean norm of `length` values of `data` from `start` (0 for a zero vector, which only `l2` stores). */
function inverseNormOf(data: Float32Array, start: number, length: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i += 1) sum += (data[i] as number) * (data[i] as number);
  return sum === 0 ? 0 : 1 / Math.sqrt(sum);
}

/** Packed vectors and their scopes, with exact k-nearest search. */
export class VectorTable {
  readonly #dimensions: number;
  readonly #metric: VectorMetric;
  #data: Float32Array;
  // Cosine needs each record's norm; keeping 1/|v| per slot costs one multiply per record, the
  // same as scanning pre-normalised vectors, and leaves the vectors as given (the file store saves them).
  #inverseNorms: Float64Array;
  readonly #entries: TableEntry[] = [];
  readonly #slots = new Map<string, number>();
  readonly #scopes = new ScopeIndex();
  // The ids in code point order, for paging; dropped when an id comes or goes (not when a record
  // is replaced) and sorted again at the next page, so a walk of n ids costs one sort, not one per page.
  #sortedIds: string[] | null = null;

  constructor(dimensions: number, metric: VectorMetric, capacity = 16) {
    this.#dimensions = dimensions;
    this.#metric = metric;
    this.#data = new Float32Array(capacity * dimensions);
    this.#inverseNorms = new Float64Array(capacity);
  }

  /** A table holding `entries`, whose vectors are packed slot after slot in `vectors` (taken over, not copied). */
  static from(
    dimensions: number,
    metric: VectorMetric,
    entries: readonly TableEntry[],
    vectors: Float32Array,
  ): VectorTable {
    const table = new VectorTable(dimensions, metric, 0);
    table.#data = vectors;
    table.#inverseNorms = new Float64Array(entries.length);
    entries.forEach((entry, slot) => {
      table.#entries.push(entry);
      table.#slots.set(entry.id, slot);
      table.#scopes.add(slot, entry);
      table.#inverseNorms[slot] = inverseNormOf(vectors, slot * dimensions, dimensions);
    });
    return table;
  }

  /** Number of records. */
  get size(): number {
    return this.#entries.length;
  }

  /** True when a record with this id is stored. */
  has(id: string): boolean {
    return this.#slots.has(id);
  }

  /** Records in slot order (the order of {@link vectors}). */
  get entries(): readonly TableEntry[] {
    return this.#entries;
  }

  /** The packed vectors of every record, slot after slot. */
  vectors(): Float32Array {
    return this.#data.subarray(0, this.#entries.length * this.#dimensions);
  }

  /** Makes room for `capacity` records at least, so adding that many copies nothing. */
  reserve(capacity: number): void {
    if (capacity > this.#inverseNorms.length) this.#grow(capacity);
  }

  #grow(atLeast = 0): void {
    const capacity = Math.max(16, this.#inverseNorms.length * 2, atLeast);
    const data = new Float32Array(capacity * this.#dimensions);
    data.set(this.#data);
    const inverseNorms = new Float64Array(capacity);
    inverseNorms.set(this.#inverseNorms);
    this.#data = data;
    this.#inverseNorms = inverseNorms;
  }

  /** Adds a record or replaces the one with its id. */
  upsert(item: PreparedItem): void {
    const entry: TableEntry = {
      id: item.id,
      kind: item.kind,
      agentId: item.agentId,
      conversationId: item.conversationId,
    };
    let slot = this.#slots.get(item.id);
    if (slot === undefined) {
      slot = this.#entries.length;
      if (slot >= this.#inverseNorms.length) this.#grow();
      this.#sortedIds = null;
      this.#entries.push(entry);
      this.#slots.set(item.id, slot);
    } else {
      this.#scopes.remove(slot, this.#entries[slot] as TableEntry);
      this.#entries[slot] = entry;
    }
    this.#scopes.add(slot, entry);
    this.#data.set(item.vector, slot * this.#dimensions);
    this.#inverseNorms[slot] = inverseNormOf(item.vector, 0, item.vector.length);
  }

  /** Removes a record (the last one moves into its slot); false when the id is unknown. */
  delete(id: string): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    this.#scopes.remove(slot, this.#entries[slot] as TableEntry);
    const last = this.#entries.length - 1;
    const moved = this.#entries[last] as TableEntry;
    if (slot !== last) {
      this.#scopes.remove(last, moved);
      this.#scopes.add(slot, moved);
      this.#entries[slot] = moved;
      this.#slots.set(moved.id, slot);
      this.#data.copyWithin(slot * this.#dimensions, last * this.#dimensions, (last + 1) * this.#dimensions);
      this.#inverseNorms[slot] = this.#inverseNorms[last] ?? 0;
    }
    this.#entries.pop();
    this.#slots.delete(id);
    this.#sortedIds = null;
    return true;
  }

  /** The first `count` ids after `after` (from the first with `null`), in code point order. */
  idsAfter(after: string | null, count: number): string[] {
    const sorted = (this.#sortedIds ??= sortInCodePointOrder([...this.#slots.keys()]));
    // Binary search for the first id above `after`.
    let low = 0;
    let high = after === null ? 0 : sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareCodePoints(sorted[middle] as string, after as string) <= 0) low = middle + 1;
      else high = middle;
    }
    return sorted.slice(low, low + count);
  }

  /** Cosine distance from the unit vector `query` to the record in `slot`. */
  #cosineDistance(query: Float64Array, slot: number): number {
    const data = this.#data;
    const dimensions = this.#dimensions;
    const base = slot * dimensions;
    // Four accumulators: independent additions the CPU can overlap.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (; i + 3 < dimensions; i += 4) {
      s0 += (query[i] as number) * (data[base + i] as number);
      s1 += (query[i + 1] as number) * (data[base + i + 1] as number);
      s2 += (query[i + 2] as number) * (data[base + i + 2] as number);
      s3 += (query[i + 3] as number) * (data[base + i + 3] as number);
    }
    for (; i < dimensions; i += 1) s0 += (query[i] as number) * (data[base + i] as number);
    return 1 - (s0 + s1 + s2 + s3) * (this.#inverseNorms[slot] as number);
  }

  /** Euclidean distance from `query` to the record in `slot`. */
  #l2Distance(query: Float64Array, slot: number): number {
    const data = this.#data;
    const dimensions = this.#dimensions;
    const base = slot * dimensions;
    let s0 = 0;
    let s1 = 0;
    let i = 0;
    for (; i + 1 < dimensions; i += 2) {
      const d0 = (query[i] as number) - (data[base + i] as number);
      const d1 = (query[i + 1] as number) - (data[base + i + 1] as number);
      s0 += d0 * d0;
      s1 += d1 * d1;
    }
    for (; i < dimensions; i += 1) {
      const d = (query[i] as number) - (data[base + i] as number);
      s0 += d * d;
    }
    return Math.sqrt(s0 + s1);
  }

  /** The `k` nearest records matching `filter`, nearest first (ties by id). */
  search(vector: Float32Array, k: number, filter: PreparedFilter): VectorMatch[] {
    const cosine = this.#metric === 'cosine';
    const query = Float64Array.from(vector);
    if (cosine) {
      const inverse = inverseNormOf(vector, 0, vector.length);
      for (let i = 0; i < query.length; i += 1) query[i] = (query[i] as number) * inverse;
    }
    const entries = this.#entries;
    const best = new TopK(k, (slot) => (entries[slot] as TableEntry).id);
    const visit = (slot: number): void => {
      const distance = cosine ? this.#cosineDistance(query, slot) : this.#l2Distance(query, slot);
      if (distance <= best.bound) best.offer(distance, slot);
    };
    const candidates = this.#scopes.candidates(filter);
    if (candidates === null) {
      for (let slot = 0; slot < entries.length; slot += 1) visit(slot);
    } else {
      for (const slots of candidates) {
        for (const slot of slots) {
          const entry = entries[slot] as TableEntry;
          if (matchesFilter(filter, entry.kind, entry.agentId, entry.conversationId)) visit(slot);
        }
      }
    }
    const matches: VectorMatch[] = [];
    for (const [distance, slot] of best.entries()) {
      matches.push({
        id: (entries[slot] as TableEntry).id,
        distance,
        score: scoreOf(this.#metric, distance),
      });
    }
    return matches.sort(compareMatches);
  }
}
