/**
 * Values read back from a store, parsed: anything that is not the JSON text a write left is a
 * {@link CorruptDataError} naming where the value lives (the other direction, caller values
 * turned into JSON, is `json.ts`).
 */
import { CorruptDataError } from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

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
