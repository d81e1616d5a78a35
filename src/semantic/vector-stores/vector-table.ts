/**
 * An exact (brute-force) nearest-neighbour index held in memory: vectors packed in one
 * `Float32Array`, a slot per record, scopes beside them. The in-memory store is this table;
 * the file store is this table plus its files.
 */
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

/** Euclidean norm of `length` values of `data` from `start`. */
function normOf(data: Float32Array, start: number, length: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i += 1) sum += (data[i] as number) * (data[i] as number);
  return Math.sqrt(sum);
}

/** Packed vectors and their scopes, with exact k-nearest search. */
export class VectorTable {
  readonly #dimensions: number;
  readonly #metric: VectorMetric;
  #data: Float32Array;
  #norms: Float64Array;
  readonly #entries: TableEntry[] = [];
  readonly #slots = new Map<string, number>();

  constructor(dimensions: number, metric: VectorMetric, capacity = 16) {
    this.#dimensions = dimensions;
    this.#metric = metric;
    this.#data = new Float32Array(capacity * dimensions);
    this.#norms = new Float64Array(capacity);
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
    table.#norms = new Float64Array(entries.length);
    entries.forEach((entry, slot) => {
      table.#entries.push(entry);
      table.#slots.set(entry.id, slot);
      table.#norms[slot] = normOf(vectors, slot * dimensions, dimensions);
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

  #grow(): void {
    const capacity = Math.max(16, this.#norms.length * 2);
    const data = new Float32Array(capacity * this.#dimensions);
    data.set(this.#data);
    const norms = new Float64Array(capacity);
    norms.set(this.#norms);
    this.#data = data;
    this.#norms = norms;
  }

  #write(slot: number, vector: Float32Array): void {
    this.#data.set(vector, slot * this.#dimensions);
    this.#norms[slot] = normOf(vector, 0, vector.length);
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
      if (slot >= this.#norms.length) this.#grow();
      this.#entries.push(entry);
      this.#slots.set(item.id, slot);
    } else {
      this.#entries[slot] = entry;
    }
    this.#write(slot, item.vector);
  }

  /** Removes a record (the last one moves into its slot); false when the id is unknown. */
  delete(id: string): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    const last = this.#entries.length - 1;
    const moved = this.#entries[last] as TableEntry;
    if (slot !== last) {
      this.#entries[slot] = moved;
      this.#slots.set(moved.id, slot);
      this.#data.copyWithin(slot * this.#dimensions, last * this.#dimensions, (last + 1) * this.#dimensions);
      this.#norms[slot] = this.#norms[last] ?? 0;
    }
    this.#entries.pop();
    this.#slots.delete(id);
    return true;
  }

  /** Distance from `query` (with its norm) to the record in `slot`. */
  #distance(query: Float32Array, queryNorm: number, slot: number): number {
    const base = slot * this.#dimensions;
    const data = this.#data;
    if (this.#metric === 'cosine') {
      let dot = 0;
      for (let i = 0; i < query.length; i += 1) dot += (query[i] as number) * (data[base + i] as number);
      return 1 - dot / (queryNorm * (this.#norms[slot] as number));
    }
    let sum = 0;
    for (let i = 0; i < query.length; i += 1) {
      const d = (query[i] as number) - (data[base + i] as number);
      sum += d * d;
    }
    return Math.sqrt(sum);
  }

  /** The `k` nearest records matching `filter`, nearest first (ties by id). */
  search(query: Float32Array, k: number, filter: PreparedFilter): VectorMatch[] {
    let queryNorm = 0;
    for (const value of query) queryNorm += value * value;
    queryNorm = Math.sqrt(queryNorm);
    // A sorted list of at most k: most records are farther than the current k-th and cost one comparison.
    const best: VectorMatch[] = [];
    for (let slot = 0; slot < this.#entries.length; slot += 1) {
      const entry = this.#entries[slot] as TableEntry;
      if (!matchesFilter(filter, entry.kind, entry.agentId, entry.conversationId)) continue;
      const distance = this.#distance(query, queryNorm, slot);
      if (best.length === k && distance > (best[k - 1] as VectorMatch).distance) continue;
      const match: VectorMatch = { id: entry.id, distance, score: scoreOf(this.#metric, distance) };
      if (best.length === k && compareMatches(match, best[k - 1] as VectorMatch) >= 0) continue;
      let at = best.length;
      while (at > 0 && compareMatches(match, best[at - 1] as VectorMatch) < 0) at -= 1;
      best.splice(at, 0, match);
      if (best.length > k) best.pop();
    }
    return best;
  }
}
