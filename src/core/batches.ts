/**
 * The shapes and rules of batch writes, kept here once: item types, the batch size limit, item
 * validation that names the item, and how duplicates inside one batch fold together so that a
 * native batch equals the same single calls in a loop.
 */
import { BatchPartiallyAppliedError, SerializationError, StorageError, ValidationError } from './errors.js';
import type { JsonObject } from './json.js';
import { type CacheRecord, type MemoryWrite, replaceMemoryRecord } from './records.js';

/**
 * Most items one batch call accepts. It bounds one call's memory, script arguments and
 * statement parameters on every backend; split longer lists into several calls.
 */
export const MAX_BATCH_ITEMS = 1000;

/** The fields of a memory batch item; any other is refused (see `refuseUnknownFields`). */
export const MEMORY_ITEM_FIELDS = ['memoryId', 'data'] as const;

/** One memory of `storeMemories`. */
export interface MemoryBatchItem {
  /** The memory's id; one already in the conversation (or earlier in the batch) is replaced in place. */
  memoryId: string;
  /** The memory's data, as `storeMemory`'s `memoryData`. */
  data: JsonObject;
}

/** One entry of `storeCacheEntries`; `ttlSeconds` as in `storeCacheEntry`. */
export interface CacheEntryBatchItem {
  /** The cache key; one given twice keeps its last entry. */
  key: string;
  /** The entry's data, as `storeCacheEntry`'s `cacheData`. */
  data: JsonObject;
  /** Seconds until the entry expires (positive); absent or `null`: it never expires. */
  ttlSeconds?: number | null;
}

/** One record of `storeCacheRecords`: a cache record with its own timestamps, and its key. */
export interface CacheRecordBatchItem extends CacheRecord {
  /** The cache key; one given twice keeps its last record. */
  key: string;
}

/** A validated cache write of a batch: the key, the record to store and its index in the batch. */
export interface CacheRecordWrite {
  /** The cache key. */
  key: string;
  /** The record to store: its data and timestamps. */
  record: CacheRecord;
  /** The item's position in the batch (from 0), as a failure names it. */
  index: number;
}

/** Checks that `items` is an array of at most {@link MAX_BATCH_ITEMS}; returns a copy. */
export function checkBatch<T>(method: string, field: string, items: unknown): T[] {
  let copy: T[];
  try {
    // `Array.isArray` of a revoked Proxy throws; then one read of the caller's array: a Proxy's
    // traps or an index getter may throw, or answer differently on a second read.
    if (!Array.isArray(items)) {
      throw new ValidationError(field, `${method}() takes an array of items`);
    }
    copy = [...(items as T[])];
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new SerializationError(`the ${field} of ${method}()`, '$', 'reading the array threw', error);
  }
  if (copy.length > MAX_BATCH_ITEMS) {
    throw new ValidationError(
      field,
      `${method}() takes at most ${MAX_BATCH_ITEMS} items per call (got ${copy.length}); split the list`,
    );
  }
  return copy;
}

/**
 * Runs the validation of item `index`; an error it throws keeps its class and fields, and its
 * message is prefixed with the method and the item's index (and id or key, once known).
 */
export function atItem<T>(method: string, index: number, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof StorageError) {
      error.message = `${method}() item ${index}: ${error.message}`;
    }
    throw error;
  }
}

/** Reads the named fields of a batch item (a plain object), or throws a typed error. */
export function itemFields<K extends string>(item: unknown, fields: readonly K[]): Record<K, unknown> {
  try {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new ValidationError('item', `must be an object { ${fields.join(', ')} }`);
    }
    const source = item as Record<string, unknown>;
    // A loop, not Object.fromEntries of a mapped array: a batch reads every item's fields, and
    // the arrays made per item cost more than the validation around them.
    const out = {} as Record<K, unknown>;
    for (const field of fields) out[field] = source[field];
    return out;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // A Proxy or getter of the caller's threw while the fields were read.
    throw new SerializationError('batch item', '$', 'reading the item threw', error);
  }
}

/**
 * Folds memory writes with the same id into one, as upserting them one after another would
 * leave it: the first position, the last data, and `created_at` from the last write that chose
 * one (else the earlier record's, which a stored row's own `created_at` still overrides).
 * For backends whose one statement cannot touch a row twice.
 */
export function collapseMemoryWrites(writes: readonly MemoryWrite[]): MemoryWrite[] {
  const out: MemoryWrite[] = [];
  const slot = new Map<string, number>();
  for (const write of writes) {
    const index = slot.get(write.memoryId);
    if (index === undefined) {
      slot.set(write.memoryId, out.length);
      out.push(write);
      continue;
    }
    const earlier = out[index] as MemoryWrite;
    out[index] = {
      memoryId: write.memoryId,
      record: replaceMemoryRecord(earlier.record, write),
      explicitCreatedAt: earlier.explicitCreatedAt || write.explicitCreatedAt,
    };
  }
  return out;
}

/** Keeps the last write of each key (at its last position): what single writes in a loop leave. */
export function lastWriteWins(writes: readonly CacheRecordWrite[]): CacheRecordWrite[] {
  const last = new Map<string, number>();
  writes.forEach((write, index) => last.set(write.key, index));
  return writes.filter((write, index) => last.get(write.key) === index);
}

/** A cache batch's item as its failure names it: its key and its index in the batch. */
export interface KeyedItem {
  /** The cache key. */
  key: string;
  /** The item's position in the batch (from 0). */
  index: number;
}

/** The items of a batch of cache `keys` (a delete), for {@link cacheBatchFailure}. */
export function keyedItems(keys: readonly string[]): KeyedItem[] {
  return keys.map((key, index) => ({ key, index }));
}

/**
 * The batch indexes a set of written keys accounts for: every item with one of those keys
 * (an earlier duplicate is overwritten by the later one, as in a loop).
 */
export function indexesOfKeys(writes: readonly KeyedItem[], written: ReadonlySet<string>): number[] {
  return writes.filter((write) => written.has(write.key)).map((write) => write.index);
}

/**
 * What a cache batch that failed with `cause` rejects with, once every write it started has
 * settled: `cause` itself when no key was written, else a {@link BatchPartiallyAppliedError}
 * listing the items the `written` keys account for. A delete batch passes its keys as
 * {@link keyedItems} and the keys known removed as `written`.
 */
export function cacheBatchFailure(
  method: string,
  writes: readonly KeyedItem[],
  written: ReadonlySet<string>,
  cause: unknown,
): unknown {
  if (written.size === 0) return cause;
  const applied = indexesOfKeys(writes, written).sort((a, b) => a - b);
  return new BatchPartiallyAppliedError(method, writes.length, applied, cause);
}

/**
 * Writes each item's parts (`partsOf`: one step per part) in order, item after item. A failure
 * rejects with {@link BatchPartiallyAppliedError} naming the items written (a prefix) and the
 * failing item as written in part when some of its parts were; a failure before any part was
 * written rejects with its own error.
 */
export async function applyPartsInOrder<T>(
  method: string,
  items: readonly T[],
  partsOf: (item: T) => Array<() => Promise<unknown>>,
): Promise<void> {
  for (const [index, item] of items.entries()) {
    let written = 0;
    try {
      for (const part of partsOf(item)) {
        await part();
        written += 1;
      }
    } catch (error) {
      if (index === 0 && written === 0) throw error;
      const applied = Array.from({ length: index }, (_, i) => i);
      throw new BatchPartiallyAppliedError(method, items.length, applied, error, written > 0 ? [index] : []);
    }
  }
}

/**
 * Applies `write` to each item in order (the default for backends without a native batch).
 * A failure after the first item rejects with {@link BatchPartiallyAppliedError} naming the
 * prefix written; a failure of the first item rejects with its own error (nothing written).
 */
export async function applyInOrder<T>(
  method: string,
  items: readonly T[],
  write: (item: T, index: number) => Promise<void>,
): Promise<void> {
  for (const [index, item] of items.entries()) {
    try {
      await write(item, index);
    } catch (error) {
      if (index === 0) throw error;
      const applied = Array.from({ length: index }, (_, i) => i);
      throw new BatchPartiallyAppliedError(method, items.length, applied, error);
    }
  }
}
