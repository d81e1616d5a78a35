/**
 * JSON value types and the one place where caller values are turned into plain JSON
 * (D4): converted as `JSON.stringify` would, and anything it would not round-trip
 * faithfully is refused up front, so nothing accepted can fail to load.
 */
import { SerializationError, StorageError, ValidationError } from './errors.js';
import { canonicalJsonWithoutRecursion } from './canonical-json.js';
import { refuseOverLimit } from './json-bytes.js';
import { lossyBuiltInName } from './json-lossy.js';
import { isRangeError } from './range-error.js';
import { shownText, type ValueName, valueNameText } from './shown-text.js';

export type { ValueName };

/** A JSON primitive. */
export type JsonPrimitive = string | number | boolean | null;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * Deepest nesting of arrays and objects a stored value may have. Python's `json` cannot read
 * about 1,000 levels, so deeper values could not move to the reference; the margin leaves room
 * for the envelopes the file format wraps around memories and chains.
 */
export const MAX_JSON_DEPTH = 512;

/**
 * Converts one caller value the way `JSON.stringify` does (SerializeJSONProperty: `toJSON`
 * called once with the property key, boxed primitives unwrapped, `undefined` properties
 * dropped), refusing what it would store unfaithfully. Recursion is bounded by
 * {@link MAX_JSON_DEPTH}, so the conversion itself cannot exhaust the stack.
 *
 * It runs on every stored value, so it allocates nothing it does not return: the path of the
 * value being read is a stack of keys, written out only for an error, and a plain object or
 * array (prototype `Object.prototype`, `null` or `Array.prototype`) skips the checks for
 * classes JSON would empty, which such an object cannot be an instance of.
 */
class JsonConverter {
  private readonly ancestors = new Set<object>();
  /** Keys from the top-level value to the value being read (property names, array indexes). */
  private readonly keys: Array<string | number> = [];
  /** UTF-16 length of the strings and keys converted so far, and their count of values: see `json-bytes.ts`. */
  units = 0;
  nodes = 0;

  constructor(private readonly name: ValueName) {}

  /** What the value is, for a message (built now: only a failure asks). */
  get what(): string {
    return valueNameText(this.name);
  }

  /** Path of the value being read (`$.a[2].b`), for errors thrown by caller code (getters, toJSON, Proxies). */
  get path(): string {
    let path = '$';
    for (const key of this.keys) path += typeof key === 'number' ? `[${key}]` : `.${key}`;
    return path;
  }

  /**
   * {@link path} for a message: each property name bounded (`shownText`), so that a 1 MB name
   * cannot make the message a megabyte, while a path of many steps stays whole.
   */
  shownPath(): string {
    let path = '$';
    for (const key of this.keys) path += typeof key === 'number' ? `[${key}]` : `.${shownText(key)}`;
    return path;
  }

  /** Converts `raw`, the value of property `key` of its holder; `undefined` means "omit". */
  property(key: string | number, raw: unknown, depth: number): JsonValue | undefined {
    this.nodes += 1;
    // Primitives first: toJSON and unboxing never apply to them.
    switch (typeof raw) {
      case 'string':
        this.units += raw.length;
        return raw;
      case 'boolean':
        return raw;
      case 'number':
        if (!Number.isFinite(raw)) throw this.fail(`${raw} is not valid JSON`);
        // -0 is 0 in JSON text: a backend that keeps the converted value in memory (the file
        // backend's lists) must load what one that reads the text back loads.
        return raw === 0 ? 0 : raw;
      case 'undefined':
        return undefined;
      default:
        break;
    }
    const converted = applyToJson(raw, key, this);
    if (typeof converted === 'object' && converted !== null) {
      const proto: unknown = Object.getPrototypeOf(converted);
      // A plain object or array is no boxed primitive and no instance of a lossy class.
      if (proto === Object.prototype || proto === Array.prototype || proto === null) {
        return this.container(converted, depth + 1, true);
      }
    }
    const v = unbox(converted);
    switch (typeof v) {
      case 'string':
        this.units += v.length;
        return v;
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v)) throw this.fail(`${v} is not valid JSON`);
        return v === 0 ? 0 : v; // -0 as above
      case 'bigint':
        throw this.fail('BigInt has no JSON representation');
      case 'undefined':
        return undefined;
      case 'function':
      case 'symbol':
        throw this.fail(`a ${typeof v} has no JSON representation`);
      default:
        return v === null ? null : this.container(v as object, depth + 1, false);
    }
  }

  /** Converts an object or array; `plain`: its prototype is `Object.prototype`, `Array.prototype` or `null`. */
  private container(obj: object, depth: number, plain: boolean): JsonValue {
    if (depth > MAX_JSON_DEPTH) {
      throw new ValidationError(
        this.what,
        `nested deeper than the limit of ${MAX_JSON_DEPTH} levels at ${this.shownPath()}`,
      );
    }
    const isArray = Array.isArray(obj);
    // A typed array or DataView is refused whatever its prototype: its data lives outside its
    // properties. Other built-ins JSON would empty are found by their prototype (json-lossy.ts).
    const lossy = ArrayBuffer.isView(obj)
      ? (obj.constructor?.name ?? 'ArrayBufferView')
      : plain
        ? undefined
        : lossyBuiltInName(obj);
    if (lossy !== undefined) {
      throw this.fail(`${lossy} would not survive JSON; convert it to a plain object or array`);
    }
    if (this.ancestors.has(obj)) throw this.fail('circular reference');
    this.ancestors.add(obj);
    const keys = this.keys;
    let result: JsonValue;
    if (isArray) {
      const items = obj as unknown[];
      const out: JsonValue[] = [];
      for (let i = 0; i < items.length; i += 1) {
        keys.push(i);
        const item = this.property(i, items[i], depth);
        if (item === undefined) throw this.fail('undefined is not valid JSON');
        keys.pop();
        out.push(item);
      }
      result = out;
    } else {
      const out: JsonObject = {};
      for (const key of Object.keys(obj)) {
        this.units += key.length;
        keys.push(key);
        const item = this.property(key, (obj as Record<string, unknown>)[key], depth);
        keys.pop();
        if (item !== undefined) setOwn(out, key, item);
      }
      result = out;
    }
    this.ancestors.delete(obj);
    return result;
  }

  /** The error for an invalid `Date` at the value being read. */
  invalidDate(): SerializationError {
    return this.fail('invalid Date');
  }

  /** The error for the value being read (the keys stack is left as it was at the failure). */
  private fail(reason: string): SerializationError {
    return new SerializationError(this.what, this.path, reason);
  }
}

/** `value.toJSON(key)` when it has one, as JSON.stringify calls it (once, not on its result; an index as a string). */
function applyToJson(value: unknown, key: string | number, converter: { invalidDate(): Error }): unknown {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'bigint') return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON !== 'function') return value;
  // JSON.stringify writes null for an invalid Date; refusing keeps that loss visible (D4).
  if (toJSON === Date.prototype.toJSON && value instanceof Date && Number.isNaN(value.getTime())) {
    throw converter.invalidDate();
  }
  return (toJSON as (key: string) => unknown).call(value, String(key));
}

/** Unwraps `new Number(1)`, `new String('x')`, `new Boolean(false)`, `Object(1n)` and `Object(Symbol())`. */
function unbox(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Number) return Number(value);
  if (value instanceof String) return String(value);
  if (value instanceof Boolean) return value.valueOf();
  if (value instanceof BigInt) return value.valueOf();
  // JSON.stringify writes a boxed symbol as {}; unwrapped, it is refused like a symbol.
  if (value instanceof Symbol) return value.valueOf();
  return value;
}

/**
 * Converts the top-level `value`, refusing one whose JSON text passes `MAX_JSON_BYTES`; anything
 * but a {@link StorageError} thrown by caller code is wrapped.
 */
function convert(value: unknown, what: ValueName): JsonValue | undefined {
  const converter = new JsonConverter(what);
  try {
    const result = converter.property('', value, 0);
    refuseOverLimit(result, converter.units, converter.nodes, what);
    return result;
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new SerializationError(
      valueNameText(what),
      converter.path,
      `reading the value threw ${describeThrown(error)}`,
      error,
    );
  }
}

/** `name: message` of something thrown by caller code, without running more of its code. */
function describeThrown(error: unknown): string {
  if (!(error instanceof Error)) return 'a non-Error value';
  try {
    return `${String(error.name)}: ${String(error.message)}`;
  } catch {
    return 'an Error';
  }
}

/** What a converted top-level value is, for "must be an object" messages. */
function kindOf(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing (undefined)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Refuses a primitive argument before conversion (shape errors are ValidationErrors, D4 errors are not). */
function requireObjectArgument(value: unknown, what: ValueName, expected: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new ValidationError(valueNameText(what), `must be ${expected}`);
  }
}

/**
 * Returns a deep, plain-JSON copy of `value`, converted exactly as `JSON.stringify` would
 * (`toJSON` called with the property key, `Date` as its ISO string, boxed primitives
 * unwrapped, `undefined` properties dropped, `-0` as `0`). Throws {@link SerializationError} naming the
 * path for what JSON would not round-trip faithfully (BigInt, NaN, ±Infinity, cycles,
 * functions, symbols, `undefined` array items, Map/Set-like objects, invalid dates) or when
 * a getter, Proxy or `toJSON` throws (the thrown value is the `cause`), and
 * {@link ValidationError} for nesting deeper than {@link MAX_JSON_DEPTH} or JSON text longer than
 * `MAX_JSON_BYTES` UTF-8 bytes.
 */
export function toJsonValue(value: unknown, what: ValueName): JsonValue {
  const result = convert(value, what);
  if (result === undefined) {
    throw new SerializationError(valueNameText(what), '$', 'undefined is not valid JSON');
  }
  return result;
}

/**
 * {@link toJsonValue} for arguments that must be a JSON object: a value that converts to
 * anything else (a `Date` becomes a string) is a {@link ValidationError}.
 */
export function toJsonObject(value: unknown, what: ValueName): JsonObject {
  requireObjectArgument(value, what, 'a plain JSON object');
  const result = convert(value, what);
  if (!isJsonObject(result)) {
    throw new ValidationError(
      valueNameText(what),
      `must be a plain JSON object, but converts to ${kindOf(result)} in JSON`,
    );
  }
  return result;
}

/** {@link toJsonValue} for arguments that must be a JSON array (raw messages). */
export function toJsonArray(value: unknown, what: ValueName): JsonValue[] {
  requireObjectArgument(value, what, 'an array');
  const result = convert(value, what);
  if (!Array.isArray(result)) {
    throw new ValidationError(
      valueNameText(what),
      `must be an array, but converts to ${kindOf(result)} in JSON`,
    );
  }
  return result;
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
  try {
    return JSON.stringify(sort(value));
  } catch (error) {
    // A stack overflow: a value nested too deep.
    if (!isRangeError(error)) throw error;
    return canonicalJsonWithoutRecursion(value);
  }
}
