/**
 * Top-level fields the reference file format owns: it writes its own metadata there and
 * strips it on load, so a caller's value under that name would be overwritten in one backend
 * and kept in another. They are refused everywhere instead.
 */
import { ValidationError } from './errors.js';
import type { JsonObject } from './json.js';
import { type ValueName, valueNameText } from './shown-text.js';

/** Field of `current.json` holding the file format's conversation metadata. */
export const CONVERSATION_METADATA_FIELD = '_storage_metadata';
/** Field of `chunks.json` holding the file format's chunk-info metadata. */
export const CHUNK_INFO_METADATA_FIELD = '_metadata';

/** Throws {@link ValidationError} when `value` has the reserved top-level `field`. */
export function refuseReservedField(value: JsonObject, field: string, what: ValueName): void {
  if (Object.hasOwn(value, field)) {
    throw new ValidationError(
      valueNameText(what),
      `the top-level field "${field}" is reserved for the storage format's metadata; rename it`,
    );
  }
}

/**
 * A copy of `value` without the reserved top-level `field`, or `null` when it has none
 * (migration: records another program stored with the field are copied without it).
 */
export function withoutReservedField(value: JsonObject, field: string): JsonObject | null {
  if (!Object.hasOwn(value, field)) return null;
  const copy: JsonObject = {};
  for (const key of Object.keys(value)) {
    if (key !== field)
      Object.defineProperty(copy, key, {
        value: value[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}
