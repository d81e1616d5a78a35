/**
 * Values read back from a store, parsed: anything that is not the JSON text a write left is a
 * {@link CorruptDataError} naming where the value lives (the other direction, caller values
 * turned into JSON, is `json.ts`).
 */
import { CorruptDataError } from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { isRangeError } from './range-error.js';

/**
 * Where a stored value lives (a column, key or path), for an error: the text, or a function
 * that builds it, called only when the value is bad (a load of many rows then formats no
 * message per row).
 */
export type StoredLocation = string | (() => string);

const locationText = (location: StoredLocation): string =>
  typeof location === 'string' ? location : location();

/**
 * Parses JSON text read back from a store. Anything that is not JSON text is a
 * {@link CorruptDataError} naming `location`, so one bad record is reported where it lives
 * instead of failing somewhere later.
 */
export function parseStoredJson(text: unknown, location: StoredLocation): JsonValue {
  if (typeof text !== 'string') {
    throw new CorruptDataError(
      locationText(location),
      `expected JSON text, found ${text === null ? 'NULL' : typeof text}`,
    );
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new CorruptDataError(locationText(location), 'stored value is not valid JSON', error);
  }
}

/** {@link parseStoredJson} for values that must be a JSON object. */
export function parseStoredJsonObject(text: unknown, location: StoredLocation): JsonObject {
  const value = parseStoredJson(text, location);
  if (!isJsonObject(value)) {
    throw new CorruptDataError(locationText(location), 'stored value is not a JSON object');
  }
  return value;
}

/**
 * A deep copy of JSON values read back from a store. `structuredClone` (native, fast) recurses
 * once per level, so a record nested far deeper than the library writes (MAX_JSON_DEPTH), which
 * another program may have left in a store, overflowed the stack with a bare RangeError; such a
 * value is copied again without recursion.
 */
export function cloneStoredJson<T extends JsonValue>(value: T): T {
  try {
    return structuredClone(value);
  } catch (error) {
    if (!isRangeError(error)) throw error;
    return cloneWithoutRecursion(value) as T;
  }
}

function cloneWithoutRecursion(value: JsonValue): JsonValue {
  const copy = (v: JsonValue): JsonValue =>
    typeof v !== 'object' || v === null ? v : Array.isArray(v) ? [] : {};
  const root = copy(value);
  // Pairs of a container and its (still empty) copy, filled one level at a time.
  const pending: Array<[JsonValue[] | JsonObject, JsonValue[] | JsonObject]> = [];
  if (typeof root === 'object' && root !== null) pending.push([value as JsonObject, root]);
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [source, target] = next;
    for (const [key, item] of Object.entries(source) as Array<[string, JsonValue]>) {
      const itemCopy = copy(item);
      if (Array.isArray(target)) target.push(itemCopy);
      else
        Object.defineProperty(target, key, {
          value: itemCopy,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      if (typeof itemCopy === 'object' && itemCopy !== null) pending.push([item as JsonObject, itemCopy]);
    }
  }
  return root;
}
