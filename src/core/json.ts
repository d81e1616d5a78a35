/**
 * JSON value types and the one place where caller values are turned into plain JSON
 * (D4): anything `JSON.stringify` would not round-trip faithfully is refused up front.
 */
import { CorruptDataError, SerializationError, ValidationError } from './errors.js';

/** A JSON primitive. */
export type JsonPrimitive = string | number | boolean | null;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * Returns a deep, plain-JSON copy of `value` (`Date` becomes its ISO string, objects with
 * `toJSON` are converted, `undefined` object properties are dropped as JSON does).
 * Throws {@link SerializationError} naming the path for BigInt, NaN, ±Infinity, cycles,
 * functions, symbols, `undefined` array items and Map/Set-like objects, so nothing
 * unfaithful is ever written.
 */
export function toJsonValue(value: unknown, what: string): JsonValue {
  const seen = new Set<object>();

  const visit = (v: unknown, path: string): JsonValue | undefined => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v)) throw new SerializationError(what, path, `${v} is not valid JSON`);
        return v;
      case 'bigint':
        throw new SerializationError(what, path, 'BigInt has no JSON representation');
      case 'undefined':
        return undefined;
      case 'function':
      case 'symbol':
        throw new SerializationError(what, path, `a ${typeof v} has no JSON representation`);
      default:
        break;
    }
    if (v === null) return null;
    const obj = v as object;
    if (obj instanceof Date) {
      if (Number.isNaN(obj.getTime())) throw new SerializationError(what, path, 'invalid Date');
      return obj.toISOString();
    }
    if (seen.has(obj)) throw new SerializationError(what, path, 'circular reference');
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      seen.add(obj);
      const out = visit((toJSON as (key: string) => unknown).call(obj, ''), path);
      seen.delete(obj);
      return out;
    }
    if (
      obj instanceof Map ||
      obj instanceof Set ||
      obj instanceof WeakMap ||
      obj instanceof WeakSet ||
      obj instanceof RegExp ||
      obj instanceof Promise ||
      ArrayBuffer.isView(obj) ||
      obj instanceof ArrayBuffer
    ) {
      throw new SerializationError(
        what,
        path,
        `${obj.constructor.name} would not survive JSON; convert it to a plain object or array`,
      );
    }
    seen.add(obj);
    try {
      if (Array.isArray(obj)) {
        return obj.map((item: unknown, i) => {
          const out = visit(item, `${path}[${i}]`);
          if (out === undefined) {
            throw new SerializationError(what, `${path}[${i}]`, 'undefined is not valid JSON');
          }
          return out;
        });
      }
      const result: JsonObject = {};
      for (const key of Object.keys(obj)) {
        const out = visit((obj as Record<string, unknown>)[key], `${path}.${key}`);
        if (out !== undefined) setOwn(result, key, out);
      }
      return result;
    } finally {
      seen.delete(obj);
    }
  };

  const result = visit(value, '$');
  if (result === undefined) throw new SerializationError(what, '$', 'undefined is not valid JSON');
  return result;
}

/** {@link toJsonValue} for arguments that must be a JSON object (not an array or primitive). */
export function toJsonObject(value: unknown, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(what, 'must be a plain JSON object');
  }
  return toJsonValue(value, what) as JsonObject;
}

/** {@link toJsonValue} for arguments that must be a JSON array (raw messages). */
export function toJsonArray(value: unknown, what: string): JsonValue[] {
  if (!Array.isArray(value)) throw new ValidationError(what, 'must be an array');
  return toJsonValue(value, what) as JsonValue[];
}

/**
 * Sets an own enumerable property, also for the key `__proto__` (a plain assignment would
 * change the prototype instead and lose the value).
 */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** True for a non-null, non-array object. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Canonical JSON text: object keys sorted at every level, so two values that are equal as
 * data have the same text (used for comparisons, e.g. verification after migration).
 */
export function canonicalJson(value: JsonValue): string {
  const sort = (v: JsonValue): JsonValue => {
    if (Array.isArray(v)) return v.map(sort);
    if (isJsonObject(v)) {
      const out: JsonObject = {};
      for (const key of Object.keys(v).sort()) setOwn(out, key, sort(v[key] as JsonValue));
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

/**
 * Parses JSON text read back from a store. Anything that is not JSON text is a
 * {@link CorruptDataError} naming `location` (a column, key or path), so one bad record is
 * reported where it lives instead of failing somewhere later.
 */
export function parseStoredJson(text: unknown, location: string): JsonValue {
  if (typeof text !== 'string') {
    throw new CorruptDataError(location, `expected JSON text, found ${text === null ? 'NULL' : typeof text}`);
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new CorruptDataError(location, 'stored value is not valid JSON', error);
  }
}

/** {@link parseStoredJson} for values that must be a JSON object. */
export function parseStoredJsonObject(text: unknown, location: string): JsonObject {
  const value = parseStoredJson(text, location);
  if (!isJsonObject(value)) throw new CorruptDataError(location, 'stored value is not a JSON object');
  return value;
}
