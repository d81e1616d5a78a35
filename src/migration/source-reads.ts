/**
 * The source as a migration reads it: every call of the store, with a `CorruptDataError` it
 * rejects (or throws) with turned into a {@link CorruptSourceError}. A failed run is told
 * apart by where its corrupt data lives: the source's fails every later run at the same record
 * (so "run it again to resume" would not help), where the target's or a failed write's do not.
 * A wrapper, so that every read (batch helpers, verification, chain counts) is covered without
 * each call site knowing which side it reads.
 */
import { CorruptDataError } from '../core/errors.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { CorruptSourceError } from './errors.js';

/** `error`, a {@link CorruptSourceError} when it is the source's `CorruptDataError`. */
function fromSource(error: unknown): unknown {
  return error instanceof CorruptDataError && !(error instanceof CorruptSourceError)
    ? new CorruptSourceError(error)
    : error;
}

/** The stores {@link markingSourceErrors} returned. */
const marked = new WeakSet<StorageInterface>();

/**
 * `source` with its corrupt-data errors marked as the source's ({@link CorruptSourceError}).
 * Methods run on the store itself (`this` is `source`, so private fields work); other
 * properties (`storageType`, `bulkCopyDefaults`) are read from it unchanged.
 */
export function markingSourceErrors(source: StorageInterface): StorageInterface {
  // Marked once: the migration hands its marked source to the verification, which marks its own.
  if (marked.has(source)) return source;
  const proxy = new Proxy(source, {
    get(store, property) {
      const value: unknown = Reflect.get(store, property, store);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = Reflect.apply(value, store, args);
        } catch (error) {
          throw fromSource(error);
        }
        return result instanceof Promise
          ? result.catch((error: unknown) => Promise.reject(fromSource(error)))
          : result;
      };
    },
  });
  marked.add(proxy);
  return proxy;
}
